import type { RedisConnection } from './connections.js';
import type { Config } from './config.js';
import type { Hazelcast } from './connections.js';
import { coerceError } from './errors.js';
import { keys } from './keys.js';
import { readBridgeFacts, type BridgeFactsView } from './bridge/facts.js';
import { readQuarantine, type QuarantineEntry } from './bridge/guards/quarantine.js';
import { JOBS, openJobQueues, type JobName, type JobQueues, type TriggerName } from './jobs/table.js';
import { enqueue, type QueueOf } from './jobs/enqueue.js';
import type { HealthCheckResult } from './jobs/health-check.js';
import type { Logger } from './log.js';
import type { LastRestart } from './jobs/restart-bridge.js';
import type { HealthResult } from './health.js';
import type { BoardAnnouncement } from './summary.js';
import { judgeStoredScan } from './bridge/guards/stored-value.js';

/** What operators ask about: the shape of `scan-bridge status --json` and `GET /api/status`. */
export interface SystemStatus {
  at: number;
  schedules: Array<{ id: string; every: number | null; next: number | null }>;
  queues: Record<JobName, { workers: number; counts: Record<string, number> }>;
  bridge: BridgeFactsView & { restarts: number; lastRestart: LastRestart | null };
  /** `unusable`: the value is no scan (bridge/guards/stored-value.ts), and why; `error`: Hazelcast could not be read. */
  latestScan:
    { scanNumber: number; timestamp: string; ageS: number; assetCount: number; bridgeId: string | null } | { unusable: string } | { error: string } | null;
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
/** A scan as operators see it: neither absent, nor unreadable, nor an unusable value. */
export type LatestScanView = Extract<SystemStatus['latestScan'], { scanNumber: number }>;

/** The scan in Hazelcast as operators see it (its age at `now`); null when there is none; `{ error }` when it could not be read. */
export async function readLatestScan(config: Config, hazelcast: Hazelcast, now: number): Promise<SystemStatus['latestScan']> {
  try {
    const v = await (await hazelcast.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
    const judged = v === null ? null : judgeStoredScan(v, { nowMs: now, maxSkewS: config.maxClockSkewS });
    if (judged === null) return null;
    if (judged.kind === 'unusable') return { unusable: judged.why };
    const p = judged.value;
    return {
      scanNumber: p.scan_number,
      timestamp: new Date(p.timestamp_ms).toISOString(),
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
 * may reuse the pending one (`reused`: nothing new was queued). `warnings`: why it will not run
 * now (no worker listens to its queue; for a restart, no bridge worker to start a bridge).
 */
export async function trigger(
  queues: JobQueues,
  name: TriggerName,
  by: string,
): Promise<{ jobId: string; queue: string; reused: boolean; warnings: string[] }> {
  const spec: { queue: string; trigger: (by: string) => unknown } = JOBS[name];
  const queue = queues[name] as QueueOf<unknown, TriggerName>;
  const r = await enqueue(queue, name, spec.trigger(by));
  const [workers, bridgeWorkers] = await Promise.all([queues[name].getWorkersCount(), queues.bridge.getWorkersCount()]);
  const warnings: string[] = [];
  if (workers === 0) warnings.push(`no worker listens to queue ${spec.queue}: the job waits there until one starts (\`scan-bridge start --role worker\`)`);
  if (name === 'restart-bridge' && bridgeWorkers === 0)
    warnings.push('no bridge worker is connected: a restart cannot start a bridge until one runs (`scan-bridge start --role bridge`)');
  return { jobId: r.id, queue: spec.queue, reused: r.reused, warnings };
}
