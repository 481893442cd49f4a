import { Router } from 'express';
import type { Config } from '../config.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { availability, incidents } from '../availability.js';
import { readTimeline, TIMELINE_RETENTION_MS } from '../health-timeline.js';
import { withTimeout } from '../time.js';
import { readDeliveries } from '../alerts/delivery-record.js';
import { renderStatusPage, type HistoryModel, type StatusPageModel } from './status-html.js';
import { readStatusView, type StatusReadDeps } from './status-read.js';
import { readHistoryStart } from '../history-reset.js';

export type StatusPageDeps = StatusReadDeps;

const DAY_MS = 24 * 3600 * 1000;
const READ_TIMEOUT_MS = 5000;

/** One check speaks for three health intervals at most; past that nobody was checking. */
export function maxGapMs(config: Pick<Config, 'healthIntervalMs'>): number {
  return 3 * config.healthIntervalMs;
}

/** The week's timeline from Redis, as availability and incidents; throws when Redis does not answer. */
export async function readHistory(deps: Pick<StatusPageDeps, 'config' | 'redis'>, now: number): Promise<HistoryModel> {
  const { config, redis } = deps;
  const k = keys(config.queuePrefix);
  const [week, start] = await withTimeout(
    Promise.all([readTimeline(redis, k.healthTimeline, now - TIMELINE_RETENTION_MS), readHistoryStart(redis, config.queuePrefix)]),
    READ_TIMEOUT_MS,
    'Redis',
  );
  const gap = maxGapMs(config);
  const o = { now, maxGapMs: gap, warningS: config.dataWarningS };
  return {
    ...start,
    points: week.filter((p) => p.t >= now - DAY_MS - gap),
    day: availability(week, { ...o, windowMs: DAY_MS }),
    week: availability(week, { ...o, windowMs: 7 * DAY_MS }),
    incidents: incidents(week, { now, since: now - 7 * DAY_MS, maxGapMs: gap, thresholds: { warningS: config.dataWarningS, staleS: config.dataStaleS } }),
  };
}

/** The status page's facts, each from the server that holds it: a server that is down leaves its part out and is named. */
export async function buildModel(deps: StatusPageDeps): Promise<StatusPageModel> {
  const { config } = deps;
  const view = await readStatusView(deps);
  const now = view.at;
  let history: HistoryModel | null = null;
  if (view.facts !== null) {
    try {
      history = await readHistory(deps, now);
    } catch (err) {
      deps.log.debug(`status page: the history could not be read: ${coerceError(err).message}`);
    }
  }
  return {
    now,
    thresholds: { warningS: config.dataWarningS, staleS: config.dataStaleS, heartbeatTtlMs: config.bridgeHeartbeatTtlMs },
    maxGapMs: maxGapMs(config),
    servers: view.servers,
    scan: view.latestScan,
    unusable: view.unusable,
    // Only a line on the page: without it the rest still shows.
    alertDeliveries: view.facts === null ? [] : await withTimeout(readDeliveries(deps.redis, config.queuePrefix), READ_TIMEOUT_MS, 'Redis').catch(() => []),
    facts: view.facts,
    history,
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
      res.status(200).type('html').send(renderStatusPage(model));
    } catch (err) {
      // A bug, not an outage: every server's outage is part of the page above.
      deps.log.error({ err: coerceError(err) }, 'status page failed');
      res.status(500).type('text/plain').send('scan-bridge status page failed: see the board log\n');
    }
  });

  return router;
}
