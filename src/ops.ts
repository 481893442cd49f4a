import type { RedisConnection } from './connections.js';
import type { Config } from './config.js';
import type { Hazelcast } from './connections.js';
import { coerceError } from './errors.js';
import { keys } from './keys.js';
import { readBridgeFacts, type BridgeFactsView } from './bridge/facts.js';
import { readQuarantine, type QuarantineEntry } from './bridge/quarantine.js';
import { JOBS, openJobQueues, type JobName, type JobQueues, type TriggerName } from './jobs/table.js';
import { enqueue, type QueueOf } from './jobs/enqueue.js';
import type { HealthCheckResult } from './jobs/health-check.js';
import type { Logger } from './log.js';
import type { LastRestart } from './jobs/restart-bridge.js';
import type { HealthResult } from './health.js';
import type { BoardAnnouncement } from './summary.js';

/** What operators ask about: the shape of `scan-bridge status --json` and `GET /api/status`. */
export interface SystemStatus {
  at: number;
  schedules: Array<{ id: string; every: number | null; next: number | null }>;
  queues: Record<JobName, { workers: number; counts: Record<string, number> }>;
  bridge: BridgeFactsView & { restarts: number; lastRestart: LastRestart | null };
  latestScan: { scanNumber: number; timestamp: string; ageS: number; assetCount: number; bridgeId: string | null } | { error: string } | null;
  health: HealthResult | null;
  /** Where the board role last said it listens; `null`: no board announced itself lately. */
  board: BoardAnnouncement | null;
  /** Files that broke a decoding limit, skipped by every bridge until they change. */
  quarantine: QuarantineEntry[];
}

/** Every queue of the job table, for status, triggers, the board and metrics. */
export function openQueues(config: Config, connection: RedisConnection, log: Logger): JobQueues {
  return openJobQueues(connection, config, log);
}

export async function collectStatus(config: Config, redis: RedisConnection, queues: JobQueues, hazelcast: Hazelcast | null): Promise<SystemStatus> {
  const k = keys(config.queuePrefix);
  const now = Date.now();
  const [schedulers, facts, quarantine, [restarts, lastRestart, health, board], ...perQueue] = await Promise.all([
    queues['health-check'].getJobSchedulers(),
    readBridgeFacts(redis, config.queuePrefix),
    readQuarantine(redis, config.queuePrefix),
    redis.mget(k.restarts, k.lastRestart, k.healthLatest, k.board),
    ...Object.values(queues).map(async (q) => ({
      name: q.name as JobName,
      workers: await q.getWorkersCount(),
      counts: await q.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed'),
    })),
  ]);
  const latestScan = hazelcast ? await readLatestScan(config, hazelcast, now) : null;
  return {
    at: now,
    schedules: schedulers.map((s) => ({ id: s.key, every: s.every ? Number(s.every) : null, next: s.next ?? null })),
    queues: Object.fromEntries(perQueue.map((q) => [q.name, { workers: q.workers, counts: q.counts }])) as SystemStatus['queues'],
    bridge: { ...facts, restarts: Number(restarts ?? 0), lastRestart: lastRestart ? (JSON.parse(lastRestart) as LastRestart) : null },
    latestScan,
    health: health ? (JSON.parse(health) as HealthCheckResult) : null,
    board: board ? (JSON.parse(board) as BoardAnnouncement) : null,
    quarantine,
  };
}

/** The scan in Hazelcast, read. */
export type LatestScanView = Exclude<SystemStatus['latestScan'], null | { error: string }>;

/** The scan in Hazelcast as operators see it (its age at `now`); null when there is none; `{ error }` when it could not be read. */
export async function readLatestScan(config: Config, hazelcast: Hazelcast, now: number): Promise<SystemStatus['latestScan']> {
  try {
    const v = await (await hazelcast.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
    if (v === null) return null;
    const p = JSON.parse(v) as { scan_number: number; timestamp: string; timestamp_ms: number; asset_count: number; bridge_id?: string };
    return {
      scanNumber: p.scan_number,
      timestamp: p.timestamp,
      ageS: Math.round((now - p.timestamp_ms) / 100) / 10,
      assetCount: p.asset_count,
      bridgeId: p.bridge_id ?? null,
    };
  } catch (err) {
    return { error: coerceError(err).message };
  }
}

export { TRIGGERS, type TriggerName } from './jobs/table.js';

/**
 * Adds job `name` by hand, with the job table's payload for it; a deduplicated job (a restart)
 * may reuse the pending one (`reused`: nothing new was queued).
 */
export async function trigger(queues: JobQueues, name: TriggerName, by: string): Promise<{ jobId: string; queue: string; reused: boolean }> {
  const spec: { queue: string; trigger: (by: string) => unknown } = JOBS[name];
  const queue = queues[name] as QueueOf<unknown, TriggerName>;
  const r = await enqueue(queue, name, spec.trigger(by));
  return { jobId: r.id, queue: spec.queue, reused: r.reused };
}
