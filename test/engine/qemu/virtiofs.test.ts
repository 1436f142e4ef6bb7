// Shared folders on QEMU: the devices the argv gets (memfd memory shared with virtiofsd, modern
// virtio-mmio, one vhost-user-fs device per folder), and each folder server's argv.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildQemuArgv, type QemuArgvInput } from '../../../app/engine/qemu/cmdline.js';
import { shareFiles, virtiofsdArgv, VIRTIOFSD, shimPath } from '../../../app/engine/qemu/virtiofs.js';
import { assetPath } from '../../../app/engine/images/assets.js';
import { startShares } from '../../../app/engine/qemu/virtiofs.js';
import { UndoStack } from '../../../app/engine/driver/undo.js';
import { createRunner } from '../../../app/base/process.js';
import { nullLogger } from '../../../app/base/log.js';
import { runIf } from '../../helpers/skip.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

const real = existsSync(VIRTIOFSD) && existsSync(shimPath()) ? null : 'virtiofsd or its shim missing';

runIf(test, real)(
  'startShares: a stale server on the socket is ended, the new one listens; undo stops it',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'banger-vfs-'));
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const f = shareFiles(dir, 'm0');
    // A process that looks like a server left on this socket by a dead engine.
    const stale = spawn('sh', ['-c', 'sleep 30', 'sh', `--socket-path=${f.socket}`], { stdio: 'ignore' });
    const undo = new UndoStack();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const m = { hostDir: folder, guestDir: '/f', readOnly: false, tag: 'm0' };
      const out = await startShares(createRunner(), dir, [m], undo, nullLogger);
      assert.equal(out, [f]);
      assert.ok(existsSync(f.socket), 'listening');
      await new Promise((r) => setTimeout(r, 50));
      assert.is(stale.exitCode ?? stale.signalCode, 'SIGKILL', 'the stale one was ended');
      await undo.unwind();
      assert.not.ok(existsSync(f.socket), 'undo removed the socket');
    } finally {
      stale.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('startShares: a folder gone since it was added is E_INVALID_MOUNT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-vfs-'));
  try {
    const m = { hostDir: join(dir, 'gone'), guestDir: '/f', readOnly: false, tag: 'm0' };
    await startShares(createRunner(), dir, [m], new UndoStack(), nullLogger).then(
      () => assert.unreachable(),
      (e: { code: string; message: string }) => {
        assert.is(e.code, 'E_INVALID_MOUNT');
        assert.match(e.message, real ? /virtiofsd|shim/ : /no longer exists/);
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
