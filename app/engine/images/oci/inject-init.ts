// An image with neither systemd nor busybox (a Debian-slim base, a static binary on scratch)
// gets busybox as its init and tools: the binary at /bin/busybox and its applets wherever the
// image has nothing of that name. dropbear follows in customize.ts, as for any busybox root.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { copyInRoot, existsInRoot, symlinkInRoot } from '../rootfs-path.js';
import { BUSYBOX_PACKAGES } from '../busybox-rootfs.js';
import { detectFlavor } from '../customize.js';
import type { DebCache } from '../debs.js';
import type { BuildJob } from '../job.js';

/** True when busybox was added (the image had no init banger knows). */
export async function ensureInit(root: string, debs: DebCache, work: string, job: BuildJob): Promise<boolean> {
  try {
    detectFlavor(root);
    return false;
  } catch {
    /* neither systemd nor busybox: add busybox */
  }
  job.log('the image has no init banger knows (systemd or busybox): adding busybox\n');
  const { 'busybox-static': deb } = await debs.fetch(BUSYBOX_PACKAGES, job);
  const x = join(work, 'busybox-static');
  await debs.extract(deb, x, job);
  const bb = copyInRoot(root, 'bin/busybox', join(x, 'bin/busybox'), 0o755);
  rmSync(x, { recursive: true, force: true });
  const { stdout } = await job.run([bb, '--list-full'], { quiet: true });
  for (const rel of stdout.split('\n').map((l) => l.trim())) {
    if (!rel || rel === 'bin/busybox' || rel.includes('..') || existsInRoot(root, rel)) continue;
    symlinkInRoot(root, rel, '/bin/busybox');
  }
  for (const [d, mode] of [
    ['tmp', 0o1777],
    ['root', 0o700],
  ] as const) {
    if (existsInRoot(root, d)) continue;
    mkdirSync(join(root, d));
    chmodSync(join(root, d), mode); // past the umask
  }
  return true;
}
