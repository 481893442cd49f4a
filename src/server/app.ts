import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ConfigError, coerceError } from '../errors.js';
import { createHazelcast, createRedis, redisReady, type Hazelcast } from '../connections.js';
import { openQueues } from '../ops.js';
import type { JobQueues } from '../jobs/table.js';
import { allowedHostsOnly, basicAuth, isLoopback, readOnly, sameOriginOnly, sendError } from './guards.js';
import { LoginThrottle } from './login-throttle.js';
import { boardWriteGuard } from './board-writes.js';
import { boardPageRewrite } from './board-page.js';
import { apiRouter } from './api.js';
import { boardRouter, BOARD_PATH } from './board.js';
import { createMetrics } from './metrics.js';
import { statusPageRouter } from './status-page.js';
import { watchReachability } from './reachability.js';

export interface AppDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
  log: Logger;
}

/**
 * The board's HTTP surface: Bull Board at /board, the JSON API, /metrics and the /status page.
 *
 * Order matters: without a login, a request for a host not in BOARD_ALLOWED_HOSTS is refused
 * first; /healthz answers without credentials (the container healthcheck calls it and it
 * reveals nothing but "the process answers"); everything after the login, including /readyz and
 * /metrics, needs BOARD_USER / BOARD_PASSWORD when they are set. State-changing requests from
 * another site are refused before any handler sees them.
 */
export function createApp(deps: AppDeps): Express {
  const { config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.boardTrustProxy);

  const { boardUser, boardPassword } = config;
  const login = boardUser !== undefined && boardPassword !== undefined;
  // Without a login, a foreign page that rebinds its name to this address must not be answered.
  if (!login) app.use(allowedHostsOnly(config.boardAllowedHosts));

  const reach = watchReachability(deps.redis, deps.hazelcast);
  const apiDeps = { ...deps, reach, metrics: createMetrics(deps) };
  app.use(apiRouter(apiDeps, 'open'));

  if (login) {
    const throttle = new LoginThrottle(config.boardLoginLimit, config.boardLoginWindowS * 1000);
    app.use(basicAuth(boardUser, boardPassword, { throttle, log }));
  }
  app.use(sameOriginOnly());

  app.get('/', (_req, res) => res.redirect(`${BOARD_PATH}/`));
  app.use(statusPageRouter({ ...deps, reach }));

  app.use(apiRouter(apiDeps, 'login'));

  // Bull Board enforces readOnlyMode per queue; refusing every write here as well covers routes
  // that are not per queue (pause all, resume all).
  if (config.boardReadOnly) app.use(BOARD_PATH, readOnly());
  app.use(BOARD_PATH, boardWriteGuard(config));
  app.use(BOARD_PATH, boardPageRewrite());
  app.use(BOARD_PATH, boardRouter(deps.queues, config.boardReadOnly));

  app.use((req: Request, res: Response) => sendError(res, 404, 'not_found', `no route ${req.method} ${req.path}`));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = coerceError(err);
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) log.error({ err: e }, 'HTTP handler failed');
    if (!res.headersSent) sendError(res, status, status >= 500 ? 'internal' : 'bad_request', e.message);
  });
  return app;
}

/** Refuses a board that would answer without credentials on anything but loopback. */
export function assertBoardExposure(config: Pick<Config, 'boardHost' | 'boardUser' | 'boardPassword'>): void {
  if (isLoopback(config.boardHost)) return;
  const missing = [config.boardUser === undefined ? 'BOARD_USER' : null, config.boardPassword === undefined ? 'BOARD_PASSWORD' : null].filter(
    (v): v is string => v !== null,
  );
  if (missing.length === 0) return;
  throw new ConfigError(
    'BOARD_HOST',
    config.boardHost,
    `a loopback address (127.0.0.1, ::1, localhost) while ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: the board and its API would answer anyone without a login`,
  );
}

export interface RunningBoard {
  url: string;
  stop(): Promise<void>;
}

/** Why the board could not listen, in words, naming the setting to change. */
function listenFailed(err: unknown, config: Pick<Config, 'boardHost' | 'boardPort'>): Error {
  const code = (err as { code?: unknown }).code;
  const where = `${config.boardHost.includes(':') ? `[${config.boardHost}]` : config.boardHost}:${config.boardPort}`;
  const why =
    code === 'EADDRINUSE'
      ? `board port ${where} is already in use (BOARD_PORT)`
      : code === 'EACCES'
        ? `board port ${where} may not be opened by this user (BOARD_PORT; ports below 1024 need privileges)`
        : code === 'EADDRNOTAVAIL'
          ? `board address ${config.boardHost} is not an address of this machine (BOARD_HOST)`
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? `board host name ${config.boardHost} could not be resolved (BOARD_HOST)`
            : undefined;
  return why === undefined ? coerceError(err) : new Error(why, { cause: err });
}

/** The board role: its own Redis and Hazelcast connections, the app, listening on BOARD_HOST:BOARD_PORT. */
export async function startBoard(config: Config, log: Logger): Promise<RunningBoard> {
  assertBoardExposure(config);
  const redis = createRedis(config, {}, log);
  // Fail fast for the API's reads: a Redis outage answers 503, it does not hang requests.
  const reads = createRedis(config, { maxRetriesPerRequest: 1, enableOfflineQueue: false }, log);
  await redisReady(reads);
  const hazelcast = await createHazelcast(config, log);
  // A short head start, so the first requests find it connected; it keeps trying after that.
  await hazelcast.waitConnected(5000);
  const queues = openQueues(config, redis, log);
  const app = createApp({ config, redis: reads, hazelcast, queues, log });
  let server: Server;
  try {
    server = await new Promise<Server>((ok, fail) => {
      const s = app.listen(config.boardPort, config.boardHost);
      s.once('listening', () => ok(s));
      s.once('error', fail);
    });
  } catch (err) {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    redis.disconnect();
    reads.disconnect();
    await hazelcast.shutdown();
    throw listenFailed(err, config);
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  const auth = config.boardUser ? 'login required' : 'no login (loopback only)';
  log.info(`board listening on ${url}${BOARD_PATH}/ (${auth}${config.boardReadOnly ? ', read-only' : ''})`);
  return {
    url,
    async stop() {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await Promise.all(Object.values(queues).map((q) => q.close().catch(() => undefined)));
      redis.disconnect();
      reads.disconnect();
      await hazelcast.shutdown();
    },
  };
}
