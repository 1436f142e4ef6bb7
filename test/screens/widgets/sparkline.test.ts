import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { VmSample } from '../../../app/contract/api.js';
import {
  gaugePercent,
  formatRate,
  sparkline,
  SPARK_BLOCKS,
  vmMetricLines,
} from '../../../app/screens/widgets/sparkline.js';
import { visibleLength } from '../../../app/screens/widgets/table.js';

const strip = (t: string) => t.replace(/\{\/?[\w\-,;!#]*\}/g, '');

test('sparkline scales to the max and has a fixed width', () => {
  assert.is(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), '▁▂▃▄▅▆▇█');
  assert.is(sparkline([0, 50, 100], 3), '▁▅█'); // 50/100*7 = 3.5 -> level 4
  assert.is(sparkline([10, 10, 10], 3), '███');
  // An explicit max: 50 of 100 is half height, not full.
  assert.is(sparkline([50, 50], 2, 100), '▅▅');
  // Values above the given max are clipped to the top block.
  assert.is(sparkline([300], 1, 100), '█');
});

test('sparkline pads short histories on the left and keeps only the newest values', () => {
  assert.is(sparkline([1, 2], 5), '   ▅█');
  assert.is(sparkline([], 4), '    ');
  assert.is(sparkline([9, 9, 9, 0, 8], 2), '▁█'); // the last two only
  for (const w of [0, 1, 7, 40]) assert.is([...sparkline([3, 1, 4, 1, 5, 9, 2, 6], w)].length, w);
});

test('sparkline treats bad values as zero and a zero scale as the lowest block', () => {
  assert.is(sparkline([NaN, -5, Infinity, 0], 4), '▁▁▁▁');
  assert.is(sparkline([NaN, 4], 2), '▁█');
  assert.is(sparkline([0, 0], 2, 0), '▁▁');
  for (const ch of sparkline([1, 5, 2, 8, 3], 5)) assert.ok(SPARK_BLOCKS.includes(ch));
});

test('gaugePercent dodges the gauge reading values below 1.001 as fractions', () => {
  assert.is(gaugePercent(0), 0);
  assert.is(gaugePercent(0.4), 0);
  assert.is(gaugePercent(0.8), 1.002); // shown as 1%, not 80%
  assert.is(gaugePercent(1), 1.002);
  assert.is(gaugePercent(42.4), 42);
  assert.is(gaugePercent(250), 100);
  assert.is(gaugePercent(NaN), 0);
});

const sample = (i: number, p: Partial<VmSample> = {}): VmSample => ({
  vmId: 'id1',
  name: 'dev',
  at: 1_000_000 + i * 1000,
  cpuPct: i * 10,
  rssBytes: 100 << 20,
  rxBytes: 0,
  txBytes: 0,
  rxBps: i * 1024,
  txBps: 0,
  diskBytes: 1 << 30,
  ...p,
});

test('vmMetricLines: cpu/rss and rx/tx lines with current values, fitting the width', () => {
  assert.equal(vmMetricLines([], 80), []);
  const hist = Array.from({ length: 30 }, (_, i) => sample(i));
  for (const w of [40, 77, 117]) {
    const lines = vmMetricLines(hist, w);
    assert.is(lines.length, 2);
    for (const l of lines) assert.ok(visibleLength(l) <= w, `${visibleLength(l)} <= ${w}`);
  }
  const [cpu, net] = vmMetricLines(hist, 77).map(strip);
  assert.match(cpu!, /^cpu\s+\S+ 290%\s+rss\s+\S+ 100M/);
  assert.match(net!, /^rx\s+\S+ 29K\/s\s+tx\s+\S+ 0B\/s/);
  // CPU is scaled to at least one core: 10% of one core is a low block, not a full one.
  const idle = vmMetricLines([sample(0, { cpuPct: 10 }), sample(1, { cpuPct: 10 })], 77)
    .map(strip)[0]!
    .split('rss')[0]!;
  assert.ok(idle.includes('▂▂') && !idle.includes('█'), idle);
  assert.is(formatRate(1536), '1.5K/s');
});

test.run();
