// An imported root filesystem without systemd boots through banger's init: busybox init with
// banger's inittab and rcS. Whatever it lacks is added, never replacing a file of its own:
// busybox-static (with its applets linked under names the image does not have, so a scratch
// image with a single static binary gets a shell, mount, ip...), /bin/sh, the account files
// dropbear needs. An /sbin/init of the image's own that is not busybox (tini, s6, a custom
// binary) is kept as /sbin/init.image and /sbin/init becomes busybox: banger's boot path is the
// one that brings up the network, sshd and the ready marker; the image's program is what
// `vm create --run` starts.
import { renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DebCache } from './debs.js';
import type { BuildJob } from './job.js';
import { BUSYBOX_PACKAGES } from './busybox-rootfs.js';
import { copyInRoot, dirInRoot, existsInRoot, resolveInRoot, symlinkInRoot, writeInRoot } from './rootfs-path.js';

const BIN_DIRS = ['bin', 'sbin', 'usr/bin', 'usr/sbin'];

/** Where busybox is in root ('bin/busybox' or 'usr/bin/busybox'), added from busybox-static when absent. */
export async function ensureBusybox(root: string, debs: DebCache, work: string, job: BuildJob): Promise<string> {
  for (const rel of ['bin/busybox', 'usr/bin/busybox']) if (existsInRoot(root, rel)) return rel;
  job.log('no busybox in this image: adding busybox-static and linking the applets it lacks\n');
  const { 'busybox-static': deb } = await debs.fetch(BUSYBOX_PACKAGES, job);
  const x = join(work, 'busybox-inject');
  await debs.extract(deb, x, job);
  const host = join(x, 'bin/busybox');
  copyInRoot(root, 'bin/busybox', host, 0o755);
  const { stdout } = await job.run([host, '--list-full']);
  let linked = 0;
  for (const rel of stdout.split('\n').map((l) => l.trim())) {
    if (!rel || rel === 'bin/busybox' || rel.includes('..')) continue;
    const name = basename(rel);
    if (BIN_DIRS.some((d) => existsInRoot(root, `${d}/${name}`))) continue;
    symlinkInRoot(root, rel, '/bin/busybox');
    linked++;
  }
  job.log(`linked ${linked} busybox applets\n`);
  return 'bin/busybox';
}

/** busybox init as /sbin/init (the image's own, when another program, kept as /sbin/init.image). */
export function ensureBusyboxInit(root: string, busybox: string, job: BuildJob): void {
  const target = resolveInRoot(root, 'sbin/init');
  if (target !== null && basename(target) !== 'busybox') {
    const sbin = dirInRoot(root, 'sbin');
    job.log('the image has its own /sbin/init: kept as /sbin/init.image, banger boots with busybox init\n');
    // The link itself when it is one (its target stays where it is), else the file.
    renameSync(join(sbin, 'init'), join(sbin, 'init.image'));
  }
  if (target === null || basename(target) !== 'busybox') symlinkInRoot(root, 'sbin/init', `/${busybox}`);
  if (!existsInRoot(root, 'bin/sh')) symlinkInRoot(root, 'bin/sh', `/${busybox}`);
}

/** The account files busybox init, login shells and dropbear read, where the image has none. */
export function ensureAccounts(root: string): void {
  if (!existsInRoot(root, 'etc/passwd')) writeInRoot(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  if (!existsInRoot(root, 'etc/group')) writeInRoot(root, 'etc/group', 'root:x:0:\n');
  // No password: root logs in with banger's key over SSH, and the serial console is a shell.
  if (!existsInRoot(root, 'etc/shadow')) writeInRoot(root, 'etc/shadow', 'root:*:19000:0:99999:7:::\n', 0o600);
  if (!existsInRoot(root, 'etc/shells')) writeInRoot(root, 'etc/shells', '/bin/sh\n');
}
