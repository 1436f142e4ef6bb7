// kill -9 of the engine at every boot step (Firecracker simulator, TAPs and leases in a
// throwaway namespace). The engine holds after the step (BANGER_TEST_BOOT_HOLD), the test kills
// it there, and a new engine must account for everything: the VM is running (adopted) or
// stopped, no VMM process is unaccounted for, a stopped VM keeps no TAP, lease or runtime
// file, and starting it again works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { ControlClient } from '../../app/control/client.js';
import { NEEDS_ROOT, runIf } from '../helpers/skip.js';
import { alive, enginePids, json, runtimeEntries, simPids, svcState, until, type Svc } from './helpers.js';

interface Vm {
  id: string;
  name: string;
  state: string;
  pid: number | null;
  tap: string | null;
  lastError: string | null;
}

// Every step of a Firecracker boot, in order: the engine's, then the driver's.
const STEPS: [string, 'running' | 'stopped'][] = [
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

function taps(): string[] {
  return s
    .sh(['ip', '-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => /^bgr-[0-9a-f]{6}$/.test(n))
    .sort();
}
function leases(): string[] {
  const db = new Database(s.paths.dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT vm_id AS vmId FROM leases').all() as { vmId: string }[]).map((r) => r.vmId);
  } finally {
    db.close();
  }
}
async function list(): Promise<Vm[]> {
  const r = await s.banger(['vm', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  return json<Vm[]>(r);
}

/** After a restart: every VM running (its VMM the one recorded) or stopped with nothing left. */
function assertAccounted(vms: Vm[], crashed: string[]): void {
  const running = vms.filter((v) => v.state === 'running');
  for (const v of vms) assert.ok(['running', 'stopped', 'created'].includes(v.state), `${v.name} is ${v.state}`);
  assert.equal(simPids(s.root).sort(), running.map((v) => v.pid!).sort(), 'every VMM process is a running VM');
  assert.equal(taps(), running.map((v) => v.tap!).sort(), 'TAPs of running VMs only');
  const held = new Set(leases());
  // A VM stopped by `vm stop` keeps its lease on purpose (sticky addresses); one whose boot
  // died with the engine gives it back.
  for (const c of vms.filter((v) => crashed.includes(v.name) && v.state !== 'running'))
    assert.not.ok(held.has(c.id), `${c.name} keeps no lease`);
  const files = runtimeEntries(s.paths).filter((f) => f.startsWith('vms/'));
  const want = running.flatMap((v) => [`vms/${v.id}`, `vms/${v.id}/api.sock`, `vms/${v.id}/console.in`]);
  assert.equal(files.sort(), want.sort(), 'runtime files of running VMs only');
}

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
  for (const [i, [step]] of STEPS.entries()) {
    const mark = `holding vm ${NAMES[i]} after boot step "${step}"`;
    await until(() => readFileSync(s.paths.engineLog, 'utf8').includes(mark), 30_000, mark);
  }
  process.kill(enginePid, 'SIGKILL');
  await until(() => !alive(enginePid), 5000, 'engine to die');
  c1.close();
  assert.equal(enginePids(s.root), []);

  // A new engine (no hold) reconciles on start.
  const st = await s.banger(['status', '--json']);
  assert.is(st.code, 0, st.stderr);
  const vms = await list();
  for (const [i, [step, outcome]] of STEPS.entries()) {
    const vm = vms.find((v) => v.name === NAMES[i])!;
    assert.is(vm.state, outcome, `after ${step}: ${vm.state} (${vm.lastError})`);
  }
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
