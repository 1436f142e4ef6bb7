#!/usr/bin/env bash
# bench/dns.sh: banger's .vm DNS server (each UDP path) against dnsmasq in the same run, same
# names, same dnsperf runs, interleaved trial by trial. Server(s) pinned to core 0, dnsperf to
# core 1 (when the host has two or more cores). Loopback only.
# Workload: 1,000 names served; the query file is 90% hits and 10% NXDOMAIN (names in the zone
# that do not exist). Two modes per server: saturating (max qps) and a fixed rate (latency at a
# realistic load: p50/p99/p99.9 from dnsperf -v, which prints every query's latency).
# usage: bench/dns.sh [SECONDS=8] [RATE=5000] [TRIALS=3]
#   PATHS="dgram native" picks banger's UDP paths (default: every one that starts here).
#   BUSY=MS keeps banger's JS thread busy MS ms of every 100 (the rest of an engine), to see
#   which path is hurt by it; default 0 (the DNS server alone).
#   V8_FLAGS="..." runs banger's servers under these node flags instead of the engine's (A/B).
#   FLOOR=1 adds a bare Node echo server (bench/dns-floor.ts): the ceiling for any Node dgram server.
# Bounded: servers x 2 modes x TRIALS x SECONDS (about 3.5 min with the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rate=${2:-5000}
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

# 1,000 names served (10.0.X.Y); queries: every tenth line asks for a name that does not exist.
: >"$work/hosts"; : >"$work/queries"
for ((i = 0; i < names; i++)); do
  echo "10.0.$((i >> 8)).$((i & 255)) name$i.vm" >>"$work/hosts"
  if ((i % 10 == 9)); then echo "nope$i.vm A" >>"$work/queries"; else echo "name$i.vm A" >>"$work/queries"; fi
done

declare -A PORT PID
wait_ready() { # FILE -> 0 once "ready" is printed, 1 if the process said "unavailable" or never got ready
  for _ in $(seq 100); do
    grep -q ready "$1" 2>/dev/null && return 0
    grep -q unavailable "$1" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

who_list=(dnsmasq)
# dnsmasq: hosts file only, authoritative for vm (--local: NXDOMAIN, never forwarded), foreground
mport=$(free_port)
$srv_cpu dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$work/hosts" --local=/vm/ \
  --listen-address=127.0.0.1 --bind-interfaces --port="$mport" --user="$(id -un)" \
  --pid-file= --log-facility=- --cache-size=10000 >"$work/dnsmasq.out" 2>&1 &
pids+=($!); PORT[dnsmasq]=$mport; PID[dnsmasq]=$!

# Each path runs under the V8 flags an engine using it gets (app/entry/connect.ts engineV8Flags).
v8_flags() {
  BANGER_DNS_UDP=$1 node --import tsx -e \
    'import("./app/entry/connect.ts").then((m) => console.log(m.engineV8Flags().join(" ")))'
}
for path in ${PATHS:-dgram native}; do
  port=$(free_port)
  flags=${V8_FLAGS-$(v8_flags "$path")} # V8_FLAGS overrides them (A/B runs)
  echo "banger $path path: node $flags" >&2
  # shellcheck disable=SC2086 # flags are words
  $srv_cpu node $flags --import tsx bench/dns-serve.ts "$port" "$names" "$path" >"$work/$path.out" 2>&1 &
  pids+=($!)
  if wait_ready "$work/$path.out"; then
    who_list+=("$path"); PORT[$path]=$port; PID[$path]=${pids[-1]}
  else
    echo "banger $path path skipped: $(head -c 300 "$work/$path.out")" >&2
  fi
done
if [ "${FLOOR:-0}" = 1 ]; then
  port=$(free_port)
  $srv_cpu node --import tsx bench/dns-floor.ts "$port" >"$work/floor.out" 2>&1 &
  pids+=($!)
  wait_ready "$work/floor.out" || { cat "$work/floor.out"; exit 1; }
  who_list+=(floor); PORT[floor]=$port; PID[floor]=${pids[-1]}
fi

for who in "${who_list[@]}"; do
  [ "$who" = floor ] && continue
  dig +short @127.0.0.1 -p "${PORT[$who]}" name7.vm | grep -qx 10.0.0.7 || { echo "$who does not answer" >&2; exit 1; }
  dig @127.0.0.1 -p "${PORT[$who]}" nope9.vm | grep -q 'status: NXDOMAIN' || { echo "$who: no NXDOMAIN" >&2; exit 1; }
done

# At the fixed rate the server under test and dnsperf run SCHED_FIFO (RT=0: off), so the
# latency measured is the server's own (GC, event loop), not the shared host's other tenants.
# Only at the fixed rate: neither then needs more than a fraction of its core.
rt=${RT:-1}
if [ "$rt" = 1 ] && ! chrt -f 10 true 2>/dev/null; then rt=0; echo "no SCHED_FIFO here: RT off" >&2; fi
# Only the threads that serve DNS get it: all of dnsmasq and of a dgram server (its JS thread
# serves), only the serving thread of the native path (named banger-dns-udp), whose JS thread
# is the rest of an engine and stays an ordinary thread.
realtime() {
  [ "$rt" = 1 ] || return 0
  local task served=0
  for task in /proc/"${PID[$1]}"/task/*; do
    [ "$(cat "$task/comm" 2>/dev/null)" = banger-dns-udp ] && chrt -f -p 10 "${task##*/}" >/dev/null && served=1
  done
  [ "$served" = 1 ] || chrt -a -f -p 10 "${PID[$1]}" >/dev/null
  return 0
}
timeshare() { [ "$rt" = 1 ] && chrt -a -o -p 0 "${PID[$1]}" >/dev/null; return 0; }

# run LABEL PORT EXTRA... -> prints "qps p50_ms p99_ms p999_ms lost"
run() {
  local label=$1 port=$2 prio=""; shift 2
  [ "$rt" = 1 ] && [ "$*" != "" ] && prio="chrt -f 10"
  $prio $perf_cpu dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$secs" -t 2 -c 4 -q 100 -v "$@" >"$work/$label.log" 2>&1 || true
  local qps lost n
  qps=$(awk '/Queries per second/ {print $4}' "$work/$label.log")
  lost=$(awk '/Queries lost/ {print $3}' "$work/$label.log")
  awk '/^> / {print $NF}' "$work/$label.log" | sort -g >"$work/$label.lat"
  n=$(wc -l <"$work/$label.lat")
  awk -v n="$n" -v q="${qps:-0}" -v l="${lost:-?}" '
    NR == int(n * 0.50) + 1 { p50 = $1 * 1000 }
    NR == int(n * 0.99) + 1 { p99 = $1 * 1000 }
    NR == int(n * 0.999) + 1 { p999 = $1 * 1000 }
    END { printf "%.0f %.3f %.3f %.3f %s\n", q, p50, p99, p999, l }' "$work/$label.lat"
  rm -f "$work/$label.log" "$work/$label.lat"
}

# median and range of a space-separated list
stat() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {printf "%s (%s-%s)", a[int((NR + 1) / 2)], a[1], a[NR]}'; }
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

printf '%-24s %9s %8s %8s %9s %8s\n' run qps p50_ms p99_ms p99.9_ms lost
declare -A QPS P50 P99 P999
n=${#who_list[@]}
for ((t = 1; t <= trials; t++)); do
  for mode in max rate; do
    extra=(); [ "$mode" = rate ] && extra=(-Q "$rate")
    # interleaved, and the order rotates each trial so a noisy neighbour hurts every server alike
    for ((k = 0; k < n; k++)); do
      who=${who_list[$(((k + t - 1) % n))]}
      [ "$mode" = rate ] && realtime "$who"
      read -r q p50 p99 p999 lost <<<"$(run "$who-$mode-$t" "${PORT[$who]}" "${extra[@]}")"
      [ "$mode" = rate ] && timeshare "$who"
      printf '%-24s %9s %8s %8s %9s %8s\n' "$who ($mode, trial $t)" "$q" "$p50" "$p99" "$p999" "$lost"
      QPS[$who-$mode]+="$q "; P50[$who-$mode]+="$p50 "; P99[$who-$mode]+="$p99 "; P999[$who-$mode]+="$p999 "
    done
  done
done

echo
echo "medians (min-max) of $trials interleaved trials, ${secs}s each; server on core 0, dnsperf on core 1; SCHED_FIFO at the fixed rate: $([ "$rt" = 1 ] && echo yes || echo no)"
echo "banger's JS thread busy ${BUSY:-0} ms of every 100 ms (BUSY)"
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: figures are noisy)"
printf '%-8s %-26s %-26s %-26s %-26s\n' server "max qps" "p99 ms @${rate}qps" "p99.9 ms @${rate}qps" "p50 ms @${rate}qps"
for who in "${who_list[@]}"; do
  printf '%-8s %-26s %-26s %-26s %-26s\n' "$who" "$(stat "${QPS[$who-max]}")" "$(stat "${P99[$who-rate]}")" \
    "$(stat "${P999[$who-rate]}")" "$(stat "${P50[$who-rate]}")"
done
mq=$(median "${QPS[dnsmasq-max]}"); mp=$(median "${P99[dnsmasq-rate]}")
echo
echo "ratios against dnsmasq (medians); targets: qps >= 0.9 (stretch 1.0), p99 <= 2.0, p99.9 <= 3 ms"
for who in "${who_list[@]}"; do
  [ "$who" = dnsmasq ] && continue
  q=$(ratio "$(median "${QPS[$who-max]}")" "$mq"); p=$(ratio "$(median "${P99[$who-rate]}")" "$mp")
  p999=$(median "${P999[$who-rate]}")
  ok() { awk -v v="$1" -v op="$2" -v lim="$3" 'BEGIN { r = (op == ">=") ? v >= lim : v <= lim; print r ? "ok" : "MISS" }'; }
  printf '%-8s qps %s (%s)   p99 %s (%s)   p99.9 %s ms (%s)\n' "$who" "$q" "$(ok "$q" ">=" 0.9)" "$p" "$(ok "$p" "<=" 2)" \
    "$p999" "$(ok "$p999" "<=" 3)"
done
