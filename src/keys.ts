/** Every Redis key of scan-bridge outside BullMQ's own, in one place. All live under the queue prefix. */
export function keys(prefix: string) {
  return {
    /** The live bridge's heartbeat (JSON, expires after BRIDGE_HEARTBEAT_TTL_MS). */
    heartbeat: `${prefix}:bridge:heartbeat`,
    /** The bridge's latest stats (JSON). */
    stats: `${prefix}:bridge:stats`,
    /** Counter: one generation per bridge run, across all machines; taking the lease takes the next one. */
    generation: `${prefix}:bridge:generation`,
    /** The bridge lease (JSON: token, generation, pid, host; expires after BRIDGE_LOCK_MS unless renewed): who may run the bridge (jobs/bridge-lease.ts). */
    lease: `${prefix}:bridge:lease`,
    /** Where a board role listens (JSON: urls, host, pid), refreshed while it runs, expiring after. */
    board: `${prefix}:board:address`,
    /** When the first health check ran under this prefix (epoch ms): the start of a new system. */
    checkingSince: `${prefix}:health:checking-since`,
    /** When the health history was last found lost and began again (JSON: at, lostSince; history-reset.ts). */
    healthReset: `${prefix}:health:reset`,
    /** Latest health result (JSON). */
    healthLatest: `${prefix}:health:latest`,
    /** Capped list of health results, newest first (JSON each). */
    healthHistory: `${prefix}:health:history`,
    /** Sorted set of compact health points by time, 7 days at most (health-timeline.ts). */
    healthTimeline: `${prefix}:health:timeline`,
    /** Restarts of the bridge, ever: restart jobs confirmed and crash restarts inside a worker. */
    restarts: `${prefix}:bridge:restarts`,
    /** The last restart job's outcome (JSON: state, at, error). */
    lastRestart: `${prefix}:bridge:last-restart`,
    /** Generation up to which a restart was asked for; a bridge run of that generation or older restarts. */
    restartRequest: `${prefix}:bridge:restart-request`,
    /** Set when a worker gave up after its crash restarts; cleared by a restart job. */
    gaveUp: `${prefix}:bridge:gave-up`,
    /** Hash: scan files that broke a decoding limit, by path relative to ARROW_DIR (JSON each). */
    quarantine: `${prefix}:bridge:quarantine`,
  };
}
