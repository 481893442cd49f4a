#!/usr/bin/env bash
# The demo's scanner as a process of its own, so that a scanner outage can be tried while the rest
# of the demo runs on. `npm run demo` starts it; `npm run demo:scanner -- stop` stops it (the
# health check then says warning after DATA_WARNING_S, stale (scanner_silent) after DATA_STALE_S);
# `-- start` starts it again, numbering on from the newest scan on disk; `-- status` tells.
# It writes into ARROW_DIR (default ./data/arrow_scans, as the demo); pid and log in .cache/demo
# (DEMO_STATE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${DEMO_STATE_DIR:-.cache/demo}"
pidfile="$dir/scanner.pid"
export ARROW_DIR="${ARROW_DIR:-./data/arrow_scans}"

# Running: its pid answers and it is not a zombie its parent has yet to reap.
running() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  ! grep -qE '\) Z' "/proc/$pid/stat" 2>/dev/null
}

case "${1:-}" in
  start)
    if running; then
      echo "The demo scanner is already running (pid $(cat "$pidfile")), writing into $ARROW_DIR."
      exit 0
    fi
    mkdir -p "$dir"
    [ -f dist/cli.js ] || npm run -s build
    node dist/cli.js demo-scanner >>"$dir/scanner.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    echo "The demo scanner (pid $!) writes a scan every 5 s into $ARROW_DIR; log: $dir/scanner.log. Stop it alone with: npm run demo:scanner -- stop"
    ;;
  stop)
    if ! running; then
      rm -f "$pidfile"
      echo "The demo scanner is not running."
      exit 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 100); do running || break; sleep 0.1; done
    if running; then kill -KILL "$pid"; fi
    rm -f "$pidfile"
    echo "Stopped the demo scanner (pid $pid); the rest of the demo runs on. The health check says warning once the data is DATA_WARNING_S old (30 s), stale (scanner_silent) at DATA_STALE_S (60 s). Start it again with: npm run demo:scanner -- start"
    ;;
  status)
    if running; then echo "The demo scanner is running (pid $(cat "$pidfile")), writing into $ARROW_DIR."; else echo "The demo scanner is not running."; fi
    ;;
  *)
    echo "usage: npm run demo:scanner -- start|stop|status" >&2
    exit 64
    ;;
esac
