#!/usr/bin/env bash
# bench/cp.sh [ITERATIONS]: `banger vm cp` of 100 MiB into and out of a QEMU busybox guest
# against `scp` of the same file with the same key and known_hosts (the floor), alternated in
# the same run, ratios printed. The busybox image has no SFTP server (dropbear runs
# /usr/lib/sftp-server for scp's SFTP mode): Debian's openssh-sftp-server (apt-get download,
# cached) is copied into the guest before timing. The built CLI (bin/banger, dist/).
# Rig: bench/qemu-netns.sh (needs root and qemu-system-x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs >/dev/null
cache="${BANGER_CACHE_DIR:-${BANGER_TEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/banger-test}}"
mkdir -p -m 700 "$cache/bench"
deb=$(ls "$cache"/bench/openssh-sftp-server_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  # apt warns that root downloads unsandboxed into a dir its _apt user cannot reach (the 0700 cache).
  (cd "$cache/bench" && apt-get download openssh-sftp-server 2>&1 >/dev/null | grep -v '^W: Download is performed unsandboxed' >&2 || true)
  deb=$(ls "$cache"/bench/openssh-sftp-server_*.deb | head -1)
fi
export BANGER_BENCH_SFTP_DEB="$deb"
exec bash bench/qemu-netns.sh cp "$@"
