// test-run: group guest (boots a QEMU guest under TCG: one guest at a time, beside the unit files)
// kill -9 of the engine during QEMU boots (a real guest under TCG or KVM, TAPs and leases in a
// throwaway namespace): a boot held after an engine step comes back stopped with nothing left;
// one held after any QEMU step comes back running, adopted (QEMU runs its guest from launch, and
// QMP answers); no QEMU process is unaccounted for, and every VM starts and stops again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../app/base/process.js';
import { firstReason, NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { Store } from '../../app/engine/store.js';
import { guestAssets } from '../engine/qemu/guest-fixture.js';
import { alive, bangerArgv, enginePids, json, svcState, type Svc } from './helpers.js';
import {
  assertAccounted as checkAccounted,
  assertOutcomes,
  killHolding,
  listVms,
  type BackendTraces,
  type CrashSteps,
  type CrashVm,
} from './crash-checks.js';

const QEMU = which('qemu-system-x86_64');
const it = runIf(
  test,
  firstReason(NEEDS_ROOT, QEMU ? null : 'missing qemu-system-x86_64 (apt-get install qemu-system-x86)'),
);

const STEPS: CrashSteps = [
  ['engine:network', 'stopped'],
  ['vmm:launch-vmm', 'running'],
  ['vmm:wait-qmp', 'running'],
  ['vmm:query-status', 'running'],
];
const NAMES = STEPS.map((_, i) => `qcrash${i}`);

let s: Svc;
test.before(async () => {
  if (!QEMU || NEEDS_ROOT) return;
  // QEMU's accel decision looks at the real /dev/kvm (the helpers' stand-in is for the simulator).
  s = svcState({ bridge: true, env: { BANGER_BACKEND: 'qemu', BANGER_KVM_PATH: '/dev/kvm' } });
  const g = await guestAssets();
  const image = join(s.paths.imagesDir, 'qguest.ext4');
  copyFileSync(g.rootfs, image);
  const store = new Store(s.paths.dbFile);
  try {
    const now = new Date().toISOString();
    store.insertKernel({
      name: 'qguest',
      path: g.kernel,
      initrdPath: g.initrd,
      source: 'test',
      version: null,
      createdAt: now,
    });
    store.insertImage({
      name: 'qguest',
      source: 'test',
      path: image,
      sizeBytes: statSync(image).size,
      sha256: '0'.repeat(64),
      buildLog: null,
      init: 'busybox',
      createdAt: now,
    });
  } finally {
    store.close();
  }
});
test.after(async () => {
  await s?.cleanup();
});

function qemuPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        return /(^|\/)qemu-system-x86_64$/.test(cmd.split('\0')[0]) && cmd.includes(s.root) && alive(pid);
      } catch {
        return false;
      }
    });
}
const QEMU_TRACES: BackendTraces = { vmmPids: qemuPids, runtimeFiles: ['console.in', 'qmp.sock'] };
const list = () => listVms(s);
const assertAccounted = (vms: CrashVm[], crashed: string[]) => checkAccounted(s, QEMU_TRACES, vms, crashed);
async function startInBackground(name: string): Promise<ChildProcess> {
  const argv = ['ip', 'netns', 'exec', s.netns!, ...(await bangerArgv()), 'vm', 'start', name];
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...s.env }, stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

it('QEMU: kill -9 of the engine with boots held after each step: adopted or stopped, nothing unaccounted for', async () => {
  const hold = STEPS.map(([step], i) => `${NAMES[i]}@${step}`).join(',');
  const d = await s.banger(['--detach'], { env: { BANGER_TEST_BOOT_HOLD: hold } });
  assert.is(d.code, 0, d.stderr);
  const enginePid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  for (const name of NAMES) {
    const c = await s.banger(['vm', 'create', name, '--kernel', 'qguest', '--image', 'qguest', '--disk', '64M']);
    assert.is(c.code, 0, c.stderr);
  }
  const clis = await Promise.all(NAMES.map((n) => startInBackground(n)));
  await killHolding(s, enginePid, STEPS, NAMES, 60_000);
  for (const c of clis) c.kill('SIGKILL');
  assert.equal(enginePids(s.root), []);

  const st = await s.banger(['status', '--json'], { timeoutMs: 90_000 });
  assert.is(st.code, 0, st.stderr);
  const vms = await list();
  assertOutcomes(vms, STEPS, NAMES);
  assertAccounted(vms, NAMES);

  for (const v of vms.filter((x) => x.state === 'running')) {
    const r = await s.banger(['vm', 'stop', v.name, '--force'], { timeoutMs: 90_000 });
    assert.is(r.code, 0, r.stderr);
  }
  for (const name of NAMES) {
    const r = await s.banger(['vm', 'start', name, '--json'], { timeoutMs: 90_000 });
    assert.is(json<CrashVm>(r).state, 'running', r.stderr);
    const stop = await s.banger(['vm', 'stop', name, '--force'], { timeoutMs: 90_000 });
    assert.is(stop.code, 0, stop.stderr);
  }
  assertAccounted(await list(), []);
});

test.run();
