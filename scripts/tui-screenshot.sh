#!/usr/bin/env bash
# Regenerates the TUI picture in README.md (and docs/tui-screen.txt) from a real run: a throwaway
# engine with three VMs (two running), the real TUI in a tmux pane of 100x20, captured as text.
# The VMMs are test/fixtures/firecracker-sim (the Firecracker simulator: no KVM needed). As root,
# everything runs in a throwaway network namespace with banger's real bridge, TAPs, leases and
# DNS (so the picture shows addresses); otherwise with BANGER_NETWORK=none. Nothing on the host
# changes either way. Needs tmux, mkfs.ext4 and a built checkout (npm run build).
# Usage: bash scripts/tui-screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d /tmp/banger-shot-XXXXXX)
sess="banger-shot-$$"
in=()
network=none
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
  ns="banger-shot-$$"
  ip netns add "$ns" && ip -n "$ns" link set lo up
  in=(ip netns exec "$ns")
  network=bridge
fi
cleanup() {
  "${in[@]}" tmux -L "$sess" kill-server 2>/dev/null || true
  "${in[@]}" bin/banger engine stop --stop-vms --purge >/dev/null 2>&1 || true
  [ -n "${ns:-}" ] && { ip netns pids "$ns" | xargs -r kill -9; ip netns delete "$ns"; }
  rm -rf "$root"
}
trap cleanup EXIT
export BANGER_STATE_DIR=$root/state BANGER_CONFIG_DIR=$root/config BANGER_RUNTIME_DIR=$root/run
export BANGER_CACHE_DIR=$root/cache BANGER_NETWORK=$network BANGER_BACKEND=firecracker
export FIRECRACKER_BIN=$PWD/test/fixtures/firecracker-sim BANGER_KVM_PATH=$root/kvm
export BANGER_DNS_ADDR=${BANGER_DNS_ADDR:-127.0.0.1:42069} TERM=xterm-256color
: >"$BANGER_KVM_PATH"
# A small image and a kernel stand-in (the simulator only opens it).
mkdir -p "$root/tree/lib/systemd" "$root/tree/etc" "$root/tree/root" "$root/tree/sbin"
: >"$root/tree/lib/systemd/systemd"
mkfs.ext4 -q -F -d "$root/tree" "$root/rootfs.ext4" 64M >/dev/null 2>&1
printf '\177ELF\002\001\001' | dd of="$root/vmlinux" bs=4096 conv=sync status=none
# The engine runs detached with these settings; the TUI attaches to it.
"${in[@]}" bin/banger --detach >/dev/null
"${in[@]}" bin/banger image import default "$root/rootfs.ext4" >/dev/null 2>&1
"${in[@]}" bin/banger kernel add default "$root/vmlinux" >/dev/null
"${in[@]}" bin/banger vm create web --vcpus 2 --memory 512 --start >/dev/null
"${in[@]}" bin/banger vm create db --memory 1024 --disk 4G --start >/dev/null
"${in[@]}" bin/banger vm create scratch >/dev/null
"${in[@]}" tmux -L "$sess" new-session -d -x 100 -y 20 "env TERM=$TERM bin/banger"
# Wait for the table to show the VMs, then for one more frame.
for _ in $(seq 100); do
  "${in[@]}" tmux -L "$sess" capture-pane -p | grep -q scratch && break
  sleep 0.1
done
sleep 1
"${in[@]}" tmux -L "$sess" capture-pane -p | sed -e 's/[[:space:]]*$//' >docs/tui-screen.txt
"${in[@]}" tmux -L "$sess" send-keys q
# The README shows the same text between its markers.
node -e '
const fs = require("fs");
const shot = fs.readFileSync("docs/tui-screen.txt", "utf8").trimEnd();
const readme = fs.readFileSync("README.md", "utf8");
const re = /(<!-- tui-screen:start[^\n]*-->\n)[\s\S]*?(<!-- tui-screen:end -->)/;
if (!re.test(readme)) { console.error("README.md has no tui-screen markers"); process.exit(1); }
fs.writeFileSync("README.md", readme.replace(re, (_, a, b) => a + "```text\n" + shot + "\n```\n" + b));
'
echo "wrote docs/tui-screen.txt and the picture in README.md"
