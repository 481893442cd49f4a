import { Router, type Request, type Response } from 'express';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { collectStatus, trigger, TRIGGERS, type TriggerName } from '../ops.js';
import type { JobQueues } from '../jobs/table.js';
import type { HealthResult } from '../health.js';
import { readOnly, sendError } from './guards.js';
import { withTimeout } from '../time.js';
import { readyRoute } from './ready.js';

export interface ApiDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
  log: Logger;
}

const PING_TIMEOUT_MS = 2000;
/** Without `?limit=`: enough for a glance. */
const DEFAULT_HISTORY_LIMIT = 100;

/** `{ ok: true }` or why not, for /readyz. */
export async function readiness(redis: RedisConnection, hazelcast: Hazelcast): Promise<{ ready: boolean; redis: { ok: boolean; error?: string }; hazelcast: { ok: boolean; error?: string } }> {
  const r = await withTimeout(redis.ping(), PING_TIMEOUT_MS, 'Redis').then(
    () => ({ ok: true }),
    (err: unknown) => ({ ok: false, error: coerceError(err).message }),
  );
  const h = hazelcast.connected() ? { ok: true } : { ok: false, error: 'the Hazelcast client is not connected to the cluster' };
  return { ready: r.ok && h.ok, redis: r, hazelcast: h };
}

/** /healthz, /readyz and /api/*: JSON in and out. */
export function apiRouter(deps: ApiDeps): Router {
  const { config, redis, hazelcast, queues, log } = deps;
  const router = Router();
  const k = keys(config.queuePrefix);

  const fail = (res: Response, err: unknown) => {
    const message = coerceError(err).message;
    log.warn(`API: ${message}`);
    sendError(res, 503, 'unavailable', message);
  };

  router.get('/readyz', async (_req, res) => {
    const r = await readiness(redis, hazelcast);
    res.status(r.ready ? 200 : 503).json(r);
  });

  router.get('/api/status', async (_req, res) => {
    try {
      res.json(await withTimeout(collectStatus(config, redis, queues, hazelcast), 5000, 'status'));
    } catch (err) {
      fail(res, err);
    }
  });

  router.get('/api/ready', readyRoute(deps));

  router.get('/api/health', async (req, res) => {
    const raw = req.query.limit;
    let limit = DEFAULT_HISTORY_LIMIT;
    if (raw !== undefined) {
      limit = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(limit) || limit < 1) return sendError(res, 400, 'bad_request', `limit must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
    }
    limit = Math.min(limit, config.healthHistoryMax);
    try {
      const [latest, history] = await withTimeout(Promise.all([redis.get(k.healthLatest), redis.lrange(k.healthHistory, 0, limit - 1)]), PING_TIMEOUT_MS, 'Redis');
      res.json({
        latest: latest ? (JSON.parse(latest) as HealthResult) : null,
        history: history.map((h) => JSON.parse(h) as HealthResult),
        thresholds: { warningS: config.dataWarningS, staleS: config.dataStaleS },
      });
    } catch (err) {
      fail(res, err);
    }
  });

  const jobs = Router();
  if (config.boardReadOnly) jobs.use(readOnly());
  jobs.post('/:name', async (req: Request<{ name: string }>, res) => {
    const name = req.params.name;
    if (!(TRIGGERS as readonly string[]).includes(name)) {
      return sendError(res, 404, 'unknown_job', `no job ${JSON.stringify(name)}: expected one of ${TRIGGERS.join(', ')}`);
    }
    const by = `api:${(res.locals.user as string | undefined) ?? 'anonymous'}@${req.ip ?? 'unknown'}`;
    try {
      const r = await withTimeout(trigger(queues, name as TriggerName, by), 5000, 'Redis');
      log.info(`${name} triggered by ${by}: job ${r.jobId}${r.reused ? ' (already pending: reused)' : ''}`);
      res.status(202).json({ job: name, ...r });
    } catch (err) {
      fail(res, err);
    }
  });
  router.use('/api/jobs', jobs);

  router.use('/api', (_req, res) => sendError(res, 404, 'not_found', 'no such API route'));
  return router;
}
