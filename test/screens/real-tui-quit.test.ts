// Quitting the real TUI (bin/banger, embedded engine, the Firecracker simulator) with a paused
// VM that has a snapshot (issue 25 #1, #2): q asks about the paused VM, and the process exits.
// Before that, the Images screen shows the build another engine made (#4).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ping } from '../../app/control/client.js';
import { ROOT } from '../helpers/cli.js';
import { TmuxSession } from './tmux.js';
import {
  killState,
  realState,
  stateProcs,
  describeProcs,
  storedVms,
  waitUntil,
  type RealState,
} from './fixtures/real-engine.js';

const VM = `qp${process.pid % 10000}`;
let t: RealState;
let s: TmuxSession;
const row = (screen: string): string => screen.split('\n').find((l) => l.startsWith(`${VM} `)) ?? '';

test.before(async () => {
  t = await realState('banger-tui-quit-');
  s = TmuxSession.start(`banger-quit-${process.pid}`, t.cmd, { width: 120, height: 35, env: t.env, cwd: ROOT });
});

test.after(async () => {
  s?.kill();
  if (!t) return;
  killState(t.root);
  t.cleanup();
});

test('the Images screen lists the image build the setup engine made (history kept in the store)', async () => {
  try {
    await s.waitFor('No VMs. Press c', 15_000, 'table');
    s.keys('3');
    const screen = await s.waitFor((x) => x.includes('IMAGE') && x.includes('KERNEL'), 5000, 'images');
    const build = await s
      .waitFor((x) => /image\s+default\s+.*done (just now|\d+ s ago)/.test(x), 5000, 'build-row')
      .catch(() => screen);
    assert.not.match(build, /No builds yet/);
    assert.match(build, /image\s+default\s+.*done (just now|\d+ s ago)/);
    s.keys('1');
    await s.waitFor('No VMs. Press c', 5000, 'back');
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test('start, pause, snapshot, q: the paused VM is asked about, and "stop all" exits', async () => {
  try {
    await s.waitFor('No VMs. Press c', 15_000, 'table');
    s.keys('c');
    await s.waitFor('create VM', 5000, 'form');
    s.type(VM);
    s.keys('Enter');
    await s.waitFor((x) => /created/.test(row(x)), 10_000, 'created');
    s.keys('s');
    await s.waitFor((x) => /running/.test(row(x)), 15_000, 'running');
    s.keys('p');
    await s.waitFor((x) => /paused/.test(row(x)) && x.includes(`pause ${VM}: done`), 10_000, 'paused');
    s.keys('z');
    await s.waitFor(`snapshot ${VM}: done`, 15_000, 'snapshot');
    s.keys('q');
    const q = await s.waitFor('leave the engine and VMs running', 5000, 'quit-question');
    assert.match(q, /paused/, 'the question names the paused VM');
    s.keys('s');
    await s.waitFor(/\[exited 0\]/, 20_000, 'exited');
    assert.is(await ping(t.paths.controlSocket, { timeoutMs: 500 }), null);
    await waitUntil(() => stateProcs(t.root).length === 0, 5000, 'no process of this state').catch((err) => {
      throw new Error(`${(err as Error).message}:\n${describeProcs(stateProcs(t.root))}`);
    });
    const vms = await storedVms(t.paths.dbFile);
    assert.equal(
      vms.map((v) => [v.name, v.state]),
      [[VM, 'stopped']],
    );
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test.run();
