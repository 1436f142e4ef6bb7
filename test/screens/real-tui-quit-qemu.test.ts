// test-run: group guest-b (boots a QEMU guest under TCG: one guest per lane)
// Issue 25 #1 as the newcomer met it: the real TUI (bin/banger, embedded engine) with the QEMU
// backend; c, s, p, z, q: the process must exit. A QEMU snapshot left a five-minute timer
// behind, so the TUI left the screen and the process hung until it fired.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { cli, ROOT } from '../helpers/cli.js';
import { testCacheDir } from '../helpers/cache.js';
import { runIf } from '../helpers/skip.js';
import { tmpState, type TmpState } from '../helpers/tmp.js';
import { TmuxSession } from './tmux.js';
import { killState, stateProcs, describeProcs, waitUntil } from './fixtures/real-engine.js';

const QEMU = which('qemu-system-x86_64');
const it = runIf(test, QEMU ? null : 'missing qemu-system-x86_64 (apt-get install qemu-system-x86)');
const VM = `qq${process.pid % 10000}`;
let t: TmpState | null = null;
let s: TmuxSession | null = null;
const row = (screen: string): string => screen.split('\n').find((l) => l.startsWith(`${VM} `)) ?? '';

/** A QEMU state: the Debian kernel (kernel fetch, its packages cached) and a busybox image. */
async function qemuState(): Promise<TmpState> {
  const st = tmpState('banger-tui-qemu-');
  Object.assign(st.env, {
    BANGER_BACKEND: 'qemu',
    BANGER_NETWORK: 'none',
    BANGER_DNS_ADDR: '127.0.0.1:0',
    BANGER_USE_TSX: '1',
    BANGER_BUILD_ID: `tui-qemu-${process.pid}`,
    BANGER_CACHE_DIR: testCacheDir(),
    BANGER_STOP_TIMEOUT_MS: '2000',
  });
  const tree = join(st.root, 'tree');
  for (const d of ['bin', 'sbin', 'usr/sbin']) mkdirSync(join(tree, d), { recursive: true });
  copyFileSync('/bin/busybox', join(tree, 'bin/busybox'));
  symlinkSync('busybox', join(tree, 'bin/sh'));
  symlinkSync('../bin/busybox', join(tree, 'sbin/init'));
  copyFileSync('/usr/sbin/dropbear', join(tree, 'usr/sbin/dropbear'));
  for (const args of [
    ['kernel', 'fetch', 'default'],
    ['image', 'import', 'default', tree],
    ['engine', 'stop'],
  ]) {
    const r = await cli(args, st.env, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`banger ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  }
  return st;
}

test.after(() => {
  s?.kill();
  if (!t) return;
  killState(t.root);
  t.cleanup();
});

it('QEMU: start, pause, snapshot, q, stop all: the process exits', async () => {
  t = await qemuState();
  s = TmuxSession.start(`banger-qquit-${process.pid}`, join(ROOT, 'bin', 'banger'), {
    width: 120,
    height: 35,
    env: t.env,
    cwd: ROOT,
  });
  try {
    await s.waitFor('No VMs. Press c', 20_000, 'table');
    s.keys('c');
    await s.waitFor('create VM', 5000, 'form');
    s.type(VM);
    s.keys('Enter');
    await s.waitFor((x) => /created/.test(row(x)), 10_000, 'created');
    s.keys('s');
    await s.waitFor((x) => /running/.test(row(x)) && /qemu/.test(row(x)), 30_000, 'running');
    s.keys('p');
    await s.waitFor((x) => /paused/.test(row(x)) && x.includes(`pause ${VM}: done`), 15_000, 'paused');
    s.keys('z');
    await s.waitFor(`snapshot ${VM}: done`, 60_000, 'snapshot');
    s.keys('q');
    await s.waitFor('leave the engine and VMs running', 5000, 'quit-question');
    s.keys('s');
    // Stopping a paused guest takes the stop timeout (2 s) and a QMP quit; far less than this.
    await s.waitFor(/\[exited 0\]/, 30_000, 'exited');
    const root = t.root;
    await waitUntil(() => stateProcs(root).length === 0, 10_000, 'no process of this state').catch((err) => {
      throw new Error(`${(err as Error).message}:\n${describeProcs(stateProcs(root))}`);
    });
    assert.ok(true);
  } catch (err) {
    s.saveAll();
    throw err;
  }
});

test.run();
