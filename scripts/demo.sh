#!/usr/bin/env bash
# The whole system on this machine, with or without Docker: Redis, Hazelcast, every scan-bridge
# role and the demo scanner writing a scan every 5 s, as a process of its own (scripts/demo-scanner.sh:
# `npm run demo:scanner -- stop` / `-- start` try a scanner outage). Ctrl-C stops scan-bridge and the
# scanner; the services keep
# running until `npm run services:down`. With REDIS_URL and/or HZ_MEMBERS set, those servers are
# used and only the missing ones are started.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -n "${REDIS_URL:-}" ] || missing+=(redis)
[ -n "${HZ_MEMBERS:-}" ] || missing+=(hazelcast)
if [ ${#missing[@]} -eq 2 ] && [ "${SERVICES_DOCKER:-1}" != "0" ] && docker info >/dev/null 2>&1; then
  : "${BOARD_USER:?set BOARD_USER and BOARD_PASSWORD for the board published by docker compose}"
  exec docker compose up --build
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
# Like the servers' ports below: a board port held by another process fails here, before anything starts.
node --import tsx scripts/board-port.ts
npm run -s build
if [ ${#missing[@]} -gt 0 ]; then
  bash scripts/services.sh up "${missing[@]}"
fi
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:${SERVICES_REDIS_PORT:-6379}}"
export HZ_MEMBERS="${HZ_MEMBERS:-127.0.0.1:${SERVICES_HZ_PORT:-5701}}"
export ARROW_DIR="${ARROW_DIR:-./data/arrow_scans}"
# The scanner runs as its own process (npm run demo:scanner -- stop|start), stopped with the demo.
bash scripts/demo-scanner.sh start
trap 'bash scripts/demo-scanner.sh stop >/dev/null' EXIT
echo "Starting scan-bridge (all roles), using REDIS_URL=$REDIS_URL and HZ_MEMBERS=$HZ_MEMBERS, with the demo scanner writing into $ARROW_DIR; Ctrl-C to stop."
# Not exec: the scanner is stopped after scan-bridge. A stop asked of this script is passed on.
node dist/cli.js start --role all &
node_pid=$!
trap 'kill -TERM "$node_pid" 2>/dev/null || true' TERM INT
status=0
wait "$node_pid" || status=$?
# A signal ends `wait` while scan-bridge is still stopping: wait for it to finish.
while kill -0 "$node_pid" 2>/dev/null; do
  status=0
  wait "$node_pid" || status=$?
done
exit "$status"
