// The `debian:bookworm` image source: debootstrap --variant=minbase plus systemd, udev,
// openssh-server and iproute2 (slow: about 80 s, network to the Debian mirror).
// debootstrap must run as root and leaves a root-owned tree (root-only files such as
// /etc/shadow, 0700 /root) that the rest of the build (customize, size, mkfs -d) reads and
// writes with plain file calls. Rather than redo all of that through sudo, a non-root
// engine refuses debian builds up front; the tree is still removed the way it was made.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRunner } from '../../base/process.js';
import { BangerError, ErrorCodes } from '../../base/errors.js';
import type { BuildJob } from './job.js';

const BASE_PACKAGES = ['systemd-sysv', 'udev', 'openssh-server', 'iproute2', 'ifupdown', 'ca-certificates'];
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

/** Refuse (before anything is made) a debian build the engine could not finish or clean up. */
export function refuseDebianUnlessRoot(runner: ProcessRunner): void {
  if (runner.isRoot) return;
  throw new BangerError(
    ErrorCodes.SUDO_REQUIRED,
    'debian images can only be built by an engine running as root (debootstrap makes a root-owned tree this user cannot customize or remove): run the engine as root, or build --from busybox',
  );
}

/** Remove a build's work dir; one made by privileged commands is removed through the runner too. */
export async function removeTree(runner: ProcessRunner, dir: string, privileged: boolean): Promise<void> {
  if (privileged && !runner.isRoot) {
    await runner.run(['rm', '-rf', '--one-file-system', '--', dir], { privileged: true, timeoutMs: 10 * 60_000 });
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}
