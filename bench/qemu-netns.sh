#!/usr/bin/env bash
# bench/qemu-netns.sh NAME [ITERATIONS]: the shared rig of the QEMU benches (bench/boot.sh,
# bench/snapshot.sh). Builds the busybox image and fetches the Debian cloud kernel in the root
# namespace (apt needs the registry; cached in BANGER_CACHE_DIR, default the tests' private cache
# ~/.cache/banger-test), then runs bench/NAME.ts in a throwaway namespace with its own engine.
# Needs root and qemu-system-x86_64.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
iterations=${2:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench/$name.sh: needs root (network namespace, bridge, TAP)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "bench/$name.sh: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 2; }

root=$(mktemp -d "/tmp/banger-bench-$name.XXXXXX")
ns="banger-bench-$$"
export BANGER_STATE_DIR="$root/state" BANGER_CONFIG_DIR="$root/config" BANGER_RUNTIME_DIR="$root/run"
cache="${BANGER_CACHE_DIR:-${BANGER_TEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/banger-test}}"
mkdir -p -m 700 "$cache"
export BANGER_CACHE_DIR="$cache" BANGER_BUILD_ID="bench-$$"
export FIRECRACKER_BIN="$root/no-firecracker" BANGER_BACKEND=qemu
banger() { node --import tsx app/main.ts "$@"; }
# Quiet unless it fails (progress bars and "started the engine" notes go to stderr).
quiet() { local out; out=$("$@" 2>&1) || { echo "$out" >&2; echo "bench/$name.sh: failed: $*" >&2; exit 1; }; }

cleanup() {
  if ip netns list | grep -qw "$ns"; then
    for pid in $(ip netns pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  fi
  rm -rf "$root"
}
trap cleanup EXIT

echo "building the busybox image and fetching the Debian cloud kernel (cached after the first run)..."
(
  export BANGER_NETWORK=none BANGER_DNS_ADDR=127.0.0.1:0
  quiet banger image build bench --from busybox
  quiet banger kernel fetch bench
  quiet banger engine stop
)

ip netns add "$ns"
ip -n "$ns" link set lo up
export BANGER_NETWORK=bridge BANGER_DNS_ADDR=127.0.0.1:10053
quiet ip netns exec "$ns" node --import tsx app/main.ts status   # starts the engine in the namespace
ip netns exec "$ns" node --import tsx "bench/$name.ts" --iterations "$iterations"
quiet ip netns exec "$ns" node --import tsx app/main.ts engine stop
