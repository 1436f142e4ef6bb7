// Test-only guest for the QEMU driver tests: Debian's cloud kernel (bzImage: QEMU's microvm
// boots it directly), a tiny initramfs that loads the virtio modules and switch_roots to
// root=/dev/vda, and a busybox ext4 rootfs whose init answers Ctrl-Alt-Del with a reboot.
// Built once and cached in the tests' private cache (test/helpers/cache.ts).
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createRunner, which } from '../../../app/base/process.js';
import { testCacheDir } from '../../helpers/cache.js';

export interface GuestAssets {
  kernel: string;
  initrd: string;
  /** Read-only master: copy it per boot (the guest mounts it rw). */
  rootfs: string;
  kernelVersion: string;
}

const VERSION = 'qemu-guest-v1';
export const READY_MARKER = 'BANGER_QEMU_READY';
export const SHUTDOWN_MARKER = 'BANGER_QEMU_SHUTDOWN';
const MODULES = ['virtio_ring', 'virtio', 'virtio_mmio', 'virtio_blk'];

export function cacheRoot(): string {
  return testCacheDir();
}

const INIT = `#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
for m in ${MODULES.join(' ')}; do insmod /lib/modules/$m.ko; done
ROOT=; for x in $(cat /proc/cmdline); do case "$x" in root=*) ROOT=\${x#root=};; esac; done
i=0; while [ ! -b "$ROOT" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
mkdir -p /newroot
if mount -t ext4 -o rw "$ROOT" /newroot; then
  mount --move /dev /newroot/dev
  umount /proc
  exec switch_root /newroot /sbin/init
fi
echo "initramfs: cannot mount root '$ROOT'"
exec sh
`;

const INITTAB = `::sysinit:/etc/rcS
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/bin/reboot
::shutdown:/bin/echo ${SHUTDOWN_MARKER}
::shutdown:/bin/umount -a -r
`;

const RCS = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "${READY_MARKER} root=$(awk '$2=="/"{print $1}' /proc/mounts | tail -1) $(cat /proc/cmdline)" > /dev/ttyS0
`;

function busyboxTree(dir: string, busybox: string, applets: string[]): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['dev', 'proc', 'sys', 'tmp', 'etc', 'sbin', 'lib/modules', 'newroot'])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(busybox, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  for (const a of applets)
    if (a !== 'busybox' && !existsSync(join(dir, 'bin', a))) symlinkSync('busybox', join(dir, 'bin', a));
}

/** Build (or reuse) the guest. Throws with a clear message when the host cannot provide it. */
export async function guestAssets(): Promise<GuestAssets> {
  const out = join(cacheRoot(), VERSION);
  const done = join(out, 'kernel.version');
  if (existsSync(done)) {
    return {
      kernel: join(out, 'bzImage'),
      initrd: join(out, 'initrd.cpio.gz'),
      rootfs: join(out, 'rootfs.ext4'),
      kernelVersion: readFileSync(done, 'utf8').trim(),
    };
  }
  const r = createRunner();
  // busybox-static's binary: the guest has no libc of its own.
  const busybox = which('busybox') ?? '/bin/busybox';
  const bb = await r.run([busybox, '--list']);
  const applets = bb.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  mkdirSync(cacheRoot(), { recursive: true });
  const work = join(cacheRoot(), `${VERSION}.tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'debs'), { recursive: true });
  try {
    const dep = await r.run(['apt-cache', 'depends', 'linux-image-cloud-amd64']);
    const pkg = /Depends: (linux-image-\S+-cloud-amd64)/.exec(dep.stdout)?.[1];
    if (!pkg) throw new Error('apt-cache knows no linux-image-cloud-amd64 kernel');
    const kver = pkg.replace(/^linux-image-/, '');
    await r.run(['apt-get', 'download', pkg], { cwd: join(work, 'debs'), timeoutMs: 120_000 });
    const deb = readdirSync(join(work, 'debs')).find((f) => f.endsWith('.deb'))!;
    const kx = join(work, 'kernel');
    await r.run(['dpkg-deb', '-x', join(work, 'debs', deb), kx]);

    // initramfs: busybox + the virtio modules (modules in this kernel, not built in).
    const ir = join(work, 'initramfs');
    busyboxTree(ir, busybox, applets);
    for (const m of MODULES) {
      const found = await r.run(['find', join(kx, 'lib/modules', kver, 'kernel'), '-name', `${m}.ko*`]);
      const f = found.stdout.split('\n')[0]?.trim();
      if (!f) throw new Error(`kernel ${kver} has no module ${m}`);
      if (f.endsWith('.xz'))
        await r.run(['sh', '-c', 'xz -dc "$1" > "$2"', 'sh', f, join(ir, 'lib/modules', `${m}.ko`)]);
      else if (f.endsWith('.zst'))
        await r.run(['sh', '-c', 'zstd -dcq "$1" > "$2"', 'sh', f, join(ir, 'lib/modules', `${m}.ko`)]);
      else copyFileSync(f, join(ir, 'lib/modules', `${m}.ko`));
    }
    writeFileSync(join(ir, 'init'), INIT, { mode: 0o755 });
    await r.run([
      'sh',
      '-c',
      'cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 > "$2"',
      'sh',
      ir,
      join(work, 'initrd.cpio.gz'),
    ]);

    // rootfs: busybox init with an inittab that reboots on Ctrl-Alt-Del.
    const rf = join(work, 'rootfs');
    busyboxTree(rf, busybox, applets);
    symlinkSync('../bin/busybox', join(rf, 'sbin/init'));
    writeFileSync(join(rf, 'etc/inittab'), INITTAB);
    writeFileSync(join(rf, 'etc/rcS'), RCS, { mode: 0o755 });
    await r.run(['mkfs.ext4', '-q', '-F', '-L', 'bangertest', '-d', rf, join(work, 'rootfs.ext4'), '32M']);

    const fin = join(work, 'final');
    mkdirSync(fin);
    copyFileSync(join(kx, 'boot', `vmlinuz-${kver}`), join(fin, 'bzImage'));
    renameSync(join(work, 'initrd.cpio.gz'), join(fin, 'initrd.cpio.gz'));
    renameSync(join(work, 'rootfs.ext4'), join(fin, 'rootfs.ext4'));
    writeFileSync(join(fin, 'kernel.version'), kver + '\n');
    rmSync(out, { recursive: true, force: true });
    renameSync(fin, out); // atomic: a half-built cache is never seen as done
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return guestAssets();
}
