// The real TUI when its engine goes away underneath it (tmux, the real binary, the simulator):
// an attached TUI reconnects to the engine started next and shows live data again; with no
// engine coming back it ends cleanly with a message; an embedded TUI whose engine is stopped
// from another terminal ends cleanly with a message and gives the terminal back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ping } from '../../app/control/client.js';
import { cli, ROOT } from '../helpers/cli.js';
import { TmuxSession } from './tmux.js';
import { isSim, killState, realState, vmList, waitUntil, type RealState } from './fixtures/real-engine.js';

const VM = `rc${process.pid % 10000}`;
let t: RealState;
let s: TmuxSession | null = null;
let launches = 0;

function step(title: string, fn: () => Promise<void>): void {
  test(title, async () => {
    try {
      await fn();
    } catch (err) {
      s?.saveAll();
      throw err;
    }
  });
}

const row = (screen: string, name: string): string => screen.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
function launch(env: Record<string, string> = {}): TmuxSession {
  s?.kill();
  s = TmuxSession.start(`banger-reconnect-${process.pid}-${++launches}`, t.cmd, {
    width: 120,
    height: 35,
    env: { ...t.env, ...env },
    cwd: ROOT,
  });
  return s;
}
const engineGone = () =>
  waitUntil(async () => (await ping(t.paths.controlSocket, { timeoutMs: 300 })) === null, 15_000, 'the engine to stop');

test.before(async () => {
  t = await realState('banger-tui-reconnect-');
});

test.after(async () => {
  s?.kill();
  if (!t) return;
  await cli(['engine', 'stop'], t.env).catch(() => null);
  killState(t.root);
  t.cleanup();
});

step('attached: `banger engine stop` then `banger --detach` elsewhere -> the TUI reconnects, live again', async () => {
  for (const args of [
    ['vm', 'create', VM],
    ['vm', 'start', VM],
  ]) {
    const r = await cli(args, t.env);
    assert.is(r.code, 0, r.stderr);
  }
  const first = (await ping(t.paths.controlSocket, { timeoutMs: 1000 }))!.pid;
  // A longer window than the 5 s default: starting an engine from source takes 2-4 s here,
  // more on a loaded host.
  const x = launch({ BANGER_RECONNECT_MS: '10000' });
  await x.waitFor((v) => /running/.test(row(v, VM)) && v.includes('[attached]'), 15_000, 'attached-table');
  const vmPid = (await vmList(t.env))[0]!.pid;
  const t0 = Date.now();
  const stop = await cli(['engine', 'stop'], t.env);
  assert.is(stop.code, 0, stop.stderr);
  await x.waitFor('reconnecting', 5000, 'reconnecting-note');
  const d = await cli(['--detach'], t.env);
  assert.is(d.code, 0, d.stderr);
  const second = (await ping(t.paths.controlSocket, { timeoutMs: 1000 }))!.pid;
  assert.is.not(second, first, 'a new engine');
  const screen = await x.waitFor((v) => v.includes(`connected to the engine (pid ${second})`), 15_000, 'reconnected');
  console.log(`  reconnected ${Date.now() - t0} ms after engine stop began`);
  assert.match(screen, /\[attached\]/);
  assert.match(row(screen, VM), /running/);
  assert.ok(isSim(vmPid), 'the VM kept running (adopted)');
  // Live: events from the new engine reach the table, and actions go to it.
  const r = await cli(['vm', 'stop', VM], t.env);
  assert.is(r.code, 0, r.stderr);
  await x.waitFor((v) => /stopped/.test(row(v, VM)), 10_000, 'stopped-by-event');
  x.keys('s');
  await x.waitFor((v) => /running/.test(row(v, VM)), 15_000, 'started-from-tui');
  // The console works through the new connection.
  x.keys('o');
  await x.waitFor(
    (v) => v.includes(`Console ${VM} (running)`) && v.includes('Welcome to banger (simulated guest)'),
    10_000,
    'console',
  );
  x.keys('Escape');
});

step('attached: the engine stops and none comes back -> the TUI ends with a message', async () => {
  const x = s!;
  await x.waitFor((v) => row(v, VM) !== '', 5000, 'table');
  const stop = await cli(['engine', 'stop'], t.env);
  assert.is(stop.code, 0, stop.stderr);
  const t0 = Date.now();
  const screen = await x.waitFor(/\[exited 0\]/, 20_000, 'exited');
  assert.ok(Date.now() - t0 >= 8000, 'it looked for an engine for the whole window first');
  assert.match(screen, /none answers on its socket: run banger again/);
  assert.not.match(screen, /\[attached\]/, 'the TUI is gone from the terminal');
});

step('embedded: `banger engine stop` elsewhere -> the TUI exits cleanly with a message', async () => {
  await engineGone();
  const x = launch();
  await x.waitFor((v) => row(v, VM) !== '' && v.includes('[embedded]'), 15_000, 'embedded-table');
  const stop = await cli(['engine', 'stop'], t.env);
  assert.is(stop.code, 0, stop.stderr);
  const screen = await x.waitFor(/\[exited 0\]/, 10_000, 'exited');
  assert.match(screen, /banger: the engine was stopped from elsewhere/);
  assert.not.match(screen, /\[embedded\]|VMs \d/, 'the TUI is gone from the terminal');
  assert.is(await ping(t.paths.controlSocket, { timeoutMs: 300 }), null);
});

step('embedded: a newer build takes over -> the TUI follows it, attached', async () => {
  const x = launch();
  await x.waitFor((v) => row(v, VM) !== '' && v.includes('[embedded]'), 15_000, 'embedded-table');
  const newer = { ...t.env, BANGER_BUILD_ID: `${t.env.BANGER_BUILD_ID}-newer` };
  const r = await cli(['vm', 'ls'], newer);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /handing over/);
  const hello = await ping(t.paths.controlSocket, { timeoutMs: 1000 });
  assert.is(hello?.buildId, newer.BANGER_BUILD_ID);
  const screen = await x.waitFor((v) => v.includes(`connected to the engine (pid ${hello!.pid})`), 15_000, 'followed');
  assert.match(screen, /\[attached\]/);
  assert.ok(row(screen, VM) !== '');
  // Attached now: q quits at once and leaves the new engine up.
  x.keys('q');
  const end = await x.waitFor(/\[exited 0\]/, 10_000, 'exited');
  assert.not.match(end, /leave the engine/);
  assert.is((await ping(t.paths.controlSocket, { timeoutMs: 1000 }))?.pid, hello!.pid);
  await cli(['engine', 'stop'], newer);
});

test.run();
