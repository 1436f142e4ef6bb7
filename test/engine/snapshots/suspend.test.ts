// Suspend (vm stop --save) and clone through the engine, on the Firecracker simulator: the API
// conversation (pause, create, the VMM ended; a fresh process that loads instead of booting),
// the saved state surviving an engine restart, a changed disk booting cold with a note, and a
// clone with its own identity and disk copy running beside its source.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM, simEngine, waitFor, type TestEngine } from '../../helpers/engine.js';
import { createEngine } from '../../../app/engine/wiring.js';
import { suspendFiles } from '../../../app/engine/snapshots/suspend.js';
import { BangerError } from '../../../app/base/errors.js';
import { nullLogger } from '../../../app/base/log.js';
import { pidAlive } from '../../../app/base/pid.js';
import { vmPaths } from '../../../app/base/paths.js';
// @ts-expect-error -- plain JS stand-in module
import { SNAPSHOT_VERSION, VERSION, since } from '../../fixtures/firecracker-sim-api.mjs';

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

function paths(): string[] {
  if (!existsSync(rec)) return [];
  return readFileSync(rec, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { method: string; path: string })
    .filter((c) => c.method !== 'GET')
    .map((c) => c.path);
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, BangerError);
    assert.is((err as BangerError).code, code, (err as Error).message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('stop --save ends the VMM with its state on disk; start loads it (no boot), even from a new engine', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'z', memoryMib: 128, start: true });
  const log = vmPaths(te.t.paths, vm.id).consoleLog;
  await waitFor(async () => readFileSync(log, 'utf8').includes('Welcome to banger'), 'the guest booted');
  writeFileSync(rec, '');
  const saved = await e.stopVm('z', { save: true });
  assert.is(saved.state, 'stopped');
  assert.is(saved.pid, null);
  assert.not.ok(pidAlive(vm.pid!), 'the VMM is gone');
  assert.ok(saved.suspended, 'the record says suspended');
  assert.is(saved.suspended!.memoryMib, 128);
  // The stand-in's release (SIM_VERSION): its data format from 1.7, the writing release before.
  const format = since('1.7.0') ? SNAPSHOT_VERSION : VERSION;
  assert.equal(saved.suspended!.stamp, { backend: 'firecracker', version: VERSION, format });
  assert.equal(paths(), ['/vm', '/snapshot/create'], 'paused, saved, then ended (no Ctrl-Alt-Del)');
  const files = suspendFiles(te.t.paths, vm.id);
  assert.ok(existsSync(files.state) && existsSync(files.memory));
  await rejects(e.stopVm('z', { save: true }), 'E_INVALID_STATE');

  // A new engine (the old one gone, as after a restart or a reboot) brings it back.
  await e.close();
  const e2 = createEngine({
    env: { ...te.t.env, FIRECRACKER_BIN: SIM, BANGER_BACKEND: 'firecracker' },
    full: true,
    logger: nullLogger,
  });
  try {
    await e2.start();
    assert.ok((await e2.getVm('z')).suspended, 'still suspended after an engine restart');
    writeFileSync(rec, '');
    const bootsBefore = readFileSync(log, 'utf8').split('Linux version').length;
    const back = await e2.startVm('z');
    assert.is(back.state, 'running');
    assert.is(back.suspended, null, 'the saved state is used once');
    assert.is(back.mac, vm.mac);
    assert.is(back.lastError, null);
    const loaded = paths();
    assert.is(loaded.at(-1), '/snapshot/load', `loaded, not booted: ${loaded.join(' ')}`);
    assert.not.ok(loaded.includes('/actions'), 'no InstanceStart');
    assert.not.ok(existsSync(files.dir), 'the saved files are gone');
    await e2.sendConsole('z', 'echo back-7\n');
    await waitFor(async () => (await e2.consoleTail('z')).toString().includes('back-7'), 'the guest answers');
    assert.is(readFileSync(log, 'utf8').split('Linux version').length, bootsBefore, 'no boot banner: it carried on');
    assert.ok((await e2.events(20)).some((ev) => /resumed from suspend \(\d+ ms\)/.test(ev.message)));
  } finally {
    await e2.close();
    e2.closeStore();
  }
});

test('a suspended VM whose disk, kernel or image changed boots cold, with a note', async () => {
  const e = te.engine;
  const vm = await e.createVm({ name: 'c', start: true });
  await e.stopVm('c', { save: true });
  const disk = vmPaths(te.t.paths, vm.id).disk;
  writeFileSync(disk, Buffer.concat([Buffer.from('CHANGED'), readFileSync(disk).subarray(7)]));
  writeFileSync(rec, '');
  const up = await e.startVm('c');
  assert.is(up.state, 'running');
  assert.is(up.suspended, null);
  assert.match(up.lastError ?? '', /booted cold: the suspended state was discarded because its disk changed/);
  assert.ok(paths().includes('/actions'), 'a cold boot (InstanceStart)');
  assert.not.ok(paths().includes('/snapshot/load'));
  assert.not.ok(existsSync(suspendFiles(te.t.paths, vm.id).dir));
  // The same for a kernel or an image that changed since the save.
  await e.stopVm('c', { save: true });
  const kernel = te.store.getKernel('default')!.path;
  utimesSync(kernel, new Date(), new Date(Date.now() + 5000));
  assert.match((await e.startVm('c')).lastError ?? '', /because its kernel changed since the save/);
  await e.stopVm('c', { save: true });
  te.store.db.prepare("UPDATE images SET sha256 = 'rebuilt' WHERE name = 'default'").run();
  assert.match((await e.startVm('c')).lastError ?? '', /because its image changed since the save/);
  // The note goes with the next stop.
  assert.is((await e.stopVm('c')).lastError, null);
  // Saved state no record points at (a crash between the save and the record) goes at reconcile.
  mkdirSync(suspendFiles(te.t.paths, vm.id).dir, { recursive: true });
  writeFileSync(suspendFiles(te.t.paths, vm.id).state, 'half');
  assert.ok((await e.reconcile()).orphansRemoved.includes('suspend state c'));
  assert.not.ok(existsSync(suspendFiles(te.t.paths, vm.id).dir));
});

test('clone: a stopped VM copied under a new name, its own MAC and disk, running beside its source', async () => {
  const e = te.engine;
  const src = await e.createVm({ name: 'src', memoryMib: 128, start: true });
  await rejects(e.cloneVm('src', 'dst'), 'E_INVALID_STATE');
  const disk = vmPaths(te.t.paths, src.id).disk;
  writeFileSync(disk, Buffer.concat([Buffer.from('SOURCE!'), readFileSync(disk).subarray(7)]));
  await e.stopVm('src', { save: true });
  const c = await e.cloneVm('src', 'dst');
  assert.is(c.name, 'dst');
  assert.is(c.state, 'created');
  assert.is.not(c.id, src.id);
  assert.is.not(c.mac, src.mac, 'its own MAC');
  assert.equal([c.memoryMib, c.image, c.kernel, c.backend], [128, src.image, src.kernel, src.backend]);
  assert.is(c.suspended, null, 'the saved state stays with the source');
  assert.ok(readFileSync(vmPaths(te.t.paths, c.id).disk).equals(readFileSync(disk)), 'a copy of the disk');
  await rejects(e.cloneVm('src', 'dst'), 'E_NAME_TAKEN');
  await rejects(e.cloneVm('src', '../x'), 'E_INVALID_NAME');
  await rejects(e.cloneVm('nope', 'x'), 'E_NOT_FOUND');
  assert.equal((await e.listVms()).map((v) => v.name).sort(), ['dst', 'src'], 'bad input made nothing');
  const a = await e.startVm('src');
  const b = await e.startVm('dst');
  assert.is(a.lastError, null, 'the source still resumed (the clone did not touch its disk)');
  assert.ok(a.pid && b.pid && a.pid !== b.pid, 'both run');
  writeFileSync(vmPaths(te.t.paths, c.id).disk, 'x');
  assert.ok(readFileSync(disk).subarray(0, 7).equals(Buffer.from('SOURCE!')), 'the disks are separate files');
});

test.run();
