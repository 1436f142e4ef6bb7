#!/usr/bin/env bash
# bench/startup.sh: start-up speed and engine memory of the compiled binary, each against a
# floor measured in the same run (see bench/startup.ts for what and the targets).
# usage: bench/startup.sh [--rounds N] [--tui-rounds N] [--no-build] [--only cli,tui,rss]
# NO_BUILD=1 measures dist/ as it is (default: npm run build first).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tmux >/dev/null || { echo "bench/startup.sh needs tmux (apt-get install tmux)" >&2; exit 1; }
[ "${NO_BUILD:-}" = 1 ] || npm run build >/dev/null
exec node --import tsx bench/startup.ts "$@"
