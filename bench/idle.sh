#!/usr/bin/env bash
# Idle cost of one `start --role bridge` process with default settings and no scans arriving:
# CPU seconds over a minute (after 20 s to settle), resident memory and threads, as JSON.
# Starts its own Redis and Hazelcast member (services:up) on the ports below, and stops them.
# Usage: npm run build && bash bench/idle.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
dir=$(mktemp -d)
export SERVICES_STATE_DIR=$dir/state SERVICES_REDIS_PORT=${IDLE_REDIS_PORT:-16391} SERVICES_HZ_PORT=${IDLE_HZ_PORT:-16392} SERVICES_DOCKER=0
npm run -s services:up >"$dir/services.log" 2>&1
trap 'npm run -s services:down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
export REDIS_URL=redis://127.0.0.1:$SERVICES_REDIS_PORT HZ_MEMBERS=127.0.0.1:$SERVICES_HZ_PORT
export ARROW_DIR=$dir/arrow BOARD_PORT=0 LOG_PRETTY=0 QUEUE_PREFIX=idle-bench
mkdir -p "$ARROW_DIR"
node dist/cli.js start --role bridge >"$dir/bridge.log" 2>&1 &
pid=$!
sleep 20
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(cpu)
sleep "$secs"
t1=$(cpu)
tck=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
threads=$(awk '/Threads/{print $2}' "/proc/$pid/status")
kill "$pid"
wait "$pid" 2>/dev/null || true
node -e '
const [ticks, tck, secs, rssKb, threads] = process.argv.slice(1).map(Number);
const cpuS = ticks / tck;
console.log(JSON.stringify({ role: "bridge", idle_s: secs, cpu_s: cpuS, cpu_percent_of_a_core: Math.round((cpuS / secs) * 1000) / 10, rss_mb: Math.round(rssKb / 102.4) / 10, threads, at: new Date().toISOString() }, null, 2));
' "$((t1 - t0))" "$tck" "$secs" "$rss" "$threads"
