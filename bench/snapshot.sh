#!/usr/bin/env bash
# bench/snapshot.sh [ITERATIONS]: time to snapshot and to restore a 256 MiB guest next to a cold
# boot to its console marker (the floor, measured in the same run), and the ratios. QEMU backend.
# The rig (root, artifacts, namespace) is bench/qemu-netns.sh.
exec bash "$(dirname "$0")/qemu-netns.sh" snapshot "$@"
