#!/usr/bin/env bash
# bench/mounts.sh [ITERATIONS]: a shared folder (virtio-fs, vm create --mount) against the VM's
# own disk, in one run: sequential read of 100 MiB and `find | wc -l` over a 10,000-file tree,
# each timed in the guest with its page cache dropped, and the ratios folder/own disk. QEMU
# backend; the rig is bench/qemu-netns.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs >/dev/null
exec bash bench/qemu-netns.sh mounts "$@"
