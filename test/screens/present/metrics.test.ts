import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HostSample } from '../../../app/contract/api.js';
import { VM_STATES } from '../../../app/contract/api.js';
import { cpuSeries, dnsSeries, hostSummary, memGauges, stateLines } from '../../../app/screens/present/metrics.js';
import { visibleLength } from '../../../app/screens/widgets/table.js';

const G = 1024 ** 3;
const h = (i: number, p: Partial<HostSample> = {}): HostSample => ({
  at: 1_000_000 + i * 1000,
  cpuPct: i,
  memTotalBytes: 16 * G,
  memUsedBytes: 4 * G,
  memCommittedBytes: 2 * G,
  vmsByState: { created: 1, starting: 0, running: 3, paused: 0, stopping: 0, stopped: 2, error: 0 },
  dnsQps: { vm: i, forwarded: 1 },
  ...p,
});

test('cpu series: the last N points, relative time labels, at least two points', () => {
  const hist = Array.from({ length: 10 }, (_, i) => h(i));
  const s = cpuSeries(hist, 4);
  assert.equal(s.y, [6, 7, 8, 9]);
  assert.equal(s.x, ['-3.0s', '-2.0s', '-1.0s', '0s']); // a short window: tenths
  const long = Array.from({ length: 40 }, (_, i) => h(i));
  assert.equal(cpuSeries(long, 40).x.slice(0, 2), ['-39s', '-38s']);
  assert.equal(cpuSeries([h(5)], 60).y, [5, 5]); // one sample drawn flat
  assert.equal(cpuSeries([], 60).y, [0, 0]);
  assert.equal(cpuSeries([h(0, { cpuPct: 140 }), h(1, { cpuPct: NaN })], 60).y, [100, 0]);
});

test('dns series: one line per answer kind, a scale that is never zero', () => {
  const hist = [h(0, { dnsQps: {} }), h(1, { dnsQps: { vm: 10 } }), h(2, { dnsQps: { vm: 5, nxdomain: 2 } })];
  const d = dnsSeries(hist, 60);
  assert.equal(
    d.series.map((s) => s.title),
    ['nxdomain', 'vm'],
  );
  assert.equal(d.series[1]!.y, [0, 10, 5]);
  assert.equal(d.series[0]!.y, [0, 0, 2]);
  assert.is(d.maxY, 12);
  assert.not.equal(d.series[0]!.style.line, d.series[1]!.style.line);
  const none = dnsSeries([h(0, { dnsQps: {} })], 60);
  assert.equal(
    none.series.map((s) => s.title),
    ['none'],
  );
  assert.is(none.maxY, 1);
});

test('memory gauges: used and committed vs total; overcommit clamps the gauge, not the label', () => {
  const m = memGauges(h(0));
  assert.is(m.used.percent, 25);
  assert.match(m.used.label, /4G of 16G/);
  assert.is(m.committed.percent, 13);
  assert.match(m.committed.label, /2G \(13%\)/);
  const over = memGauges(h(0, { memCommittedBytes: 32 * G }));
  assert.is(over.committed.percent, 100);
  assert.match(over.committed.label, /\(200%\)/);
  assert.is(memGauges(undefined).used.percent, 0);
});

test('state lines: every state, bars scaled to the largest count, within the width', () => {
  const lines = stateLines(h(0).vmsByState, 30);
  assert.is(lines.length, VM_STATES.length);
  const plain = lines.map((l) => l.replace(/\{\/?[\w\-,;!#]*\}/g, ''));
  const running = plain.find((l) => l.startsWith('running'))!;
  const stopped = plain.find((l) => l.startsWith('stopped'))!;
  assert.match(running, /^running\s+3 █+$/);
  assert.ok(running.split('█').length - 1 > stopped.split('█').length - 1);
  assert.match(
    plain.find((l) => l.startsWith('error'))!,
    /^error\s+0 $/,
  );
  for (const l of lines) assert.ok(visibleLength(l) <= 30);
  assert.match(hostSummary(h(7)), /cpu 7%.*3 running/);
  assert.is(hostSummary(undefined), 'waiting for samples…');
});

test.run();
