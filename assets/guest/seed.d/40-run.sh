#!/bin/sh
# banger boot hook for `vm create --run`: starts the image's Entrypoint+Cmd as a supervised
# service (restarted with a backoff when it exits, stopped at shutdown), with the image's Env,
# WorkingDir and User, its output on the console prefixed "[run] ".
#   40-run.sh [DIR]       boot: copy DIR/run (default: $SEED/banger, set by seed.sh) to /run, start the
#                         supervisor (a transient systemd unit where systemd runs, else setsid)
#   40-run.sh supervise   the supervisor loop
#   40-run.sh stop        stop the service and its supervisor (busybox inittab's shutdown)
# The spec files hold one value per line as printf %b escapes (written by the host's
# app/engine/vm/seed/run.ts): values are decoded into variables, never evaluated.
PATH=/sbin:/bin:/usr/sbin:/usr/bin:$PATH
RUNDIR=${BANGER_RUN_DIR:-/run/banger/run}
CONSOLE=${BANGER_RUN_CONSOLE:-/dev/console}
PREFIX='[run] '
MAX_DELAY=${BANGER_RUN_MAX_DELAY:-30}
STEADY=10 # a run this long (s) resets the backoff

say() { printf '%s%s\n' "$PREFIX" "$*" >>"$CONSOLE" 2>/dev/null; }
dec() { v=$(printf '%bx' "$1"); v=${v%x}; }
uptime_s() { read -r u _ </proc/uptime; echo "${u%.*}"; }

start() {
  seed=${1:-${SEED:+$SEED/banger}}
  seed=${seed:-$(dirname "$0")/..}
  [ -s "$seed/run/argv" ] || exit 0
  mkdir -p "$RUNDIR" && chmod 700 "$RUNDIR" || exit 1
  for f in argv env workdir user; do cp "$seed/run/$f" "$RUNDIR/$f" 2>/dev/null || : >"$RUNDIR/$f"; done
  cp "$0" "$RUNDIR/run.sh"
  if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then
    # Its own unit: outlives the boot hook's unit, and systemd stops it at shutdown.
    systemd-run --unit=banger-run --collect -p KillMode=mixed -p TimeoutStopSec=15 \
      --setenv=BANGER_RUN_DIR="$RUNDIR" /bin/sh "$RUNDIR/run.sh" supervise >/dev/null
  else
    setsid /bin/sh "$RUNDIR/run.sh" supervise </dev/null >/dev/null 2>&1 &
  fi
}

# USER[:GROUP] -> RUID RGID (names from /etc/passwd and /etc/group; a uid with no entry: gid 0).
resolve_user() {
  u=${1%%:*}; g=; case $1 in *:*) g=${1#*:} ;; esac
  RUID=; RGID=
  while IFS=: read -r n _ id gid _; do
    case $u in *[!0-9]*) [ "$n" = "$u" ] ;; *) [ "$id" = "$u" ] ;; esac && { RUID=$id; RGID=$gid; break; }
  done </etc/passwd 2>/dev/null
  if [ -z "$RUID" ]; then
    case $u in *[!0-9]* | '') say "unknown user \"$u\" (not in /etc/passwd)"; return 1 ;; esac
    RUID=$u; RGID=0
  fi
  [ -n "$g" ] || return 0
  case $g in
    *[!0-9]*)
      RGID=
      while IFS=: read -r n _ id _; do [ "$n" = "$g" ] && { RGID=$id; break; }; done </etc/group 2>/dev/null
      [ -n "$RGID" ] || { say "unknown group \"$g\" (not in /etc/group)"; return 1; } ;;
    *) RGID=$g ;;
  esac
}

# Prints how to switch to RUID:RGID: "setpriv" (util-linux) or "ssd" (busybox start-stop-daemon).
switcher() {
  if [ -n "${BANGER_RUN_SWITCH:-}" ]; then echo "$BANGER_RUN_SWITCH" # tests try both
  elif setpriv --help 2>&1 | grep -q -- --reuid; then echo setpriv
  elif busybox start-stop-daemon --help >/dev/null 2>&1; then echo ssd
  fi
}

# "$@" becomes: env -i ENV... [user switch] ARGV... ; then the loop runs it.
supervise() {
  echo $$ >"$RUNDIR/supervisor.pid"
  dec "$(cat "$RUNDIR/workdir")"; WD=${v:-/}
  USERSPEC=; [ -s "$RUNDIR/user" ] && { dec "$(cat "$RUNDIR/user")"; USERSPEC=$v; }
  set -- "$(command -v env)" -i
  while IFS= read -r l; do dec "$l"; set -- "$@" "$v"; done <"$RUNDIR/env"
  how=
  if [ -n "$USERSPEC" ]; then
    resolve_user "$USERSPEC" || exit 1
    if [ "$RUID:$RGID" != 0:0 ]; then
      how=$(switcher)
      case $how in
        setpriv) set -- "$@" "$(command -v setpriv)" --reuid="$RUID" --regid="$RGID" --clear-groups -- ;;
        ssd)
          # busybox's -c looks the uid up: give a bare uid an entry.
          grep -q "^[^:]*:[^:]*:$RUID:" /etc/passwd 2>/dev/null ||
            echo "run$RUID:x:$RUID:$RGID:banger --run:/:/bin/false" >>/etc/passwd
          set -- "$@" "$(command -v busybox)" start-stop-daemon -S -q -p "$RUNDIR/none.pid" -c "$RUID:$RGID" -x ;;
        *) say "cannot run as $USERSPEC: no setpriv or busybox start-stop-daemon in this guest"; exit 1 ;;
      esac
    fi
  fi
  first=1
  while IFS= read -r l; do
    dec "$l"; set -- "$@" "$v"
    # start-stop-daemon takes the program after -x and its arguments after --.
    [ -n "$first" ] && [ "$how" = ssd ] && set -- "$@" --
    first=
  done <"$RUNDIR/argv"
  loop "$@"
}

loop() {
  child=; stopping=
  trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null' TERM INT HUP
  delay=1
  while [ -z "$stopping" ]; do
    t0=$(uptime_s)
    rm -f "$RUNDIR/out" && mkfifo -m 600 "$RUNDIR/out"
    (while IFS= read -r l || [ -n "$l" ]; do printf '%s%s\n' "$PREFIX" "$l"; done <"$RUNDIR/out" >>"$CONSOLE") &
    (cd "$WD" || { echo "cannot enter WorkingDir $WD"; exit 126; }; exec "$@") </dev/null >"$RUNDIR/out" 2>&1 &
    child=$!
    echo "$child" >"$RUNDIR/service.pid"
    say "started (pid $child)"
    status=
    while [ -z "$status" ]; do
      wait "$child"; rc=$?
      # A trapped signal interrupts wait (rc > 128) while the child still runs: wait again.
      kill -0 "$child" 2>/dev/null || status=$rc
      [ -z "$stopping" ] || break
    done
    [ -z "$stopping" ] || break
    child=
    ran=$(($(uptime_s) - t0))
    [ "$ran" -lt "$STEADY" ] || delay=1
    say "exited with status $status after ${ran}s; restarting in ${delay}s"
    sleep "$delay" & sl=$!
    wait "$sl"; kill "$sl" 2>/dev/null
    delay=$((delay * 2)); [ "$delay" -le "$MAX_DELAY" ] || delay=$MAX_DELAY
  done
  stop_child
  rm -f "$RUNDIR/supervisor.pid" "$RUNDIR/service.pid"
  exit 0
}

# Stop the service: TERM, up to 10 s, then KILL.
stop_child() {
  [ -n "$child" ] || return 0
  kill -TERM "$child" 2>/dev/null
  i=0
  while kill -0 "$child" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  say "stopped"
}

stop() {
  pid=$(cat "$RUNDIR/supervisor.pid" 2>/dev/null) || exit 0
  kill -TERM "$pid" 2>/dev/null || exit 0
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.1; i=$((i + 1)); done
}

case ${1:-} in
  supervise) supervise ;;
  stop) stop ;;
  *) start "$@" ;;
esac
