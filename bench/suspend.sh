#!/usr/bin/env bash
# bench/suspend.sh [ITERATIONS]: `vm start` of a suspended 256 MiB guest to ssh-ready against a
# cold boot to ssh-ready measured in the same run, and the ratio (target: at most 0.15). Also
# what `vm stop --save` and `vm clone` take. QEMU backend; the rig is bench/qemu-netns.sh.
exec bash "$(dirname "$0")/qemu-netns.sh" suspend "$@"
