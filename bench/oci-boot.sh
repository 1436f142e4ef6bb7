#!/usr/bin/env bash
# bench/oci-boot.sh [ITERATIONS]: time to first ssh of a VM made from an OCI image imported from
# a local registry (a scratch image: static busybox, no init/shell/sshd, run with --run) against
# the same for the default busybox image, in one run, and the ratio. Also prints the import
# time (registry -> image) and a second import's (layer cache). Needs skopeo, umoci and
# docker-registry besides the rig of bench/qemu-netns.sh (root, QEMU, the cached artifacts).
for bin in skopeo umoci docker-registry busybox; do
  command -v "$bin" >/dev/null || { echo "bench/oci-boot.sh: $bin not found (scripts/system-packages.txt)" >&2; exit 2; }
done
exec bash "$(dirname "$0")/qemu-netns.sh" oci-boot "$@"
