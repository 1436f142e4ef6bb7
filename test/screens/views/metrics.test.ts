// The dashboard over a headless terminal: it costs nothing while hidden (no chart exists, no
// setData, no canvas render, no metrics() call), draws once from the snapshot on show, then
// follows the stream at most once a second.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PassThrough, Writable } from 'node:stream';
import contrib from 'blessed-contrib';
import { runTui, type TuiInternals } from '../../../app/screens/tui.js';
import type { MetricsView } from '../../../app/screens/views/metrics.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

process.env.TERM = 'xterm-256color';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Spies on the contrib chart prototypes: every chart the dashboard makes goes through these.
const calls = { lineSetData: 0, gaugeSetPercent: 0, canvasRender: 0 };
type Proto = Record<string, (...a: unknown[]) => unknown>;
function spy(proto: Proto, method: string, key: keyof typeof calls): void {
  const orig = proto[method]!;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    calls[key]++;
    return orig.apply(this, a);
  };
}
spy((contrib.line as unknown as { prototype: Proto }).prototype, 'setData', 'lineSetData');
spy((contrib.gauge as unknown as { prototype: Proto }).prototype, 'setPercent', 'gaugeSetPercent');
spy((contrib.canvas as unknown as { prototype: Proto }).prototype, 'render', 'canvasRender');
const snapshotCalls = () => ({ ...calls });

function fakeTty(cols: number, rows: number) {
  let out = '';
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    }),
    { isTTY: true, columns: cols, rows },
  );
  return {
    input,
    output,
    text: () => out,
    reset: () => {
      out = '';
    },
  };
}

let engine: FakeEngine;
let handle: TuiInternals;
let tty: ReturnType<typeof fakeTty>;
/** metrics() calls before the dashboard was ever shown (the data model seeds itself once). */
let base = 0;
const press = (ch: string) => handle.screen.program.emit('keypress', ch, { name: ch, full: ch, sequence: ch });
const dash = () => handle.app.views.metrics as MetricsView;

test.before(async () => {
  engine = new FakeEngine();
  engine.seed(3);
  tty = fakeTty(100, 30);
  handle = await runTui(engine, { mode: 'embedded', onQuit: async () => {}, input: tty.input, output: tty.output });
  await sleep(50);
  base = engine.metricsCalls;
});
test.after(() => {
  handle?.destroy();
  engine?.dispose();
});

test('hidden: 30 samples cost no setData, no canvas render and no metrics() call', async () => {
  const before = snapshotCalls();
  const metricsBefore = engine.metricsCalls;
  for (let i = 0; i < 30; i++) {
    engine.sampleMetrics();
    await sleep(2);
  }
  await sleep(30);
  assert.equal(snapshotCalls(), before);
  assert.is(engine.metricsCalls, metricsBefore);
  assert.is(dash().draws, 0);
  assert.is(dash().root.children.length, 0, 'no chart widgets exist while hidden');
  // The VM table did follow the stream: the CPU column has the latest sample.
  const latest = handle.app.data.metrics.latest('id-0');
  assert.ok(latest, 'data model has the latest sample');
});

test('shown: one snapshot, a draw with real data, then at most one draw per second', async () => {
  press('6');
  assert.is(handle.app.current, 'metrics');
  await sleep(100);
  assert.is(engine.metricsCalls, base + 1, 'one metrics() snapshot on show');
  assert.is(dash().draws, 1);
  assert.ok(calls.lineSetData >= 2 && calls.gaugeSetPercent >= 2, JSON.stringify(calls));
  assert.ok(calls.canvasRender > 0, 'charts rendered');
  // The screen as drawn (blessed's cell buffer): the raw output may skip cells an earlier frame
  // (the dashboard's "loading" frame while blessed-contrib loads) already holds.
  const drawn = (handle.screen as unknown as { lines: [unknown, string][][] }).lines
    .map((l) => l.map((c) => c[1]).join(''))
    .join('\n');
  assert.ok(drawn.includes('host CPU'), 'cpu chart label on the terminal');
  assert.ok(drawn.includes('memory used'), 'gauge label on the terminal');
  // A stream of samples every 50 ms for 2.2 s: the throttle allows about 3 more draws.
  const t0 = Date.now();
  while (Date.now() - t0 < 2200) {
    engine.sampleMetrics();
    await sleep(50);
  }
  await sleep(50);
  const d = dash().draws;
  assert.ok(d >= 3 && d <= 4, `draws ${d} in ~2.2 s`);
  assert.is(calls.lineSetData, d * 2, 'two line charts per draw');
});

test('hidden again: charts are gone and the stream costs nothing', async () => {
  press('1');
  assert.is(handle.app.current, 'vms');
  await sleep(20);
  const before = snapshotCalls();
  const draws = dash().draws;
  for (let i = 0; i < 20; i++) {
    engine.sampleMetrics();
    await sleep(5);
  }
  await sleep(1100); // past any trailing throttle timer
  assert.equal(snapshotCalls(), before);
  assert.is(dash().draws, draws);
  assert.is(dash().root.children.length, 0);
  assert.is(engine.metricsCalls, base + 1);
});

test(':metrics opens it again from a fresh snapshot', async () => {
  press(':');
  for (const c of 'metrics') press(c);
  handle.screen.program.emit('keypress', '\r', { name: 'enter', full: 'enter', sequence: '\r' });
  await sleep(100);
  assert.is(handle.app.current, 'metrics');
  assert.is(engine.metricsCalls, base + 2);
  assert.ok(dash().root.children.length >= 5);
});

test.run();
