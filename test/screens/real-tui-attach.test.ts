// The real TUI and the engine's lifetimes: quitting an embedded TUI with "leave running" hands
// the VMs to a detached engine that adopts them; bare `banger` then attaches to that engine
// (header says attached) and the same screens work; quitting an attached TUI asks nothing and
// leaves the engine up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ping } from '../../app/control/client.js';
import { cli, ROOT } from '../helpers/cli.js';
import { TmuxSession } from './tmux.js';
import { isSim, killState, realState, vmList, waitUntil, type RealState } from './fixtures/real-engine.js';

const VM = `ra${process.pid % 10000}`;
const VM2 = `${VM}b`;
let t: RealState;
let s: TmuxSession | null = null;
let vmPid: number | null = null;
let enginePid = 0;

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
let launches = 0;
function launch(): TmuxSession {
  s?.kill();
  s = TmuxSession.start(`banger-attach-${process.pid}-${++launches}`, t.cmd, {
    width: 120,
    height: 35,
    env: t.env,
    cwd: ROOT,
  });
  return s;
}

test.before(async () => {
  t = await realState('banger-tui-attach-');
});

test.after(async () => {
  s?.kill();
  if (!t) return;
  await cli(['engine', 'stop'], t.env).catch(() => null);
  killState(t.root);
  t.cleanup();
});

step('embedded: a VM created and started through the TUI runs', async () => {
  const x = launch();
  await x.waitFor((v) => v.includes('No VMs. Press c') && v.includes('[embedded]'), 15_000, 'table');
  x.keys('c');
  await x.waitFor('create VM', 5000, 'form');
  x.type(VM);
  x.keys('Enter');
  await x.waitFor((v) => /created/.test(row(v, VM)), 10_000, 'created');
  x.keys('s');
  await x.waitFor((v) => /running/.test(row(v, VM)), 15_000, 'running');
  vmPid = (await vmList(t.env))[0]!.pid;
  assert.ok(isSim(vmPid));
});

step('quit -> "leave running": a detached engine answers and has adopted the running VM', async () => {
  const x = s!;
  x.keys('q');
  await x.waitFor('leave the engine and VMs running', 5000, 'quit-question');
  x.keys('l');
  const screen = await x.waitFor(/\[exited 0\]/, 20_000, 'exited');
  const m = /keeps running in the background \(pid (\d+)\)/.exec(screen);
  assert.ok(m, 'the TUI says where the engine went');
  enginePid = Number(m![1]);
  // Ask the socket directly first: `banger status` would start an engine if none ran.
  const hello = await ping(t.paths.controlSocket, { timeoutMs: 1000 });
  assert.is(hello?.mode, 'detached');
  assert.is(hello?.pid, enginePid);
  const st = await cli(['status', '--json'], t.env);
  assert.is(st.code, 0, st.stderr);
  assert.not.match(st.stderr, /started the engine/);
  const status = JSON.parse(st.stdout);
  assert.is(status.pid, enginePid);
  assert.is(status.mode, 'detached');
  assert.is(status.vms.running, 1);
  // The same VMM process, adopted rather than restarted.
  const [vm] = await vmList(t.env);
  assert.is(vm?.state, 'running');
  assert.is(vm?.pid, vmPid);
  assert.ok(isSim(vmPid));
  assert.match(readFileSync(t.paths.engineLog, 'utf8'), new RegExp(`"adopted":\\["${VM}"\\]`));
});

step('`banger --detach` finds that engine; bare `banger` attaches to it', async () => {
  const d = await cli(['--detach'], t.env);
  assert.is(d.code, 0, d.stderr);
  assert.match(d.stdout, new RegExp(`already running: pid ${enginePid}\\b`));
  const x = launch();
  const screen = await x.waitFor((v) => /running/.test(row(v, VM)), 15_000, 'attached-table');
  assert.match(screen, /\[attached\]/);
  assert.not.match(screen, /\[embedded\]/);
  assert.match(screen, /VMs 1: 1 running/);
  assert.is((await ping(t.paths.controlSocket, { timeoutMs: 1000 }))?.pid, enginePid, 'no second engine');
});

step('attached: the console of the adopted VM shows its boot output and a typed line comes back', async () => {
  const x = s!;
  x.keys('o');
  await x.waitFor(
    (v) => v.includes(`Console ${VM} (running)`) && v.includes('Welcome to banger (simulated guest)'),
    10_000,
    'console',
  );
  x.keys('i');
  await x.waitFor('INPUT', 5000, 'input-mode');
  x.type('echo attached-echo-77');
  x.keys('Enter');
  await x.waitFor((v) => v.split('\n').some((l) => /^│attached-echo-77\s*│$/.test(l)), 8000, 'echo');
  x.keys('C-]');
  await x.waitFor((v) => !v.includes('INPUT'), 5000, 'input-left');
  x.keys('Escape');
  await x.waitFor((v) => row(v, VM) !== '', 5000, 'back');
});

step('attached: stop, start again, create and delete through the same screens', async () => {
  const x = s!;
  x.keys('x');
  await x.waitFor((v) => /stopped/.test(row(v, VM)), 15_000, 'stopped');
  await waitUntil(() => !isSim(vmPid), 5000, 'the adopted VMM to exit');
  x.keys('s');
  await x.waitFor((v) => /running/.test(row(v, VM)), 15_000, 'running-again');
  const [vm] = await vmList(t.env);
  assert.ok(isSim(vm?.pid) && vm?.pid !== vmPid, 'a new VMM');
  vmPid = vm!.pid;

  x.keys('c');
  await x.waitFor('create VM', 5000, 'form');
  x.type(VM2);
  x.keys('Enter');
  const created = await x.waitFor((v) => /created/.test(row(v, VM2)), 10_000, 'created-2');
  // The cursor moved to the new VM (the next key acts on it, not on the running one).
  assert.match(created, new RegExp(`┌─ ${VM2} ─`));
  x.keys('d');
  await x.waitFor(`Delete VM ${VM2}`, 5000, 'confirm');
  x.keys('y');
  await x.waitFor((v) => row(v, VM2) === '' && row(v, VM) !== '', 10_000, 'deleted-2');
  assert.equal(
    (await vmList(t.env)).map((v) => v.name),
    [VM],
  );
});

step('attached: q quits at once and the engine and VM keep running', async () => {
  const x = s!;
  x.keys('q');
  const screen = await x.waitFor(/\[exited 0\]/, 10_000, 'exited');
  assert.not.match(screen, /leave the engine/);
  const hello = await ping(t.paths.controlSocket, { timeoutMs: 1000 });
  assert.is(hello?.pid, enginePid);
  assert.ok(isSim(vmPid));
});

test.run();
