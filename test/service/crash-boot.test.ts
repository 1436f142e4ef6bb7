// kill -9 of the engine at every boot step (Firecracker simulator, TAPs and leases in a
// throwaway namespace). The engine holds after the step (BANGER_TEST_BOOT_HOLD), the test kills
// it there, and a new engine must account for everything: the VM is running (adopted) or
// stopped, no VMM process is unaccounted for, a stopped VM keeps no TAP, lease or runtime
// file, and starting it again works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ControlClient } from '../../app/control/client.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { enginePids, simPids, svcState, type Svc } from './helpers.js';
import {
  assertAccounted as checkAccounted,
  assertOutcomes,
  killHolding,
  listVms,
  type BackendTraces,
  type CrashSteps,
  type CrashVm,
} from './crash-checks.js';

// Every step of a Firecracker boot, in order: the engine's, then the driver's.
const STEPS: CrashSteps = [
  ['engine:validate', 'stopped'],
  ['engine:create-dirs', 'stopped'],
  ['engine:network', 'stopped'],
  ['engine:console', 'stopped'],
  ['vmm:launch-vmm', 'stopped'],
  ['vmm:wait-socket', 'stopped'],
  ['vmm:metrics', 'stopped'],
  ['vmm:machine-config', 'stopped'],
  ['vmm:boot-source', 'stopped'],
  ['vmm:drives', 'stopped'],
  ['vmm:network', 'stopped'],
  ['vmm:instance-start', 'running'],
];

let s: Svc;
const it = runIf(test, NEEDS_ROOT);
test.before(() => {
  if (!NEEDS_ROOT) s = svcState({ bridge: true });
});
test.after(async () => {
  await s?.cleanup();
});
const trace = (msg: string) => {
  if (process.env.SVC_TRACE) process.stderr.write(`${msg}\n`);
};

const FC: BackendTraces = { vmmPids: () => simPids(s.root), runtimeFiles: ['api.sock', 'console.in'] };
const list = () => listVms(s);
const assertAccounted = (vms: CrashVm[], crashed: string[]) => checkAccounted(s, FC, vms, crashed);

const NAMES = STEPS.map((_, i) => `crash${i}`);

it('kill -9 of the engine with one boot held after each step: every VM running (adopted) or stopped, nothing unaccounted for', async () => {
  // One engine, twelve boots in flight, each held after a different step; one kill -9.
  const hold = STEPS.map(([step], i) => `${NAMES[i]}@${step}`).join(',');
  const d = await s.banger(['--detach'], { env: { BANGER_TEST_BOOT_HOLD: hold } });
  assert.is(d.code, 0, d.stderr);
  const enginePid = Number(/pid (\d+)/.exec(d.stdout)![1]);
  // Through the control socket (cheaper than twelve CLI processes on a shared CPU).
  const c1 = await ControlClient.connect(s.paths.controlSocket);
  await Promise.all(NAMES.map((name) => c1.createVm({ name, disk: '64M' })));
  // The starts never answer: the engine dies holding them.
  for (const name of NAMES) c1.startVm(name).catch(() => {});
  await killHolding(s, enginePid, STEPS, NAMES, 30_000);
  c1.close();
  assert.equal(enginePids(s.root), []);

  // A new engine (no hold) reconciles on start.
  const st = await s.banger(['status', '--json']);
  assert.is(st.code, 0, st.stderr);
  const vms = await list();
  assertOutcomes(vms, STEPS, NAMES);
  assertAccounted(vms, NAMES);
  trace(vms.map((v) => `${v.name}: ${v.state}: ${v.lastError ?? ''}`).join('\n'));

  // Every one starts (again) and stops normally.
  const c2 = await ControlClient.connect(s.paths.controlSocket);
  try {
    for (const v of vms.filter((x) => x.state === 'running')) await c2.stopVm(v.name);
    const started = await Promise.all(NAMES.map((n) => c2.startVm(n)));
    for (const v of started) assert.is(v.state, 'running');
    assertAccounted(await list(), []);
    await Promise.all(NAMES.map((n) => c2.stopVm(n)));
    assertAccounted(await list(), []);
  } finally {
    c2.close();
  }
});

test.run();
