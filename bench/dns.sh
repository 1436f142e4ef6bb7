#!/usr/bin/env bash
# bench/dns.sh: banger's .vm DNS server against dnsmasq, same 1,000 names, same dnsperf runs.
# Server pinned to core 0, dnsperf to core 1 (when the host has two or more cores).
# Two runs per server: saturating (max qps, p99 under full load) and a fixed rate (p99 at a
# realistic load). p99 comes from dnsperf -v, which prints every query's latency.
# usage: bench/dns.sh [SECONDS=10] [RATE=20000] [TRIALS=3]
# FLOOR=1 adds a bare Node echo server (bench/dns-floor.ts): the ceiling for any Node dgram server.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rate=${2:-20000}
trials=${3:-3}
names=1000

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dnsperf || ! need dnsmasq; then
  echo "installing dnsperf dnsmasq-base" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  $sudo apt-get install -y dnsperf dnsmasq-base >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
if [ "$(nproc)" -ge 2 ]; then srv_cpu="taskset -c 0"; perf_cpu="taskset -c 1"; else srv_cpu=""; perf_cpu=""; fi

: >"$work/hosts"; : >"$work/queries"
for ((i = 0; i < names; i++)); do
  echo "10.0.$((i >> 8)).$((i & 255)) name$i.vm" >>"$work/hosts"
  echo "name$i.vm A" >>"$work/queries"
done

# banger: the bench helper serves the same names (10.0.X.Y, same numbering)
bport=$(free_port)
$srv_cpu node --import tsx bench/dns-serve.ts "$bport" "$names" >"$work/banger.out" 2>&1 &
pids+=($!)
# dnsmasq: hosts file only, no upstreams, no caching of anything else, foreground
who_list=(banger dnsmasq)
if [ "${FLOOR:-0}" = 1 ]; then
  fport=$(free_port)
  $srv_cpu node --import tsx bench/dns-floor.ts "$fport" >"$work/floor.out" 2>&1 &
  pids+=($!); who_list+=(floor)
fi
mport=$(free_port)
$srv_cpu dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$work/hosts" \
  --listen-address=127.0.0.1 --bind-interfaces --port="$mport" --user="$(id -un)" \
  --pid-file= --log-facility=- --cache-size=10000 >"$work/dnsmasq.out" 2>&1 &
pids+=($!)

for _ in $(seq 50); do grep -q ready "$work/banger.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/banger.out" || { cat "$work/banger.out"; exit 1; }
if [ "${FLOOR:-0}" = 1 ]; then
  for _ in $(seq 50); do grep -q ready "$work/floor.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$work/floor.out" || { cat "$work/floor.out"; exit 1; }
fi
dig +short @127.0.0.1 -p "$bport" name7.vm | grep -qx 10.0.0.7 || { echo "banger does not answer" >&2; exit 1; }
dig +short @127.0.0.1 -p "$mport" name7.vm | grep -qx 10.0.0.7 || { echo "dnsmasq does not answer" >&2; exit 1; }

# run NAME PORT EXTRA... -> prints "qps p50_ms p99_ms lost"
run() {
  local label=$1 port=$2; shift 2
  $perf_cpu dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$secs" -c 4 -q 100 -v "$@" >"$work/$label.log" 2>&1 || true
  local qps lost
  qps=$(awk '/Queries per second/ {print $4}' "$work/$label.log")
  lost=$(awk '/Queries lost/ {print $3}' "$work/$label.log")
  awk '/^> / {print $NF}' "$work/$label.log" | sort -g >"$work/$label.lat"
  local n p50 p99
  n=$(wc -l <"$work/$label.lat")
  p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 {printf "%.3f", $1 * 1000}' "$work/$label.lat")
  p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 {printf "%.3f", $1 * 1000}' "$work/$label.lat")
  echo "$qps $p50 $p99 $lost"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-26s %12s %10s %10s %8s\n' run qps p50_ms p99_ms lost
declare -A QPS P99
for mode in max rate; do
  extra=(); [ "$mode" = rate ] && extra=(-Q "$rate")
  # alternate the servers trial by trial so a noisy neighbour hurts both alike
  for ((t = 1; t <= trials; t++)); do
    for who in "${who_list[@]}"; do
      port=$bport; [ "$who" = dnsmasq ] && port=$mport; [ "$who" = floor ] && port=$fport
      read -r q p50 p99 lost <<<"$(run "$who-$mode-$t" "$port" "${extra[@]}")"
      printf '%-26s %12.0f %10s %10s %8s\n' "$who ($mode, trial $t)" "$q" "$p50" "$p99" "$lost"
      QPS[$who-$mode]+="$q "; P99[$who-$mode]+="$p99 "
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
m() { median ${1}; }
bq=$(m "${QPS[banger-max]}"); mq=$(m "${QPS[dnsmasq-max]}")
bp=$(m "${P99[banger-max]}"); mp=$(m "${P99[dnsmasq-max]}")
brp=$(m "${P99[banger-rate]}"); mrp=$(m "${P99[dnsmasq-rate]}")
echo
echo "medians of $trials trials, ${secs}s each:"
echo "  banger  max qps $bq  p99 ${bp} ms   | at ${rate} qps: p99 ${brp} ms"
echo "  dnsmasq max qps $mq  p99 ${mp} ms   | at ${rate} qps: p99 ${mrp} ms"
if [ "${FLOOR:-0}" = 1 ]; then
  fq=$(m "${QPS[floor-max]}")
  echo "  floor   max qps $fq  (bare Node echo) | banger/floor qps ratio $(ratio "$bq" "$fq")"
fi
echo "qps ratio banger/dnsmasq (max load):     $(ratio "$bq" "$mq")   (target >= 1.0)"
echo "p99 ratio banger/dnsmasq (max load):     $(ratio "$bp" "$mp")   (target <= 1.0)"
echo "p99 ratio banger/dnsmasq (${rate} qps):  $(ratio "$brp" "$mrp")"
