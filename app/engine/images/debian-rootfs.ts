// The `debian:bookworm` image source: debootstrap --variant=minbase plus systemd, udev,
// openssh-server and iproute2 (slow: about 80 s, network to the Debian mirror).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildJob } from './job.js';

export const DEBIAN_SUITES = ['bookworm'];
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
