// The crash-boot checks both backends share (crash-boot.test.ts, crash-boot-qemu.test.ts): hold
// boots after given steps, kill -9 the engine, then check a new engine accounted for everything.
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { alive, json, runtimeEntries, until, type Svc } from './helpers.js';

export interface CrashVm {
  id: string;
  name: string;
  state: string;
  pid: number | null;
  tap: string | null;
  lastError: string | null;
}

/** [boot step, what the VM held after it is once a new engine reconciled]. */
export type CrashSteps = [string, 'running' | 'stopped'][];

export function taps(s: Svc): string[] {
  return s
    .sh(['ip', '-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => /^bgr-[0-9a-f]{6}$/.test(n))
    .sort();
}

function leases(s: Svc): string[] {
  const db = new Database(s.paths.dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT vm_id AS vmId FROM leases').all() as { vmId: string }[]).map((r) => r.vmId);
  } finally {
    db.close();
  }
}

export async function listVms(s: Svc): Promise<CrashVm[]> {
  const r = await s.banger(['vm', 'ls', '--json']);
  assert.is(r.code, 0, r.stderr);
  return json<CrashVm[]>(r);
}

/** What a backend leaves while a VM runs: its VMM processes, and the files in a VM's runtime dir. */
export interface BackendTraces {
  vmmPids(): number[];
  runtimeFiles: string[];
}

/** After a restart: every VM running (its VMM the one recorded) or stopped with nothing left. */
export function assertAccounted(s: Svc, b: BackendTraces, vms: CrashVm[], crashed: string[]): void {
  const running = vms.filter((v) => v.state === 'running');
  for (const v of vms) assert.ok(['running', 'stopped', 'created'].includes(v.state), `${v.name} is ${v.state}`);
  assert.equal(b.vmmPids().sort(), running.map((v) => v.pid!).sort(), 'every VMM process is a running VM');
  assert.equal(taps(s), running.map((v) => v.tap!).sort(), 'TAPs of running VMs only');
  const held = new Set(leases(s));
  // A VM stopped by `vm stop` keeps its lease on purpose (sticky addresses); one whose boot
  // died with the engine gives it back.
  for (const c of vms.filter((v) => crashed.includes(v.name) && v.state !== 'running'))
    assert.not.ok(held.has(c.id), `${c.name} keeps no lease`);
  const files = runtimeEntries(s.paths).filter((f) => f.startsWith('vms/'));
  const want = running.flatMap((v) => [`vms/${v.id}`, ...b.runtimeFiles.map((f) => `vms/${v.id}/${f}`)]);
  assert.equal(files.sort(), want.sort(), 'runtime files of running VMs only');
}

/** Wait until the engine holds every boot after its step, then kill -9 it. */
export async function killHolding(s: Svc, enginePid: number, steps: CrashSteps, names: string[], ms: number) {
  for (const [i, [step]] of steps.entries()) {
    const mark = `holding vm ${names[i]} after boot step "${step}"`;
    await until(() => readFileSync(s.paths.engineLog, 'utf8').includes(mark), ms, mark);
  }
  process.kill(enginePid, 'SIGKILL');
  await until(() => !alive(enginePid), 5000, 'engine to die');
}

/** Each VM came back as its step says. */
export function assertOutcomes(vms: CrashVm[], steps: CrashSteps, names: string[]): void {
  for (const [i, [step, outcome]] of steps.entries()) {
    const vm = vms.find((v) => v.name === names[i])!;
    assert.is(vm.state, outcome, `after ${step}: ${vm.state} (${vm.lastError})`);
  }
}
