import { Router, type Request, type RequestHandler, type Response } from 'express';
import * as h from './api-handlers.js';
import type { ApiDeps, Handler } from './api-handlers.js';
import { sendError } from './guards.js';

export type { ApiDeps } from './api-handlers.js';
export { readiness } from './api-handlers.js';

export interface Route {
  method: 'get' | 'post';
  path: string;
  handler: Handler;
  /** `open`: answered before the login (and without credentials); `login`: behind it, when a login is set. */
  access: 'open' | 'login';
  /** What it answers, for people reading the table. */
  what: string;
}

/** The HTTP API's index: every JSON (and metrics) route, its handler and who may call it. */
export const ROUTES: readonly Route[] = [
  { method: 'get', path: '/healthz', handler: h.healthz, access: 'open', what: 'the process answers (container healthcheck)' },
  { method: 'get', path: '/readyz', handler: h.readyz, access: 'login', what: 'Redis and Hazelcast answer' },
  { method: 'get', path: '/metrics', handler: h.metricsText, access: 'login', what: 'Prometheus metrics' },
  {
    method: 'get',
    path: '/api/status',
    handler: h.status,
    access: 'login',
    what: 'what the board knows now, 200 with either server down (which one and since when in `servers`); the quarantine as `{count, newest}`',
  },
  { method: 'get', path: '/api/ready', handler: h.ready, access: 'login', what: 'whether consumers can trust the data (?max_age_s, ?wait_s)' },
  { method: 'get', path: '/api/health', handler: h.healthHistory, access: 'login', what: 'the latest health result and the history (?limit)' },
  { method: 'get', path: '/api/availability', handler: h.availabilityJson, access: 'login', what: "the status page's availability and incidents" },
  { method: 'post', path: '/api/jobs/:name', handler: h.triggerJob, access: 'login', what: 'adds a health-check or restart-bridge job by hand' },
];

/** Runs a handler for an Express request and sends its reply, unless the caller has gone. */
function serve(handler: Handler, deps: ApiDeps): RequestHandler {
  return async (req: Request, res: Response, next) => {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      const reply = await handler(deps, {
        params: req.params as Record<string, string>,
        query: req.query,
        user: res.locals.user as string | undefined,
        ip: req.ip,
        signal: gone.signal,
      });
      if (res.writableEnded || gone.signal.aborted) return;
      if (reply.contentType) res.status(reply.status).type(reply.contentType).send(reply.body);
      else res.status(reply.status).json(reply.body);
    } catch (err) {
      next(err);
    }
  };
}

/** The routes of the table with this `access`; the login routes end with a JSON 404 for any other /api path. */
export function apiRouter(deps: ApiDeps, access: Route['access']): Router {
  const router = Router();
  for (const route of ROUTES) if (route.access === access) router[route.method](route.path, serve(route.handler, deps));
  if (access === 'login') router.use('/api', (_req, res) => sendError(res, 404, 'not_found', 'no such API route'));
  return router;
}
