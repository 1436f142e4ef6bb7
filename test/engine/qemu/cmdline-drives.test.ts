// QEMU's argv for the drives after the root disk (the seed drive): raw, read-only where asked,
// one virtio-blk device each after the root's (the guest sees vda, then vdb); ids and paths
// QEMU would misread are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildQemuArgv, type QemuArgvInput } from '../../../app/engine/qemu/cmdline.js';

const base: QemuArgvInput = {
  bin: 'qemu-system-x86_64',
  vmId: 'a1b2c3d4e5f6',
  accel: 'tcg',
  cpu: 'max',
  memoryMib: 256,
  vcpus: 1,
  kernelPath: '/k/vmlinux',
  initrdPath: null,
  rootfsPath: '/vms/a1/disk.ext4',
  bootArgs: 'console=ttyS0',
  tap: null,
  mac: '06:00:ac:1e:00:05',
  socketPath: '/run/vms/a1/qmp.sock',
};

const vals = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

test('the seed after the root: raw, read-only, its own virtio-blk device, in order', () => {
  const a = buildQemuArgv({ ...base, drives: [{ id: 'seed', path: '/vms/a1/seed.ext4', readOnly: true }] });
  assert.equal(vals(a, '-drive'), [
    'id=root,file=/vms/a1/disk.ext4,format=raw,if=none',
    'id=seed,file=/vms/a1/seed.ext4,format=raw,if=none,read-only=on',
  ]);
  assert.equal(vals(a, '-device').slice(-2), ['virtio-blk-device,drive=root', 'virtio-blk-device,drive=seed']);
  const rw = buildQemuArgv({ ...base, drives: [{ id: 'data', path: '/d.img', readOnly: false }] });
  assert.is(vals(rw, '-drive')[1], 'id=data,file=/d.img,format=raw,if=none');
  assert.equal(vals(buildQemuArgv(base), '-drive').length, 1, 'no drives: the root only');
});

test('refused: an id QEMU or Firecracker would misread, the root id again, a comma in a path', () => {
  for (const [drive, re] of [
    [{ id: 'se-ed', path: '/s', readOnly: true }, /invalid drive id "se-ed"/],
    [{ id: 'root', path: '/s', readOnly: true }, /invalid drive id "root"/],
    [{ id: 'seed', path: '/a,b', readOnly: true }, /seed drive path must not contain a comma/],
  ] as const) {
    assert.throws(() => buildQemuArgv({ ...base, drives: [drive] }), re);
  }
});

test.run();
