// Never two VMMs, never one lost (issue 15): a stop is verified, a start is refused while a
// VMM of the VM lives, reconcile adopts only a VMM that is ours and answers, a failed write in
// the exit handler does not kill the engine, and the graceful-stop wait follows the VM.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createEngine } from '../../../app/engine/wiring.js';
import { simEngine, SIM, simPids, waitFor, type TestEngine } from '../../helpers/engine.js';
import { pidAlive } from '../../../app/base/pid.js';
import { STOP_TIMEOUT_BY_INIT, stopTimeoutFor } from '../../../app/engine/vm/vmm-guard.js';
import { DEFAULT_CONFIG } from '../../../app/engine/config.js';
import type { ImageRecord, VmRecord } from '../../../app/contract/api.js';
import type { Logger } from '../../../app/base/log.js';

let te: TestEngine;
const logged: string[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m) => logged.push(`WARN ${m}`),
  error: (m) => logged.push(`ERROR ${m}`),
};
test.before.each(async () => {
  logged.length = 0;
  te = await simEngine({ logger });
});
test.after.each(async () => {
  delete process.env.SIM_CAD_DELAY_MS;
  await te.close();
});

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

test('a stop whose kill did not take: error with the reason, pid kept, start refused naming it; stop --force ends it', async () => {
  const e = te.engine;
  await e.createVm({ name: 'stuck' });
  const vm = await e.startVm('stuck');
  const drv = e.vms.driverFor(vm);
  const real = drv.stop.bind(drv);
  // What the old launcher did when `sudo kill` failed: report a kill, kill nothing.
  drv.stop = async () => ({ exitCode: null, signal: 'SIGKILL', how: 'kill' });
  const err = await codeOf(e.stopVm('stuck', { force: true }));
  assert.is(err.code, 'E_VMM_ALIVE');
  assert.match(err.message, `pid ${vm.pid} is still alive`);
  const after = await e.getVm('stuck');
  assert.is(after.state, 'error');
  assert.is(after.pid, vm.pid, 'the pid stays on the record');
  assert.ok(after.socketPath, 'and its socket');
  assert.ok(pidAlive(vm.pid!));
  const refused = await codeOf(e.startVm('stuck'));
  assert.is(refused.code, 'E_VMM_ALIVE');
  assert.match(refused.message, `pid ${vm.pid}`);
  assert.equal(simPids(vm.id), [vm.pid], 'no second VMM');
  drv.stop = real;
  const stopped = await e.stopVm('stuck', { force: true });
  assert.is(stopped.state, 'stopped');
  assert.not.ok(pidAlive(vm.pid!));
});

test('start is refused while an unrecorded VMM of the VM runs (found by its --id, right binary and user)', async () => {
  const e = te.engine;
  await e.createVm({ name: 'twice' });
  const vm = await e.startVm('twice');
  // The record lost its VMM (as an engine crash mid-boot used to leave it).
  e.vms.runningHandles().delete(vm.id);
  te.store.updateVm(vm.id, { state: 'error', pid: null, pidStartTime: null, socketPath: null });
  const err = await codeOf(e.startVm('twice'));
  assert.is(err.code, 'E_VMM_ALIVE');
  assert.match(err.message, String(vm.pid));
  assert.equal(simPids(vm.id), [vm.pid], 'one VMM, never two on one disk');
  process.kill(vm.pid!, 'SIGKILL');
});

test('reconcile: a stranger carrying the VM id is neither adopted nor killed; a VMM that does not answer is killed, not adopted', async () => {
  const e = te.engine;
  await e.createVm({ name: 'mute' });
  await e.createVm({ name: 'fake' });
  const mute = await e.startVm('mute');
  const fake = te.store.getVm('fake')!;
  // Another program with the VM's --id and socket in its argv (not the Firecracker binary).
  const stranger = spawn('bash', ['-c', 'sleep 60', 'bash', '--api-sock', '/nowhere.sock', '--id', fake.id], {
    stdio: 'ignore',
  });
  await waitFor(() => stranger.pid && pidAlive(stranger.pid), 'stranger');
  te.store.updateVm(fake.id, {
    state: 'running',
    pid: stranger.pid!,
    pidStartTime: null,
    socketPath: '/nowhere.sock',
  });
  // The engine goes away (VMMs stay); mute's API socket disappears; a new engine reconciles.
  await e.close();
  rmSync(mute.socketPath!);
  const env = { ...te.t.env, FIRECRACKER_BIN: SIM, BANGER_BACKEND: 'firecracker' };
  const e2 = createEngine({ env, full: true, logger });
  try {
    const report = await e2.start();
    assert.equal(report.adopted, [], 'nothing adopted');
    assert.equal(report.stopped.sort(), ['fake', 'mute']);
    assert.ok(pidAlive(stranger.pid!), 'the stranger was left alone');
    await waitFor(() => !pidAlive(mute.pid!), 'the mute VMM killed');
    assert.match((await e2.getVm('mute')).lastError ?? '', 'did not answer');
    assert.is((await e2.getVm('fake')).state, 'stopped');
  } finally {
    stranger.kill('SIGKILL');
    await e2.close();
    e2.closeStore();
  }
});

test('a database write failing in the exit handler (SQLITE_BUSY) is logged, the engine lives, reconcile sets the state', async () => {
  const e = te.engine;
  await e.createVm({ name: 'busy' });
  const vm = await e.startVm('busy');
  const other = new Database(te.t.paths.dbFile);
  other.exec('BEGIN IMMEDIATE'); // holds the write lock past the engine's 5 s busy timeout
  try {
    process.kill(vm.pid!, 'SIGKILL');
    await waitFor(() => logged.some((l) => l.includes('recording the VMM')), 'the failure logged', 15_000);
  } finally {
    other.exec('COMMIT');
    other.close();
  }
  const fixed = await waitFor(
    async () => {
      const v = await e.getVm('busy');
      return v.state !== 'running' ? v : null;
    },
    'reconcile to fix the record',
    15_000,
  );
  assert.is(fixed.state, 'stopped');
  assert.is(fixed.pid, null);
  // The engine still serves.
  assert.is((await e.startVm('busy')).state, 'running');
  await e.stopVm('busy', { force: true });
});

test('the graceful-stop wait: per VM, else configured, else by the image init (busybox short, systemd long)', async () => {
  const vm = { stopTimeoutMs: null } as VmRecord;
  const img = (init: ImageRecord['init']) => ({ init }) as ImageRecord;
  const cfg = { ...DEFAULT_CONFIG };
  assert.is(stopTimeoutFor(vm, img('busybox'), cfg), STOP_TIMEOUT_BY_INIT.busybox);
  assert.is(stopTimeoutFor(vm, img('systemd'), cfg), 120_000);
  assert.ok(STOP_TIMEOUT_BY_INIT.busybox < STOP_TIMEOUT_BY_INIT.systemd);
  assert.is(stopTimeoutFor(vm, null, cfg), STOP_TIMEOUT_BY_INIT.other);
  assert.is(stopTimeoutFor(vm, img('systemd'), { ...cfg, stopTimeoutMs: 5000 }), 5000);
  assert.is(stopTimeoutFor({ stopTimeoutMs: 700 } as VmRecord, img('systemd'), { ...cfg, stopTimeoutMs: 5000 }), 700);

  const e = te.engine;
  const bad = await codeOf(e.createVm({ name: 'neg', stopTimeoutMs: -1 }));
  assert.is(bad.code, 'E_INVALID_ARGUMENT');
  assert.is(te.store.getVm('neg'), null, 'nothing created');
  process.env.SIM_CAD_DELAY_MS = 'never';
  const made = await e.createVm({ name: 'quick', stopTimeoutMs: 300 });
  assert.is(made.stopTimeoutMs, 300);
  await e.startVm('quick');
  const t0 = Date.now();
  const s = await e.stopVm('quick');
  const took = Date.now() - t0;
  assert.ok(took >= 300 && took < 5000, `waited the VM's own 300 ms, took ${took} ms`);
  assert.is(s.exitSignal, 'SIGTERM');
});

test.run();
