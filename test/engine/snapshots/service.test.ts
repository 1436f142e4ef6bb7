// Pause, resume, snapshots and restore through the engine, on the Firecracker simulator: the
// API conversation (pause, create, resume; a fresh process that loads and resumes), files and
// records, a disk put back, bad input changing nothing, an incompatible snapshot, vm rm, and a
// new engine adopting a paused VM as paused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM, simEngine, waitFor, type TestEngine } from '../../helpers/engine.js';
import { createEngine } from '../../../app/engine/wiring.js';
import { loadRequest } from '../../../app/engine/firecracker/snapshot.js';
import { snapshotFiles } from '../../../app/engine/snapshots/service.js';
import { BangerError } from '../../../app/base/errors.js';
import { nullLogger } from '../../../app/base/log.js';
import { pidAlive } from '../../../app/base/pid.js';
import { vmPaths } from '../../../app/base/paths.js';

let te: TestEngine;
let rec: string;
test.before.each(async () => {
  te = await simEngine();
  rec = join(te.t.root, 'calls.jsonl');
  process.env.SIM_RECORD = rec;
});
test.after.each(async () => {
  delete process.env.SIM_RECORD;
  await te.close();
});

function calls(): { method: string; path: string; body: unknown; status: number }[] {
  return readFileSync(rec, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((c) => c.method !== 'GET');
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, code, (err as Error).message);
    if (re) assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('pause and resume: PATCH /vm, the state everywhere, refused where it makes no sense', async () => {
  const e = te.engine;
  await e.createVm({ name: 'p', memoryMib: 256, start: true });
  await rejects(e.resumeVm('p'), 'E_INVALID_STATE', /it is running/);
  const paused = await e.pauseVm('p');
  assert.is(paused.state, 'paused');
  assert.is((await e.status()).vms.paused, 1);
  await rejects(e.pauseVm('p'), 'E_INVALID_STATE');
  assert.equal(
    calls()
      .filter((c) => c.path === '/vm')
      .map((c) => c.body),
    [{ state: 'Paused' }],
  );
  // Typed while paused: nothing happens until the guest runs again.
  await e.sendConsole('p', 'echo held-4242\n');
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok((await e.consoleTail('p')).toString().includes('held-4242'), 'a paused guest reads no input');
  assert.is((await e.resumeVm('p')).state, 'running');
  await waitFor(async () => (await e.consoleTail('p')).toString().includes('held-4242\r\n'), 'input after resume');
  // A paused VM stops cleanly: resumed first, then Ctrl-Alt-Del.
  await e.pauseVm('p');
  const stopped = await e.stopVm('p');
  assert.is(stopped.state, 'stopped');
  assert.is(stopped.exitCode, 0, 'graceful exit');
  await rejects(e.pauseVm('p'), 'E_INVALID_STATE');
});

test('snapshot, change the disk, restore: API order, files, records, the disk back', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 's', memoryMib: 256, start: true });
  const s1 = await e.snapshotVm('s', 's1');
  assert.equal([s1.name, s1.parent, s1.memoryMib, s1.backend], ['s1', null, 256, 'firecracker']);
  assert.ok(s1.sizeBytes > 0, 'allocated size recorded');
  const f = snapshotFiles(te.t.paths, vm.id, 's1');
  assert.is(statSync(f.memory).size, 256 * 2 ** 20, 'memory file as long as guest memory');
  assert.ok(existsSync(f.state) && existsSync(f.disk));
  assert.is((await e.getVm('s')).state, 'running', 'a running VM runs again after its snapshot');
  const snapCalls = calls().filter((c) => c.path === '/vm' || c.path.startsWith('/snapshot'));
  assert.equal(
    snapCalls.map((c) => [c.path, c.body]),
    [
      ['/vm', { state: 'Paused' }],
      ['/snapshot/create', { snapshot_type: 'Full', snapshot_path: f.state, mem_file_path: f.memory }],
      ['/vm', { state: 'Resumed' }],
    ],
  );
  // Bad input changes nothing.
  await rejects(e.snapshotVm('s', 's1'), 'E_NAME_TAKEN');
  await rejects(e.snapshotVm('s', '../x'), 'E_INVALID_NAME');
  await rejects(e.restoreVm('s', 'nope'), 'E_NOT_FOUND');
  assert.equal((await e.listSnapshots('s')).length, 1);

  const disk = vmPaths(te.t.paths, vm.id).disk;
  const original = readFileSync(disk);
  writeFileSync(disk, Buffer.concat([Buffer.from('CHANGED'), original.subarray(7)]));
  const oldPid = (await e.getVm('s')).pid!;
  writeFileSync(rec, '');
  const restored = await e.restoreVm('s', 's1');
  assert.is(restored.state, 'running');
  assert.is.not(restored.pid, oldPid, 'a fresh VMM');
  assert.not.ok(pidAlive(oldPid), 'the old VMM is gone');
  assert.ok(readFileSync(disk).equals(original), 'the disk is the snapshot copy');
  const restoreCalls = calls().map((c) => c.path);
  assert.is(restoreCalls.at(-1), '/snapshot/load');
  assert.ok(
    restoreCalls.slice(0, -1).every((p) => p === '/logger' || p === '/metrics'),
    `a fresh process: only logger and metrics before the load: ${restoreCalls.join(' ')}`,
  );
  assert.equal(calls().at(-1)!.body, {
    snapshot_path: f.state,
    mem_backend: { backend_type: 'File', backend_path: f.memory },
    resume_vm: true,
  });
  const s2 = await e.snapshotVm('s');
  assert.is(s2.parent, 's1', 'the restored state descends from s1');
  assert.match(s2.name, /^snap-\d{8}-\d{6}/);
  await e.removeSnapshot('s', 's1');
  assert.not.ok(existsSync(f.dir), 'files deleted');
  assert.equal(
    (await e.listSnapshots('s')).map((x) => [x.name, x.parent]),
    [[s2.name, null]],
  );
  await e.removeVm('s', { force: true });
  assert.not.ok(existsSync(vmPaths(te.t.paths, vm.id).dir), 'vm rm takes the snapshots with it');
  assert.is(
    (te.store.db.prepare('SELECT COUNT(*) AS n FROM snapshots').get() as { n: number }).n,
    0,
    'and their records',
  );
});

test('a snapshot of another data format version: refused before anything changes (the VM runs on, its disk kept)', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'v', start: true });
  const s = await e.snapshotVm('v', 'old');
  assert.equal(s.stamp, { backend: 'firecracker', version: '1.16.1', format: '10.0.0' }, 'the VMM version is recorded');
  const f = snapshotFiles(te.t.paths, vm.id, 'old');
  // What an upgrade to a Firecracker of another format looks like from here.
  writeFileSync(f.state, JSON.stringify({ ...JSON.parse(readFileSync(f.state, 'utf8')), version: '9.0.0' }));
  const disk = vmPaths(te.t.paths, vm.id).disk;
  writeFileSync(disk, Buffer.concat([Buffer.from('CURRENT'), readFileSync(disk).subarray(7)]));
  const current = readFileSync(disk);
  writeFileSync(rec, '');
  await rejects(e.restoreVm('v', 'old'), 'E_SNAPSHOT_INCOMPATIBLE', /format is v9\.0\.0.*reads v10\.0-10\.0/);
  const after = await e.getVm('v');
  assert.is(after.state, 'running', 'the running VM was not touched');
  assert.is(after.pid, vm.pid);
  assert.ok(readFileSync(disk).equals(current), 'the current disk is intact');
  assert.not.ok(
    calls().some((c) => c.path.startsWith('/snapshot')),
    'no load was tried',
  );
});

test("a load that fails after the check: the VM's own disk is put back", async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'l', start: true });
  await e.snapshotVm('l', 's');
  const f = snapshotFiles(te.t.paths, vm.id, 's');
  const disk = vmPaths(te.t.paths, vm.id).disk;
  writeFileSync(disk, Buffer.concat([Buffer.from('CURRENT'), readFileSync(disk).subarray(7)]));
  const current = readFileSync(disk);
  // The state reads fine (the check passes); the memory file is gone, so the load itself fails.
  rmSync(f.memory);
  await rejects(e.restoreVm('l', 's'), 'E_BOOT_FAILED', /load-snapshot.*Failed to load guest memory/);
  const after = await e.getVm('l');
  assert.is(after.state, 'error');
  assert.is(after.pid, null, 'no VMM left');
  assert.ok(readFileSync(disk).equals(current), 'the disk is the one from before the restore');
  assert.not.ok(existsSync(`${disk}.prev`) || existsSync(`${disk}.restore`), 'no copies left behind');
  assert.ok(
    (await e.events(20)).some((ev) => /restore of s failed: its own disk was put back/.test(ev.message)),
    'the event says so',
  );
  assert.is((await e.startVm('l')).state, 'running', 'and it boots from that disk');
});

test('Firecracker load request: network overrides only where the version has them', () => {
  const f = snapshotFiles(te.t.paths, 'abc', 's');
  assert.equal(loadRequest(f, 'bgr-1', 'eth0', '1.16.1').network_overrides, [
    { iface_id: 'eth0', host_dev_name: 'bgr-1' },
  ]);
  assert.is(loadRequest(f, 'bgr-1', 'eth0', '1.11.0').network_overrides, undefined);
  assert.is(loadRequest(f, null, 'eth0', '1.16.1').network_overrides, undefined);
});

test('reconcile sweeps what a crash mid-snapshot or mid-restore leaves, keeps real snapshots', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'c', start: true });
  await e.snapshotVm('c', 'kept');
  const junk = snapshotFiles(te.t.paths, vm.id, 'half');
  mkdirSync(junk.dir, { recursive: true });
  writeFileSync(junk.state, 'partial');
  writeFileSync(`${vmPaths(te.t.paths, vm.id).disk}.part`, 'partial');
  // A crash between the swap and the load's end, on a VM that does not run: its own disk back.
  const stopped = await e.createVm({ name: 'd' });
  const dd = vmPaths(te.t.paths, stopped.id).disk;
  const own = readFileSync(dd);
  renameSync(dd, `${dd}.prev`);
  writeFileSync(dd, 'the snapshot copy');
  const report = await e.reconcile();
  assert.ok(readFileSync(dd).equals(own), 'the VM has its own disk again');
  assert.not.ok(existsSync(`${dd}.prev`));
  assert.ok(report.orphansRemoved.includes('disk put back after an unfinished restore d'), JSON.stringify(report));
  assert.ok(report.orphansRemoved.includes('snapshot c/half'), JSON.stringify(report));
  assert.ok(report.orphansRemoved.includes('disk copy c'), JSON.stringify(report));
  assert.not.ok(existsSync(junk.dir));
  assert.ok(existsSync(snapshotFiles(te.t.paths, vm.id, 'kept').state), 'a recorded snapshot stays');
});

test('a new engine adopts a paused VM as paused', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'a', start: true });
  await e.pauseVm('a');
  await e.close(); // VMs keep running
  const e2 = createEngine({
    env: { ...te.t.env, FIRECRACKER_BIN: SIM, BANGER_BACKEND: 'firecracker' },
    full: true,
    logger: nullLogger,
  });
  try {
    const report = await e2.start();
    assert.equal(report.adopted, ['a']);
    const now = await e2.getVm('a');
    assert.is(now.state, 'paused');
    assert.is(now.pid, vm.pid);
    assert.is((await e2.resumeVm('a')).state, 'running');
  } finally {
    await e2.close();
    e2.closeStore();
  }
});

test.run();
