import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { Client, ReconnectMode, LifecycleState, type ClientConfig, type ILogger, LogLevel } from 'hazelcast-client';

export type HazelcastClient = Client;
import type { Config, HostPort, RedisTarget } from './config.js';
import { withTimeout } from './time.js';
import type { Logger } from './log.js';
import { debuglog } from 'node:util';
import { UnreachableError, coerceError } from './errors.js';
import { followFailovers } from './sentinel-watch.js';
import { joinReachability, reasonInWords, type Member } from './reachability.js';

/** A connection to one Redis server (found directly or through Sentinel) or to a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/** The longest wait between two attempts to reconnect to Redis. */
export const REDIS_RECONNECT_MAX_MS = 2000;

/** Backoff of every Redis retry: quick at first, then every 2 s, and never giving up. */
const backoff = (times: number): number => Math.min(100 * 2 ** Math.min(times, 6), REDIS_RECONNECT_MAX_MS);

/** What a log line or an error may say about where Redis is: never a password. */
export function describeRedis(target: RedisTarget): string {
  const list = (hps: HostPort[]) => hps.map((hp) => (hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`)).join(',');
  if (target.kind === 'sentinel') return `sentinel master "${target.master}" via ${list(target.sentinels)}`;
  if (target.kind === 'cluster') return `cluster ${list(target.nodes)}`;
  return target.url.replace(/\/\/[^@]*@/, '//***@');
}

/**
 * With Sentinel: ask the sentinels for the master, and keep asking for ever. ioredis's own
 * sentinel retry backs off to 1 s but a `null` from a custom one would end the connection for
 * good, the state in which BullMQ workers hang after a failover (bullmq#3088, langfuse#13880).
 * ioredis's failover detector is off: it could end a connection for good (sentinel-watch.ts,
 * which follows `+switch-master` instead). A sentinel that accepts the connection but does not
 * answer (frozen, overloaded) is left after a while for the next one.
 */
function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.master,
    sentinelPassword: target.sentinelPassword,
    password: target.password,
    sentinelRetryStrategy: backoff,
    sentinelCommandTimeout: SENTINEL_COMMAND_TIMEOUT_MS,
    failoverDetector: false,
    // A connection that still reaches a demoted master reconnects, and the command is sent again.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
}

/** How long a sentinel may take to name the master before the next one is asked. */
const SENTINEL_COMMAND_TIMEOUT_MS = 2000;

/**
 * Redis connection for long-running roles: retries for ever with a capped backoff, and queues
 * nothing while offline, so callers fail fast and try again rather than piling up commands.
 * BullMQ workers need `maxRetriesPerRequest: null`.
 */
/** Where a connection's own error events go without a logger: `NODE_DEBUG=scan-bridge` shows them. */
const debugWithoutLogger = debuglog('scan-bridge');

export function createRedis(config: Pick<Config, 'redis'>, opts: RedisOptions = {}, log?: Logger): RedisConnection {
  return newRedis(config, opts, log, true);
}

/** `retries`: a connection of a running role, which follows Sentinel failovers for ever. */
function newRedis(config: Pick<Config, 'redis'>, opts: RedisOptions, log: Logger | undefined, retries: boolean): RedisConnection {
  const common: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 3000, retryStrategy: backoff };
  const target = config.redis;
  // Expected while Redis is away: the client reconnects by itself and every command made meanwhile
  // fails on its own, so the event is logged at debug (an 'error' without a listener would crash).
  const debug = log ? (line: string) => log.debug(line) : debugWithoutLogger;
  let redis: RedisConnection;
  if (target.kind === 'cluster') redis = clusterConnection(target, { ...common, ...opts });
  else if (target.kind === 'sentinel') {
    const conn = new Redis({ ...sentinelOptions(target), ...common, ...opts });
    if (retries) followFailovers(target, conn, debug);
    redis = conn;
  } else redis = new Redis(target.url, { ...common, ...opts });
  redis.on('error', (err) => debug(`redis at ${describeRedis(config.redis)}: ${coerceError(err).message}`));
  if (retries) tellReachability(redis, joinReachability('redis', describeRedis(target)));
  return redis;
}

/** The connection's events, for the one outage line per process (reachability.ts). */
function tellReachability(redis: RedisConnection, member: Member): void {
  redis.on('ready', () => member.up());
  redis.on('error', (err) => member.down(reasonInWords(err)));
  redis.on('close', () => member.down());
  redis.once('end', () => member.leave());
}

/** The cluster-wide options are the per-server ones lifted up: retry, offline queue, lazy start. */
function clusterConnection(target: Extract<RedisTarget, { kind: 'cluster' }>, opts: RedisOptions): Cluster {
  const { retryStrategy, enableOfflineQueue, lazyConnect, enableReadyCheck, ...perNode } = opts;
  return new Cluster(target.nodes, {
    clusterRetryStrategy: retryStrategy ?? backoff,
    enableOfflineQueue,
    lazyConnect,
    enableReadyCheck,
    redisOptions: { ...perNode, password: target.password },
  });
}

/**
 * Resolves once `redis` is connected, or after `timeoutMs` (then callers just see errors until it
 * connects). For fail-fast connections without an offline queue, whose first commands would
 * otherwise fail while the connection is still being made.
 */
export function redisReady(redis: RedisConnection, timeoutMs = 3000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((ok) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      ok();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

/** A Redis connection for one command-line call: fails within `timeoutMs` instead of retrying. */
export async function connectRedisOnce(config: Pick<Config, 'redis'>, timeoutMs = 3000): Promise<RedisConnection> {
  const redis = newRedis(
    config,
    {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: timeoutMs,
      retryStrategy: () => null,
      sentinelRetryStrategy: () => null,
      enableOfflineQueue: true,
    },
    undefined,
    false,
  );
  try {
    await withTimeout(redis.connect(), timeoutMs, 'the server');
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new UnreachableError('redis', describeRedis(config.redis), err);
  }
}

/**
 * The client's connection warnings (one per attempt and per member, with fractional delays) are
 * what reachability.ts tells once per outage: debug here, and an attempt that failed is told to
 * `onConnectFailed`.
 */
const CONNECTION_COMPONENTS = new Set(['ConnectionManager', 'WaitStrategy', 'Connection', 'HeartbeatManager']);
const FAILED_ATTEMPT = /^(Unable to get live cluster connection|Error during initial connection|Could not connect)/;

function pinoAdapter(log: Logger, onConnectFailed: () => void): ILogger {
  const at = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (objectName: string, message: string, furtherInfo?: unknown) => {
    const quiet = level === 'warn' && CONNECTION_COMPONENTS.has(objectName);
    if (quiet && FAILED_ATTEMPT.test(message)) onConnectFailed();
    log[quiet ? 'debug' : level]({ component: objectName, info: furtherInfo instanceof Error ? furtherInfo.message : furtherInfo }, `hazelcast: ${message}`);
  };
  const levels = {
    [LogLevel.ERROR]: at('error'),
    [LogLevel.WARN]: at('warn'),
    [LogLevel.INFO]: at('debug'),
    [LogLevel.DEBUG]: at('trace'),
    [LogLevel.TRACE]: at('trace'),
  } as Record<number, ReturnType<typeof at>>;
  return {
    log: (level, objectName, message, furtherInfo) => levels[level]?.(objectName, message, furtherInfo),
    error: at('error'),
    warn: at('warn'),
    // The client's INFO lines (member lists, connection churn) are noise at our info level.
    info: at('debug'),
    debug: at('trace'),
    trace: at('trace'),
  };
}

export type HazelcastMode =
  /** For roles that run for ever: starts at once, reconnects for ever, calls fail fast while offline. */
  | { kind: 'service' }
  /** For one command: connects within `timeoutMs` or throws {@link UnreachableError}. */
  | { kind: 'command'; timeoutMs: number };

export function hazelcastClientConfig(
  config: Pick<Config, 'hzMembers' | 'hzClusterName'>,
  log: Logger,
  mode: HazelcastMode,
  onConnectFailed: () => void = () => undefined,
): ClientConfig {
  const service = mode.kind === 'service';
  return {
    clusterName: config.hzClusterName,
    instanceName: `scan-bridge-${process.pid}`,
    network: {
      clusterMembers: config.hzMembers,
      connectionTimeout: 2000,
      // With asyncStart, client 5.6 never opens connections to the members beyond the first
      // (HazelcastClient.init connects to all only without it), so a smart client waits out the
      // invocation timeout on every call for a key another member owns. One connection, through
      // which that member forwards, costs a hop instead; it moves to another member on failure.
      smartRouting: !service,
    },
    connectionStrategy: {
      asyncStart: service,
      // ASYNC: while disconnected, calls throw ClientOfflineError at once instead of waiting.
      reconnectMode: ReconnectMode.ASYNC,
      connectionRetry: {
        initialBackoffMillis: 100,
        maxBackoffMillis: 2000,
        multiplier: 1.5,
        jitter: 0.2,
        // -1: never give up and shut the client down; a command gives up after its timeout.
        clusterConnectTimeoutMillis: service ? -1 : mode.timeoutMs,
      },
    },
    properties: {
      // A call never hangs for the default two minutes.
      'hazelcast.client.invocation.timeout.millis': 5000,
      'hazelcast.client.invocation.retry.pause.millis': 200,
      'hazelcast.client.heartbeat.interval': 1000,
      'hazelcast.client.heartbeat.timeout': 5000,
    },
    customLogger: pinoAdapter(log.child({ component: 'hazelcast' }), onConnectFailed),
  };
}

/** A Hazelcast client and whether it is connected right now (from its lifecycle events). */
export interface Hazelcast {
  client: HazelcastClient;
  connected(): boolean;
  /** Called on every connect and disconnect; returns a function that removes the listener. */
  onChange(listener: (connected: boolean) => void): () => void;
  /** Resolves true once connected, false after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean>;
  /** State listeners registered now: the `onChange` ones and one per unresolved `waitConnected`. */
  listenerCount(): number;
  shutdown(): Promise<void>;
}

export async function createHazelcast(
  config: Pick<Config, 'hzMembers' | 'hzClusterName'>,
  log: Logger,
  mode: HazelcastMode = { kind: 'service' },
): Promise<Hazelcast> {
  let connected = false;
  const listeners: Array<(c: boolean) => void> = [];
  const remove = (l: (c: boolean) => void) => {
    const i = listeners.indexOf(l);
    if (i >= 0) listeners.splice(i, 1);
  };
  const reach = joinReachability('hazelcast', config.hzMembers.join(','));
  const clientConfig = hazelcastClientConfig(config, log, mode, () => reach.down('no member answers'));
  clientConfig.lifecycleListeners = [
    (state: LifecycleState) => {
      if (state === LifecycleState.CONNECTED) reach.up();
      else if (state === LifecycleState.DISCONNECTED) reach.down();
      else if (state === LifecycleState.SHUTDOWN) reach.leave();
      const now =
        state === LifecycleState.CONNECTED ? true : state === LifecycleState.DISCONNECTED || state === LifecycleState.SHUTTING_DOWN ? false : connected;
      if (now === connected) return;
      connected = now;
      // A copy: waitConnected's listeners remove themselves while being called.
      for (const l of [...listeners]) {
        try {
          l(now);
        } catch (err) {
          log.error({ err }, 'hazelcast state listener failed');
        }
      }
    },
  ];
  let client: HazelcastClient;
  try {
    client = await Client.newHazelcastClient(clientConfig);
  } catch (err) {
    reach.leave();
    throw new UnreachableError('hazelcast', config.hzMembers.join(','), err);
  }
  return {
    client,
    connected: () => connected,
    onChange: (l) => {
      listeners.push(l);
      return () => remove(l);
    },
    listenerCount: () => listeners.length,
    async waitConnected(timeoutMs) {
      if (connected) return true;
      // The listener goes when the wait ends either way: callers retry in loops while Hazelcast is down.
      return new Promise<boolean>((ok) => {
        const listener = (c: boolean) => {
          if (!c) return;
          clearTimeout(timer);
          remove(listener);
          ok(true);
        };
        const timer = setTimeout(() => {
          remove(listener);
          ok(connected);
        }, timeoutMs);
        listeners.push(listener);
      });
    },
    async shutdown() {
      await client.shutdown().catch(() => undefined);
    },
  };
}
