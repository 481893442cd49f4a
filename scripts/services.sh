#!/usr/bin/env bash
# Starts or stops Redis and Hazelcast for local runs: docker compose when an engine answers
# (and SERVICES_DOCKER is not 0), otherwise redis-server and the Hazelcast jar on Java.
# `services.sh up redis` (or `hazelcast`) starts only that one, `down redis` stops only that one:
# a command for one never stops or restarts the other.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-up}"
shift || true
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(redis hazelcast)
if [ "${SERVICES_DOCKER:-1}" != "0" ] && docker info >/dev/null 2>&1; then
  # The compose file refuses to load without a board login (the board service needs one); these
  # placeholders only satisfy that check: the board is not started here.
  export BOARD_USER=${BOARD_USER:-unused} BOARD_PASSWORD=${BOARD_PASSWORD:-unused}
  if [ "$action" = up ]; then
    docker compose up -d --wait "${services[@]}"
    echo "Services are up (docker compose). Use REDIS_URL=redis://127.0.0.1:6379 HZ_MEMBERS=127.0.0.1:5701"
  else
    docker compose stop "${services[@]}"
  fi
  exit 0
fi
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
command -v java >/dev/null || { echo "java is missing: a JDK 17 is needed for the Hazelcast member" >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
# A development tool, not part of the product: run from its TypeScript source (tsx), never built into dist/.
exec node --import tsx scripts/servers/services-cli.ts "$action" "${services[@]}"
