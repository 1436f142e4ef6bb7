# Sourced by scripts/setup: `step LABEL CMD...` runs one step with its output in a log file and
# one line on the terminal (a spinner and the log's latest line while it runs, then ✓ or ✗ and
# the time taken). On failure it prints the log's last lines and where the whole log is, and
# exits with the step's code. SETUP_LOG names the log (default: banger's state dir).

SETUP_LOG=${SETUP_LOG:-${BANGER_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/banger}/setup.log}
SETUP_TAIL_LINES=${SETUP_TAIL_LINES:-25}
mkdir -p "$(dirname "$SETUP_LOG")"
: >"$SETUP_LOG"

# The spinner only on a terminal; a pipe or a file gets one plain line per step.
if [ -t 1 ]; then _setup_tty=1; else _setup_tty=0; fi

_setup_last_line() {
  tail -n 1 "$SETUP_LOG" 2>/dev/null | tr -d '\r' | tr -c '[:print:]' ' ' | cut -c "1-$1"
}

step() {
  local label=$1
  shift
  local start=$SECONDS code=0 pid i=0 frames='|/-\' cols
  printf '\n### %s: %s\n' "$label" "$*" >>"$SETUP_LOG"
  "$@" >>"$SETUP_LOG" 2>&1 </dev/null &
  pid=$!
  if [ "$_setup_tty" = 1 ]; then
    cols=$(tput cols 2>/dev/null || echo 80)
    cols=$((cols - ${#label} - 8 > 10 ? cols - ${#label} - 8 : 10))
    while kill -0 "$pid" 2>/dev/null; do
      # \r and clear-to-end: one line, rewritten in place.
      printf '\r\033[K %s %s  %s' "${frames:i++%4:1}" "$label" "$(_setup_last_line "$cols")"
      sleep 0.2
    done
  fi
  wait "$pid" || code=$?
  local took=$((SECONDS - start))
  [ "$_setup_tty" = 1 ] && printf '\r\033[K'
  if [ "$code" -eq 0 ]; then
    printf ' ✓ %s (%ss)\n' "$label" "$took"
    return 0
  fi
  printf ' ✗ %s failed (exit %s after %ss); the last lines of its log:\n' "$label" "$code" "$took"
  # The failed step's own output: from its header in the log to the end.
  awk -v h="### $label: " 'index($0, h) == 1 { buf = ""; on = 1; next } on { buf = buf $0 "\n" } END { printf "%s", buf }' \
    "$SETUP_LOG" | tail -n "$SETUP_TAIL_LINES" | sed 's/^/   | /'
  printf ' full log: %s\n' "$SETUP_LOG"
  exit "$code"
}

# Steps that may ask for a password: sudo asks now, on a clean line, and the step reuses it.
need_sudo() {
  [ "$(id -u)" -eq 0 ] && return 0
  sudo -v
}
