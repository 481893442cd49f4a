import type { Job, Queue } from 'bullmq';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { backAgoMs, isConnectionError, reasonInWords } from '../reachability.js';
import { keys } from '../keys.js';
import { readBridgeFacts } from '../bridge/facts.js';
import { parseStoredScan } from '../bridge/guards/stored-value.js';
import { newestGoodOnDisk, type BadFile } from '../bridge/guards/bad-files.js';
import { compareScans, type ScanOrderKey } from '../bridge/guards/scan-order.js';
import { decideHealth, isStarting, type HealthInputs, type HealthResult } from '../health.js';
import { enqueue, type Enqueued } from './enqueue.js';
import type { RestartPayload, RestartResult } from './restart-bridge.js';
import { sleep, withTimeout } from '../time.js';
import { healthEntry } from '../ready/decide.js';
import { addToTimeline } from '../health-timeline.js';
import { contentSettingsOf } from '../content/rules.js';
import { markCheckingSince } from '../history-reset.js';

/** No read of a check may take longer than this: a dead server makes the check say error, not hang. */
const READ_TIMEOUT_MS = 2000;
const HZ_EXPIRY_GRAIN_MS = 1000;
/**
 * How long a check that finds the bridge behind waits at least before it looks again and acts;
 * at least one bridge heartbeat too, so the bridge's verdict on a file that just landed (bad, or
 * pushed) has reached its stats in Redis.
 */
const BEHIND_CONFIRM_MS = 1000;

export interface HealthCheckPayload {
  trigger: 'schedule' | 'manual';
}

export interface HealthCheckDeps {
  config: Config;
  /** A fail-fast connection (no offline queue): a Redis outage is an error result, not a hang. */
  redis: RedisConnection;
  hazelcast: Hazelcast;
  log: Logger;
  /** Where restarts go (opened from the job table); absent for a check that must not act. */
  restartQueue?: Queue<RestartPayload, RestartResult, 'restart-bridge'>;
  /** Told every result once it is recorded (alerts); must not block. */
  onResult?: (result: HealthCheckResult) => void;
}

/** Reads everything the decision needs, each read bounded in time. */
export async function gatherHealthInputs(deps: HealthCheckDeps, now = Date.now()): Promise<HealthInputs> {
  const { config, redis, hazelcast } = deps;
  const k = keys(config.queuePrefix);
  const latest = withTimeout(
    (async () => {
      const map = await hazelcast.client.getMap<string, string>(config.hzMap);
      return map.get(config.hzKey);
    })(),
    READ_TIMEOUT_MS,
    'Hazelcast',
  ).then(
    (v): HealthInputs['latest'] => {
      if (v === null) return { kind: 'ok', payload: null };
      // Any client can write the key: a value that is no scan is reported as such (bridge/guards/stored-value.ts).
      const judged = parseStoredScan(v);
      return judged.kind === 'scan' ? { kind: 'ok', payload: judged.value } : { kind: 'unusable', why: judged.why };
    },
    (err: unknown): HealthInputs['latest'] => ({ kind: 'unreachable', error: coerceError(err).message }),
  );
  const fromRedis = withTimeout(
    Promise.all([readBridgeFacts(redis, config.queuePrefix), redis.mget(k.restarts, k.lastRestart, k.generation, k.checkingSince)]),
    READ_TIMEOUT_MS,
    'Redis',
  ).then(
    ([facts, [restarts, lastRestart, generation, since]]) => ({
      ok: true as const,
      facts,
      restarts: Number(restarts ?? 0),
      lastRestart: lastRestart ? (JSON.parse(lastRestart) as HealthInputs['lastRestart']) : null,
      bridgeEverStarted: Number(generation ?? 0) > 0,
      checkingSince: since === null || since === undefined ? null : Number(since),
    }),
    (err: unknown) => ({ ok: false as const, error: coerceError(err).message }),
  );
  // The files the bridge found bad are passed over: only the newest good file can be "newer on disk".
  const onDisk = fromRedis.then((r) => newestGoodOnDisk(config.arrowDir, (r.ok ? r.facts.stats?.badFiles : undefined) ?? []).catch(() => null));
  const [latestRead, r, listed] = await Promise.all([latest, fromRedis, onDisk]);
  const stats = r.ok ? r.facts.stats : null;
  // The folder may be on another machine (or not listable here): then the bridge's own view is the best we have.
  const disk = listed && (listed.good || listed.bad) ? listed : bridgeView(stats);
  return {
    now,
    thresholds: {
      warningS: config.dataWarningS,
      staleS: config.dataStaleS,
      heartbeatTtlMs: config.bridgeHeartbeatTtlMs,
      startGraceS: config.bridgeStartGraceS,
      maxClockSkewS: config.maxClockSkewS,
    },
    latest: latestRead,
    heartbeat: r.ok ? { kind: 'ok', value: r.facts.heartbeat } : { kind: 'unreachable', error: r.error },
    newestOnDisk: disk.good?.scanNumber ?? null,
    newestOnDiskAtMs: disk.good && Number.isFinite(disk.good.timestampMs) ? disk.good.timestampMs : null,
    newestBadFile: disk.bad,
    clockSkew: stats?.lastClockSkew ?? null,
    stampedBeforeWrite: stats?.lastStampedBeforeWrite ?? null,
    content: { window: stats?.content ?? null, settings: contentSettingsOf(config) },
    redisBackMs: backAgoMs('redis', now),
    restarts: r.ok ? r.restarts : 0,
    lastRestart: r.ok ? r.lastRestart : null,
    ...(r.ok ? { bridgeEverStarted: r.bridgeEverStarted, checkingSince: r.checkingSince } : {}),
  };
}

/** The newest good and bad scan files as the bridge saw them: its newest scan read, and a bad file newer than that. */
function bridgeView(stats: { newestSeenOnDisk: number | null; newestSeenOnDiskAtMs: number | null; badFiles?: BadFile[] } | null): {
  good: ScanOrderKey | null;
  bad: BadFile | null;
} {
  const good = stats?.newestSeenOnDisk == null ? null : { scanNumber: stats.newestSeenOnDisk, timestampMs: stats.newestSeenOnDiskAtMs ?? -Infinity };
  const bad = stats?.badFiles?.[0] ?? null;
  const badKey = bad && { scanNumber: bad.scanNumber ?? -1, timestampMs: bad.timestampMs ?? -Infinity };
  return { good, bad: bad && badKey && (!good || compareScans(badKey, good) > 0) ? bad : null };
}

/** Keeps the result as the latest status, in the capped history and timeline, and in Hazelcast (with `validUntil`, expiring then). Best effort. */
export async function recordHealth(deps: HealthCheckDeps, result: HealthResult): Promise<void> {
  const k = keys(deps.config.queuePrefix);
  const json = JSON.stringify(result);
  const entry = healthEntry(result, deps.config.healthIntervalMs);
  // The entry dies with the checks: no entry means nobody is checking (DESIGN.md § Health).
  // Hazelcast keeps expiry times to the second and may drop an entry up to a second early;
  // the extra second keeps it until validUntil, which every reader enforces to the ms itself.
  const ttlMs = Math.max(1, entry.validUntil - Date.now()) + HZ_EXPIRY_GRAIN_MS;
  await Promise.all([
    withTimeout(
      addToTimeline(
        deps.redis
          .multi()
          .set(k.healthLatest, json)
          .lpush(k.healthHistory, json)
          .ltrim(k.healthHistory, 0, deps.config.healthHistoryMax - 1),
        k.healthTimeline,
        result,
        deps.config.healthTimelineMax,
      ).exec(),
      READ_TIMEOUT_MS,
      'Redis',
    ).catch((err: unknown) => unkept(deps.log, 'cannot keep the health result in Redis', err)),
    withTimeout(
      (async () => (await deps.hazelcast.client.getMap<string, string>(deps.config.hzMap)).set(deps.config.hzHealthKey, JSON.stringify(entry), ttlMs))(),
      READ_TIMEOUT_MS,
      'Hazelcast',
    ).catch((err: unknown) => unkept(deps.log, `cannot write ${deps.config.hzHealthKey} to Hazelcast`, err)),
  ]);
}

/** A server that is away is the process's one warning (reachability.ts): what was not kept is info then. */
function unkept(log: Logger, what: string, err: unknown): void {
  if (isConnectionError(err)) log.info(`${what} (${reasonInWords(err)})`);
  else log.warn(`${what}: ${coerceError(err).message}`);
}

/** Enqueues a restart job, deduplicated by the queue's options: `reused` when one was pending already. */
export function enqueueRestart(queue: Queue<RestartPayload, RestartResult, 'restart-bridge'>, data: RestartPayload): Promise<Enqueued> {
  return enqueue(queue, 'restart-bridge', data);
}

export type HealthCheckResult = HealthResult & { restartJobId?: string; restartReused?: boolean };

/** Queues the restart the result calls for; returns what was done, in words. */
async function act(deps: HealthCheckDeps, result: HealthCheckResult): Promise<string | undefined> {
  if (result.action !== 'restart' || !deps.restartQueue) return undefined;
  try {
    const r = await withTimeout(
      enqueueRestart(deps.restartQueue, { reason: `${result.status}: ${'cause' in result ? result.cause : ''}`, requestedBy: 'health-check' }),
      READ_TIMEOUT_MS,
      'Redis',
    );
    result.restartJobId = r.id;
    result.restartReused = r.reused;
    return r.reused ? `restart job ${r.id} is already pending: reused it` : `restart job ${r.id} queued`;
  } catch (err) {
    return `could not queue a restart: ${coerceError(err).message}`;
  }
}

/** One health check: gather, decide, act, then record and log it in one line. Never throws for a server being down. */
export async function runHealthCheck(deps: HealthCheckDeps, say: (line: string) => void = () => undefined): Promise<HealthCheckResult> {
  // The first check under this prefix marks the start of a new system (kept only if none is there);
  // a later start than this process saw means Redis lost the history, and is recorded.
  await markCheckingSince(deps.redis, deps.config.queuePrefix, deps.log);
  let result: HealthCheckResult = decideHealth(await gatherHealthInputs(deps));
  if (result.action === 'restart' && result.status === 'stale' && result.cause === 'bridge_behind') {
    // The newer scan may have landed a moment ago and be in the bridge's hands right now (a
    // scanner that spoke again after a silence): look once more before restarting a bridge.
    const wait = Math.max(BEHIND_CONFIRM_MS, deps.config.bridgeHeartbeatMs);
    say(`data is stale and a newer scan #${result.newestOnDisk} is on disk: looking again in ${wait} ms before restarting the bridge`);
    await sleep(wait);
    result = decideHealth(await gatherHealthInputs(deps));
  }
  const done = await act(deps, result);
  const level = result.status === 'healthy' || isStarting(result) ? 'info' : result.status === 'warning' ? 'warn' : 'error';
  const line = `${result.status}${'cause' in result ? ` (${result.cause})` : ''}: ${result.message}${done ? `; ${done}` : ''}`;
  deps.log[level]({ health: result }, `health ${line}`);
  say(line);
  await recordHealth(deps, result);
  try {
    deps.onResult?.(result);
  } catch (err) {
    deps.log.error(`health result hook failed: ${coerceError(err).message}`);
  }
  return result;
}

export function healthCheckProcessor(deps: HealthCheckDeps) {
  return async (job: Job<HealthCheckPayload>): Promise<HealthCheckResult> =>
    runHealthCheck(
      deps,
      (line) => void job.log(line).catch((err: unknown) => deps.log.debug(`cannot add to the log of job ${job.id}: ${coerceError(err).message}`)),
    );
}
