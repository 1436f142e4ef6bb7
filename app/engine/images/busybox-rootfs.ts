// The `busybox` image source: busybox-static and dropbear from Debian packages in a tiny
// directory tree (seconds to build). Customization (inittab, rcS, keys) comes after.
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DebCache } from './debs.js';
import { copyInRoot, existsInRoot } from './rootfs-path.js';
import type { BuildJob } from './job.js';

export const BUSYBOX_PACKAGES = ['busybox-static'];
export const DROPBEAR_PACKAGES = ['dropbear-bin', 'libtomcrypt1', 'libtommath1'];

const BASE_DIRS = [
  'bin',
  'sbin',
  'etc/init.d',
  'etc/dropbear',
  'proc',
  'sys',
  'dev',
  'tmp',
  'run',
  'root',
  'var/log',
  'lib64',
  'lib/x86_64-linux-gnu',
  'usr/bin',
  'usr/sbin',
  'mnt',
  'home',
];

/** Unpack busybox into root and link every applet where busybox says it lives (/sbin/reboot...). */
export async function assembleBusybox(root: string, debs: DebCache, work: string, job: BuildJob): Promise<void> {
  for (const d of BASE_DIRS) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'root'), 0o700);
  const { 'busybox-static': deb } = await debs.fetch(BUSYBOX_PACKAGES, job);
  const x = join(work, 'busybox-static');
  await debs.extract(deb, x, job);
  const bb = join(root, 'bin/busybox');
  copyFileSync(join(x, 'bin/busybox'), bb);
  chmodSync(bb, 0o755);
  rmSync(x, { recursive: true, force: true });
  const { stdout } = await job.run([bb, '--list-full']);
  for (const rel of stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    if (rel === 'bin/busybox' || rel.includes('..')) continue;
    const dest = join(root, rel);
    if (existsSync(dest)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    const depth = rel.split('/').length - 1;
    symlinkSync(`${'../'.repeat(depth)}bin/busybox`, dest);
  }
  if (!existsSync(join(root, 'sbin/init'))) symlinkSync('../bin/busybox', join(root, 'sbin/init'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  // No password: root logs in with banger's key over SSH, and the serial console is a shell.
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
  writeFileSync(join(root, 'etc/shells'), '/bin/sh\n');
  writeFileSync(join(root, 'etc/fstab'), '# banger: root is mounted by the kernel (root=/dev/vda rw)\n');
}

/** Extra Debian packages (--packages) unpacked on top, without dependency resolution. */
export async function addPackages(root: string, debs: DebCache, pkgs: string[], job: BuildJob): Promise<void> {
  if (!pkgs.length) return;
  const paths = await debs.fetch(pkgs, job);
  for (const p of pkgs) await debs.extract(paths[p], root, job);
}

/**
 * dropbear plus the shared libraries it needs: libtom* from their packages, the rest (libc,
 * libz, libcrypt, the loader) from the host, which ldd resolves (same Debian release ABI).
 */
export async function installDropbear(root: string, debs: DebCache, work: string, job: BuildJob): Promise<void> {
  const paths = await debs.fetch(DROPBEAR_PACKAGES, job);
  const x = join(work, 'dropbear');
  for (const p of DROPBEAR_PACKAGES) await debs.extract(paths[p], x, job);
  const bins = ['usr/sbin/dropbear', 'usr/bin/dropbearkey', 'usr/bin/dbclient'];
  const libDir = join(x, 'usr/lib/x86_64-linux-gnu');
  const libs = new Set<string>();
  for (const b of bins) {
    if (!existsSync(join(x, b))) continue;
    copyInRoot(root, b, join(x, b), 0o755);
    const { stdout } = await job.run(['ldd', join(x, b)], { env: { LD_LIBRARY_PATH: libDir } });
    for (const lib of parseLdd(stdout)) libs.add(lib);
  }
  for (const lib of libs) {
    // Keep the path the loader looks for; packaged libs go to the standard multiarch dir.
    const rel = lib.startsWith(libDir)
      ? join('usr/lib/x86_64-linux-gnu', lib.slice(libDir.length + 1))
      : lib.replace(/^\/+/, '');
    if (!existsInRoot(root, rel)) copyInRoot(root, rel, lib, 0o755); // copies the real file behind a host symlink
  }
  rmSync(x, { recursive: true, force: true });
}

/** Absolute library paths from ldd output ("libz.so.1 => /lib/.../libz.so.1 (0x..)", "/lib64/ld-linux... (0x..)"). */
export function parseLdd(out: string): string[] {
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    if (arrow) {
      libs.push(arrow[1]);
      continue;
    }
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (bare) libs.push(bare[1]);
  }
  return libs;
}
