import { Router } from 'express';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { collectStatus, type SystemStatus } from '../ops.js';
import type { JobQueues } from '../jobs/table.js';
import { availability, incidents } from '../availability.js';
import { readTimeline, TIMELINE_RETENTION_MS } from '../health-timeline.js';
import { withTimeout } from '../time.js';
import { renderStatusPage, type StatusPageModel } from './status-html.js';
import { readDeliveries } from '../alerts/delivery-record.js';

export interface StatusPageDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
  log: Logger;
}

const DAY_MS = 24 * 3600 * 1000;
const READ_TIMEOUT_MS = 5000;

/** One check speaks for three health intervals at most; past that nobody was checking. */
export function maxGapMs(config: Pick<Config, 'healthIntervalMs'>): number {
  return 3 * config.healthIntervalMs;
}

/** The status page's facts: the status (unless `withStatus` is false), the week's timeline, availability and incidents. */
export async function buildModel(deps: StatusPageDeps, withStatus = true): Promise<StatusPageModel> {
  const { config, redis } = deps;
  const now = Date.now();
  const k = keys(config.queuePrefix);
  let status: SystemStatus | null = null;
  let statusError: string | undefined;
  if (withStatus) {
    try {
      status = await withTimeout(collectStatus(config, redis, deps.queues, deps.hazelcast), READ_TIMEOUT_MS, 'status');
    } catch (err) {
      statusError = coerceError(err).message;
    }
  }
  const week = await withTimeout(readTimeline(redis, k.healthTimeline, now - TIMELINE_RETENTION_MS), READ_TIMEOUT_MS, 'Redis');
  const gap = maxGapMs(config);
  const o = { now, maxGapMs: gap, warningS: config.dataWarningS };
  return {
    now,
    thresholds: { warningS: config.dataWarningS, staleS: config.dataStaleS, heartbeatTtlMs: config.bridgeHeartbeatTtlMs },
    maxGapMs: gap,
    status,
    ...(statusError === undefined ? {} : { statusError }),
    points: week.filter((p) => p.t >= now - DAY_MS - gap),
    day: availability(week, { ...o, windowMs: DAY_MS }),
    week: availability(week, { ...o, windowMs: 7 * DAY_MS }),
    incidents: incidents(week, { now, since: now - 7 * DAY_MS, maxGapMs: gap }),
    // Only a line on the page: without it the rest still shows.
    alertDeliveries: await withTimeout(readDeliveries(redis, config.queuePrefix), READ_TIMEOUT_MS, 'Redis').catch(() => []),
  };
}

/**
 * `GET /status`: the status page, rendered on the server (no script, no build step, nothing from
 * elsewhere); `/history`, the page's old address, redirects. Its facts as JSON are
 * `GET /api/availability` (api-handlers.ts).
 */
export function statusPageRouter(deps: StatusPageDeps): Router {
  const router = Router();
  router.get('/history', (_req, res) => res.redirect(301, '/status'));

  router.get('/status', async (_req, res) => {
    try {
      const model = await buildModel(deps);
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
      );
      res.setHeader('Cache-Control', 'no-store');
      res
        .status(model.status === null ? 503 : 200)
        .type('html')
        .send(renderStatusPage(model));
    } catch (err) {
      const message = coerceError(err).message;
      deps.log.warn(`status page: ${message}`);
      res.status(503).type('text/plain').send(`scan-bridge status page unavailable: ${message}\n`);
    }
  });

  return router;
}
