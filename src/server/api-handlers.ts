import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { trigger } from '../ops.js';
import { TRIGGERS, type JobQueues, type TriggerName } from '../jobs/table.js';
import type { HealthResult } from '../health.js';
import { withTimeout } from '../time.js';
import { waitUntilReady } from '../ready/wait.js';
import { answerReady, type Reply } from './ready.js';
import { maxGapMs, readHistory } from './status-page.js';
import type { Metrics } from './metrics.js';
import type { Reachability } from './reachability.js';
import { readStatusView } from './status-read.js';
import type { QuarantineEntry } from '../bridge/guards/quarantine.js';

export type { Reply };

export interface ApiDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
  log: Logger;
  metrics: Metrics;
  reach: Reachability;
}

/** What a handler knows of a request: no framework object. */
export interface RequestFacts {
  /** Path parameters, like `:name`. */
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** The login's user name; undefined without a login. */
  user?: string | undefined;
  /** The client's address. */
  ip?: string | undefined;
  /** Aborted when the caller goes away: a handler that waits stops waiting. */
  signal: AbortSignal;
}

/** A handler: request facts in, `{status, body}` out. A reply with `contentType` has a text body. */
export type Handler = (deps: ApiDeps, req: RequestFacts) => Promise<Reply & { contentType?: string }>;

const PING_TIMEOUT_MS = 2000;
const STATUS_TIMEOUT_MS = 5000;
/** Without `?limit=`: enough for a glance. */
const DEFAULT_HISTORY_LIMIT = 100;

/** `{ error: { code, message } }`: the one error shape of every JSON route. */
export function errorReply(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message } } };
}

/** 503 naming the server that did not answer, logged. */
function unavailable(log: Logger, err: unknown): Reply {
  const message = coerceError(err).message;
  log.warn(`API: ${message}`);
  return errorReply(503, 'unavailable', message);
}

/** `{ ok: true }` or why not, for /readyz. */
export async function readiness(
  redis: RedisConnection,
  hazelcast: Hazelcast,
): Promise<{ ready: boolean; redis: { ok: boolean; error?: string }; hazelcast: { ok: boolean; error?: string } }> {
  const r = await withTimeout(redis.ping(), PING_TIMEOUT_MS, 'Redis').then(
    () => ({ ok: true }),
    (err: unknown) => ({ ok: false, error: coerceError(err).message }),
  );
  const h = hazelcast.connected() ? { ok: true } : { ok: false, error: 'the Hazelcast client is not connected to the cluster' };
  return { ready: r.ok && h.ok, redis: r, hazelcast: h };
}

/** GET /healthz: the process answers. */
export const healthz: Handler = () => Promise.resolve({ status: 200, body: { ok: true } });

/** GET /readyz: 200 when Redis and Hazelcast answer, 503 naming the one that does not. */
export const readyz: Handler = async ({ redis, hazelcast }) => {
  const r = await readiness(redis, hazelcast);
  return { status: r.ready ? 200 : 503, body: r };
};

/** A quarantine this long or shorter is listed whole; a longer one as its count and the newest few. */
const QUARANTINE_LISTED = 20;
const QUARANTINE_NEWEST = 5;

/** `{ count, newest }`, newest first: bounded however many files are quarantined. */
export function quarantineSummary(entries: readonly QuarantineEntry[]): { count: number; newest: QuarantineEntry[] } {
  const newest = [...entries].sort((a, b) => b.at - a.at);
  return { count: entries.length, newest: newest.slice(0, entries.length > QUARANTINE_LISTED ? QUARANTINE_NEWEST : QUARANTINE_LISTED) };
}

/**
 * GET /api/status: what the board knows now, 200 whichever server is down: `servers` says which
 * is unreachable since when; the parts kept on that server are null. The latest scan is read from
 * Hazelcast, everything else from Redis; the quarantine is summarised.
 */
export const status: Handler = async (deps) => {
  const v = await readStatusView(deps);
  const f = v.facts;
  return {
    status: 200,
    body: {
      at: v.at,
      servers: v.servers,
      latestScan: v.latestScan,
      schedules: f?.schedules ?? null,
      queues: f?.queues ?? null,
      bridge: f?.bridge ?? null,
      health: f?.health ?? null,
      board: f?.board ?? null,
      quarantine: f ? quarantineSummary(f.quarantine) : null,
    },
  };
};

/** GET /api/ready?max_age_s=&wait_s=&strict=: whether consumers can trust the data, waiting up to `wait_s`. */
export const ready: Handler = async ({ config, hazelcast, log }, req) => {
  const reply = await answerReady(req.query, (q) =>
    waitUntilReady(hazelcast, config, { maxAgeS: q.maxAgeS, timeoutMs: q.waitS * 1000, strict: q.strict, signal: req.signal }),
  );
  if (reply.status === 503 && 'error' in (reply.body as object)) log.warn(`API: /api/ready: ${(reply.body as { error: string }).error}`);
  return reply;
};

/** GET /api/health?limit=N: the latest health result and the newest N of the history. */
export const healthHistory: Handler = async ({ config, redis, log }, req) => {
  const raw = req.query.limit;
  let limit = DEFAULT_HISTORY_LIMIT;
  if (raw !== undefined) {
    limit = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(limit) || limit < 1) return errorReply(400, 'bad_request', `limit must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  }
  limit = Math.min(limit, config.healthHistoryMax);
  const k = keys(config.queuePrefix);
  try {
    const [latest, history] = await withTimeout(
      Promise.all([redis.get(k.healthLatest), redis.lrange(k.healthHistory, 0, limit - 1)]),
      PING_TIMEOUT_MS,
      'Redis',
    );
    return {
      status: 200,
      body: {
        latest: latest ? (JSON.parse(latest) as HealthResult) : null,
        history: history.map((h) => JSON.parse(h) as HealthResult),
        thresholds: { warningS: config.dataWarningS, staleS: config.dataStaleS },
      },
    };
  } catch (err) {
    return unavailable(log, err);
  }
};

/** GET /api/availability: the status page's incidents and availability; 503 in words while Redis, which keeps them, is unreachable. */
export const availabilityJson: Handler = async (deps) => {
  const { config } = deps;
  const now = Date.now();
  try {
    const h = await readHistory(deps, now);
    const thresholds = { warningS: config.dataWarningS, staleS: config.dataStaleS, heartbeatTtlMs: config.bridgeHeartbeatTtlMs };
    const history = { since: h.since, reset: h.reset };
    return { status: 200, body: { now, thresholds, maxGapMs: maxGapMs(config), history, day: h.day, week: h.week, incidents: h.incidents } };
  } catch (err) {
    deps.log.debug(`API: /api/availability: ${coerceError(err).message}`);
    return errorReply(503, 'unavailable', 'Redis does not answer: the health history is kept there');
  }
};

const isTrigger = (name: string | undefined): name is TriggerName => (TRIGGERS as readonly string[]).includes(name ?? '');

/** POST /api/jobs/:name: adds a job by hand (202); a restart may reuse the pending one. */
export const triggerJob: Handler = async ({ config, queues, log }, req) => {
  if (config.boardReadOnly) return errorReply(403, 'read_only', 'the board is read-only (BOARD_READ_ONLY=true)');
  const name = req.params.name;
  if (!isTrigger(name)) return errorReply(404, 'unknown_job', `no job ${JSON.stringify(name)}: expected one of ${TRIGGERS.join(', ')}`);
  const by = `api:${req.user ?? 'anonymous'}@${req.ip ?? 'unknown'}`;
  try {
    const r = await withTimeout(trigger(queues, name, by), STATUS_TIMEOUT_MS, 'Redis');
    log.info(`${name} triggered by ${by}: job ${r.jobId}${r.reused ? ' (already pending: reused)' : ''}`);
    return { status: 202, body: { job: name, ...r } };
  } catch (err) {
    return unavailable(log, err);
  }
};

/** GET /metrics: the Prometheus exposition. */
export const metricsText: Handler = async ({ metrics, log }) => {
  try {
    return { status: 200, body: await metrics.scrape(), contentType: metrics.contentType };
  } catch (err) {
    const message = coerceError(err).message;
    log.warn(`metrics: ${message}`);
    return { status: 503, body: `# metrics unavailable: ${message}\n`, contentType: 'text/plain' };
  }
};
