#!/usr/bin/env bash
# bench/boot.sh [ITERATIONS]: boot time to the guest's console marker through banger vs the
# bare QEMU command line (same kernel, initramfs, image, kernel command line), in one run, and
# the ratio (target <= 1.1). The rig (root, artifacts, namespace) is bench/qemu-netns.sh.
exec bash "$(dirname "$0")/qemu-netns.sh" boot "$@"
