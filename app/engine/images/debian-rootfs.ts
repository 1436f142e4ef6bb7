// The `debian:bookworm` image source: debootstrap --variant=minbase plus systemd, udev,
// openssh-server and iproute2 (slow: about 80 s, network to the Debian mirror).
// debootstrap must run as root and leaves a root-owned tree (root-only files such as
// /etc/shadow, 0700 /root). A root engine debootstraps into its build dir directly. A normal
// user's engine asks the privileged entry point (`debootstrap-image`): root debootstraps in a
// work dir of its own, hands back an ext4 of the tree as a new file of the user's and removes
// the tree; the engine unpacks that image into its build dir as it does an imported one.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SETUP_HINT, type ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { BuildJob } from './job.js';

export const BASE_PACKAGES = ['systemd-sysv', 'udev', 'openssh-server', 'iproute2', 'ifupdown', 'ca-certificates'];
export const DEBIAN_MIRROR = process.env.BANGER_DEBIAN_MIRROR || 'http://deb.debian.org/debian';

export async function debootstrap(root: string, suite: string, extra: string[], job: BuildJob): Promise<void> {
  const include = [...BASE_PACKAGES, ...extra].join(',');
  let seen = 0;
  // debootstrap prints one "I: Retrieving/Validating/Unpacking/Configuring X" line per package: a rough progress.
  await job.run(['debootstrap', '--variant=minbase', `--include=${include}`, suite, root, DEBIAN_MIRROR], {
    privileged: true,
    timeoutMs: 30 * 60_000,
    onLine: (c) => {
      seen += (c.match(/^I: (Retrieving|Validating|Unpacking|Configuring) /gm) ?? []).length;
      job.percent(5 + Math.min(60, seen / 12));
    },
  });
  // Downloaded .debs are dead weight in a VM image (apt keeps its directories).
  const archives = join(root, 'var/cache/apt/archives');
  for (const f of readdirSync(archives)) if (f.endsWith('.deb')) rmSync(join(archives, f), { force: true });
}

/**
 * A normal user's debian build: root debootstraps through the entry point and hands back an
 * ext4 image at `out` (a new file in the build dir). Its progress lines pass through.
 */
export async function debootstrapImage(out: string, suite: string, extra: string[], job: BuildJob): Promise<void> {
  let seen = 0;
  await job.run(['debootstrap-image', suite, DEBIAN_MIRROR, [...BASE_PACKAGES, ...extra].join(','), out], {
    privileged: true,
    timeoutMs: 30 * 60_000,
    onLine: (c) => {
      seen += (c.match(/^I: (Retrieving|Validating|Unpacking|Configuring) /gm) ?? []).length;
      job.percent(5 + Math.min(40, seen / 18));
    },
  });
}

/** Refuse (before anything is made) a debian build a normal user's engine could not run. */
export async function requireDebianPrivileges(runner: ProcessRunner): Promise<void> {
  if (runner.isRoot) return;
  try {
    await runner.checkPrivileged?.();
  } catch (err) {
    throw new BangerError(
      ErrorCodes.SUDO_REQUIRED,
      `debian images need root for debootstrap, through banger's privileged entry point: ${SETUP_HINT}`,
      { details: { cause: (err as Error).message } },
    );
  }
}

/** Remove a build's work dir; one made by privileged commands is removed through the runner too. */
export async function removeTree(runner: ProcessRunner, dir: string, privileged: boolean): Promise<void> {
  if (privileged && !runner.isRoot) {
    await runner.run(['rm', '-rf', '--one-file-system', '--', dir], { privileged: true, timeoutMs: 10 * 60_000 });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
