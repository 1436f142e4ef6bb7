#!/usr/bin/env bash
# bench/exec.sh [ITERATIONS]: `banger vm exec NAME -- true` with a warm ssh master against a
# direct `ssh -i KEY root@IP true` (target: at or below it), and `banger vm cp` of 100 MiB into
# the guest against `ssh ... 'cat > FILE'` (scp's equivalent: the busybox guest has no scp or
# sftp server), ratios from the same run. The built CLI (bin/banger, dist/), as users run it.
# QEMU backend; the rig is bench/qemu-netns.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs >/dev/null
exec bash bench/qemu-netns.sh exec "$@"
