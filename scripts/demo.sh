#!/usr/bin/env bash
# The whole system on this machine, with or without Docker: Redis, Hazelcast, every scan-bridge
# role and the demo scanner writing a scan every 5 s. Ctrl-C stops scan-bridge; the services keep
# running until `npm run services:down`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SERVICES_DOCKER:-1}" != "0" ] && docker info >/dev/null 2>&1; then
  : "${BOARD_USER:?set BOARD_USER and BOARD_PASSWORD for the board published by docker compose}"
  exec docker compose up --build
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
npm run -s build
bash scripts/services.sh up
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:${SERVICES_REDIS_PORT:-6379}}"
export HZ_MEMBERS="${HZ_MEMBERS:-127.0.0.1:${SERVICES_HZ_PORT:-5701}}"
export ARROW_DIR="${ARROW_DIR:-./data/arrow_scans}"
echo "Starting scan-bridge (all roles) with the demo scanner writing into $ARROW_DIR; Ctrl-C to stop."
exec node dist/cli.js start --role all --with-demo-scanner
