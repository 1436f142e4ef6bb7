// Shared folders on QEMU: the devices the argv gets (memfd memory shared with virtiofsd, modern
// virtio-mmio, one vhost-user-fs device per folder), and each folder server's argv.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildQemuArgv, type QemuArgvInput } from '../../../app/engine/qemu/cmdline.js';
import { shareFiles, virtiofsdArgv, VIRTIOFSD, shimPath } from '../../../app/engine/qemu/virtiofs.js';
import { assetPath } from '../../../app/engine/images/assets.js';

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

test('no shares: no shared memory, virtio-mmio left as it was', () => {
  const a = buildQemuArgv(base);
  assert.equal(vals(a, '-M'), ['microvm']);
  assert.not.ok(a.includes('-object'));
  assert.not.ok(a.join(' ').includes('force-legacy'));
});

test('shares: memfd backend of the VM size, modern virtio-mmio, one device per tag', () => {
  const a = buildQemuArgv({
    ...base,
    shares: [
      { tag: 'm0', socket: '/vms/a1/fs-m0.sock' },
      { tag: 'm1', socket: '/vms/a1/fs-m1.sock' },
    ],
  });
  assert.equal(vals(a, '-M'), ['microvm,memory-backend=mem']);
  assert.equal(vals(a, '-object'), ['memory-backend-memfd,id=mem,size=256M,share=on']);
  assert.equal(vals(a, '-global'), ['virtio-mmio.force-legacy=false']);
  assert.equal(
    vals(a, '-chardev').filter((c) => c.startsWith('socket')),
    ['socket,id=fs0,path=/vms/a1/fs-m0.sock', 'socket,id=fs1,path=/vms/a1/fs-m1.sock'],
  );
  assert.equal(
    vals(a, '-device').filter((d) => d.startsWith('vhost-user-fs')),
    ['vhost-user-fs-device,chardev=fs0,tag=m0', 'vhost-user-fs-device,chardev=fs1,tag=m1'],
  );
});

test('shares: a comma in a socket path or a bad tag is refused', () => {
  assert.throws(
    () => buildQemuArgv({ ...base, shares: [{ tag: 'm0', socket: '/a,b/s' }] }),
    /must not contain a comma/,
  );
  assert.throws(() => buildQemuArgv({ ...base, shares: [{ tag: 'x,y', socket: '/s' }] }), /invalid share tag/);
});

test('virtiofsd argv: unshare as the user, the launcher with socket, source, bind root and mode', () => {
  const f = shareFiles('/vms/a1', 'm1');
  assert.equal(f, { tag: 'm1', socket: '/vms/a1/fs-m1.sock', root: '/vms/a1/fs/m1', log: '/vms/a1/fs-m1.log' });
  const a = virtiofsdArgv({ hostDir: '/home/u/src', guestDir: '/src', readOnly: true, tag: 'm1' }, f);
  assert.equal(a, [
    'unshare',
    '--user',
    '--map-root-user',
    '--mount',
    '--',
    'sh',
    assetPath('virtiofsd-run.sh'),
    VIRTIOFSD,
    shimPath(),
    '/vms/a1/fs-m1.sock',
    '/home/u/src',
    '/vms/a1/fs/m1',
    'ro',
  ]);
});

test.run();
