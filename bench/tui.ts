// TUI bench: first frame time and key-press-to-frame time with 1,000 VMs in the table.
// Run: node --import tsx bench/tui.ts   (targets: first frame <= 300 ms, key-to-frame <= 16 ms)
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';

const tLoad = performance.now(); // ms since process start, before the TUI modules load
process.env.TERM = 'xterm-256color';

const { runTui } = await import('../app/screens/tui.js');
const { FakeEngine } = await import('../test/helpers/fake-engine.js');

function fakeTty(cols: number, rows: number): { input: PassThrough; output: Writable; bytes: () => number } {
  let bytes = 0;
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        bytes += chunk.length;
        cb();
      },
    }),
    { isTTY: true, columns: cols, rows },
  );
  return { input, output, bytes: () => bytes };
}

const engine = new FakeEngine();
engine.seed(1000);
const tty = fakeTty(120, 35);
let firstFrameAt = 0;
const handle = await runTui(engine, {
  mode: 'embedded',
  onQuit: async () => {},
  input: tty.input,
  output: tty.output,
  onFirstFrame: () => {
    firstFrameAt = performance.now();
  },
});
while (!firstFrameAt) await new Promise((r) => setImmediate(r));

const screen = handle.screen;
const nextRender = () => new Promise<number>((resolve) => screen.once('render', () => resolve(performance.now())));
async function pressTimes(ch: string, name: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const done = nextRender();
    const t = performance.now();
    screen.program.emit('keypress', ch, { name, full: name, sequence: ch });
    out.push((await done) - t);
  }
  return out;
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1]! };
};

await pressTimes('j', 'j', 20); // warm-up
const down = stats(await pressTimes('j', 'j', 300));
const page = stats(await pressTimes('', 'pagedown', 50));
const tab = stats(await pressTimes('\t', 'tab', 50));

// An event storm: 1,000 VM updates in one tick must still give one frame.
let renders = 0;
screen.on('render', () => renders++);
const vms = await engine.listVms();
const tStorm = performance.now();
const storm = nextRender();
for (const vm of vms)
  (engine as unknown as { emit(e: unknown): void }).emit({ type: 'vm', vm: { ...vm, vcpus: vm.vcpus + 1 } });
const stormMs = (await storm) - tStorm;
await new Promise((r) => setTimeout(r, 250)); // let the throttled refetch land
const fmt = (n: number) => n.toFixed(2).padStart(7);

handle.destroy();
engine.dispose();

let external: number | null = null;
if (!process.argv.includes('--no-tmux')) {
  try {
    const { TmuxSession } = await import('../test/screens/tmux.js');
    const t0 = performance.now();
    const s = TmuxSession.start(
      `banger-bench-${process.pid}`,
      'node --import tsx test/screens/fixtures/run-fake-tui.ts',
      { env: { FAKE_VMS: '1000' } },
    );
    await s.waitFor('vm-0000', 15000, 'first-frame');
    external = performance.now() - t0;
    s.kill();
  } catch (err) {
    process.stderr.write(`tmux measurement skipped: ${err instanceof Error ? err.message.split('\n')[0] : err}\n`);
  }
}

const firstFromLoad = firstFrameAt - tLoad;
console.log('banger TUI bench (1,000 VMs, 120x35, fake engine)');
console.log(`first frame, process start -> frame:      ${fmt(firstFrameAt)} ms`);
console.log(
  `first frame, TUI module load -> frame:    ${fmt(firstFromLoad)} ms   (target <= 300) ${firstFromLoad <= 300 ? 'OK' : 'OVER'}`,
);
if (external !== null) console.log(`first frame via tmux (spawn+tsx+frame):   ${fmt(external)} ms`);
console.log(
  `key -> frame, j (down)    median ${fmt(down.median)}  p95 ${fmt(down.p95)}  max ${fmt(down.max)} ms   (target <= 16) ${down.p95 <= 16 ? 'OK' : 'OVER'}`,
);
console.log(`key -> frame, PgDn        median ${fmt(page.median)}  p95 ${fmt(page.p95)}  max ${fmt(page.max)} ms`);
console.log(`key -> frame, Tab         median ${fmt(tab.median)}  p95 ${fmt(tab.p95)}  max ${fmt(tab.max)} ms`);
console.log(`1,000 vm events in one tick -> frame:     ${fmt(stormMs)} ms; renders in the next 250 ms: ${renders}`);
process.exit(0);
