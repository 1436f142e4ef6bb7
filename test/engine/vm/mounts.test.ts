// Shared folders in the engine: vm create --mount and vm mount add/rm on a real store and real
// directories. Bad input is E_INVALID_MOUNT with nothing written; a live VM's folders are
// E_INVALID_STATE; Firecracker refuses them (no virtio-fs device).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../../../app/engine/wiring.js';
import { Store } from '../../../app/engine/store.js';
import { tmpState, type TmpState } from '../../helpers/tmp.js';
import type { Engine } from '../../../app/engine/engine.js';
import { nullLogger } from '../../../app/base/log.js';

let t: TmpState;
let engine: Engine;
let store: Store;
let src: string;

test.before.each(() => {
  t = tmpState();
  store = new Store(t.paths.dbFile);
  engine = createEngine({ env: t.env, logger: nullLogger, store });
  src = join(t.root, 'src');
  mkdirSync(src);
  writeFileSync(join(t.root, 'file'), 'x');
});
test.after.each(() => {
  store.close();
  t.cleanup();
});

function counts(): string {
  const n = store.db.prepare('SELECT (SELECT count(*) FROM vms) AS v, (SELECT count(*) FROM events) AS e').get();
  return JSON.stringify([n, readdirSync(t.paths.vmsDir), store.listVms().map((v) => v.mounts ?? [])]);
}

async function refused(fn: () => Promise<unknown>, code: string, reason: RegExp): Promise<void> {
  const before = counts();
  try {
    await fn();
    assert.unreachable('should have been refused');
  } catch (e) {
    const err = e as { code: string; message: string };
    assert.is(err.code, code, err.message);
    assert.match(err.message, reason);
  }
  assert.is(counts(), before, 'nothing written');
}

test('create --mount stores the folders with tags, host dirs resolved', async () => {
  const link = join(t.root, 'link');
  symlinkSync(src, link);
  const vm = await engine.createVm({
    name: 'web',
    backend: 'qemu',
    mounts: [`${link}:/srv`, `${src}:ro`],
  });
  assert.equal(vm.mounts, [
    { hostDir: src, guestDir: '/srv', readOnly: false, tag: 'm0' },
    { hostDir: src, guestDir: src, readOnly: true, tag: 'm1' },
  ]);
  assert.equal((await engine.getVm('web')).mounts, vm.mounts, 'stored');
});

test('create: bad mounts are E_INVALID_MOUNT and make nothing', async () => {
  const q = { name: 'web', backend: 'qemu' };
  await refused(() => engine.createVm({ ...q, mounts: [join(t.root, 'nope')] }), 'E_INVALID_MOUNT', /does not exist/);
  await refused(
    () => engine.createVm({ ...q, mounts: [join(t.root, 'file')] }),
    'E_INVALID_MOUNT',
    /is not a directory/,
  );
  await refused(() => engine.createVm({ ...q, mounts: [`${src}:rel`] }), 'E_INVALID_MOUNT', /must be absolute/);
  await refused(
    () => engine.createVm({ ...q, mounts: [`${src}:/a`, `${src}:/a`] }),
    'E_INVALID_MOUNT',
    /already mounted/,
  );
  await refused(() => engine.createVm({ ...q, mounts: ['rel:/a'] }), 'E_INVALID_MOUNT', /absolute path/);
  await refused(
    () => engine.createVm({ ...q, backend: 'firecracker', mounts: [src] }),
    'E_INVALID_MOUNT',
    /need the qemu backend/,
  );
});

test('mount add / rm on a stopped VM, one event each; bad ones change nothing', async () => {
  await engine.createVm({ name: 'web', backend: 'qemu' });
  const added = await engine.addVmMount('web', `${src}:/srv:ro`);
  assert.equal(added.mounts, [{ hostDir: src, guestDir: '/srv', readOnly: true, tag: 'm0' }]);
  await refused(() => engine.addVmMount('web', `${src}:/srv`), 'E_INVALID_MOUNT', /already mounted/);
  await refused(() => engine.addVmMount('web', join(t.root, 'nope')), 'E_INVALID_MOUNT', /does not exist/);
  await refused(() => engine.removeVmMount('web', '/other'), 'E_NOT_FOUND', /no shared folder at \/other/);
  await refused(() => engine.addVmMount('nosuch', src), 'E_NOT_FOUND', /no VM named/);
  const removed = await engine.removeVmMount('web', '/srv/');
  assert.equal(removed.mounts, []);
  const events = store.db.prepare("SELECT message FROM events WHERE subject = 'web'").all() as { message: string }[];
  assert.ok(events.some((e) => e.message.includes(`shared folder ${src} at /srv (ro)`)));
  assert.ok(events.some((e) => e.message.includes('shared folder at /srv/ removed')));
});

test('mount add / rm on a live VM is E_INVALID_STATE; on Firecracker E_INVALID_MOUNT', async () => {
  const vm = await engine.createVm({ name: 'web', backend: 'qemu', mounts: [src] });
  store.updateVm(vm.id, { state: 'running' });
  await refused(() => engine.addVmMount('web', `${src}:/x`), 'E_INVALID_STATE', /it is running \(stop it first/);
  await refused(() => engine.removeVmMount('web', src), 'E_INVALID_STATE', /it is running/);
  await engine.createVm({ name: 'fc', backend: 'firecracker' });
  await refused(() => engine.addVmMount('fc', src), 'E_INVALID_MOUNT', /need the qemu backend/);
});

test('snapshot and suspend of a VM with folders: E_INVALID_STATE before anything is saved', async () => {
  const vm = await engine.createVm({ name: 'web', backend: 'qemu', mounts: [src] });
  store.updateVm(vm.id, { state: 'running' });
  await refused(() => engine.snapshotVm('web', 's1'), 'E_INVALID_STATE', /has shared folders/);
  await refused(
    () => engine.stopVm('web', { save: true }),
    'E_INVALID_STATE',
    /cannot suspend VM "web": it has shared/,
  );
});

test.run();
