import { Redis, type RedisOptions } from 'ioredis';
import { Client, ReconnectMode, LifecycleState, type ClientConfig, type ILogger, LogLevel } from 'hazelcast-client';

export type HazelcastClient = Client;
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { UnreachableError } from './errors.js';

/**
 * Redis connection for long-running roles: retries for ever with a capped backoff, and queues
 * nothing while offline, so callers fail fast and try again rather than piling up commands.
 * BullMQ workers need `maxRetriesPerRequest: null`.
 */
export function createRedis(config: Pick<Config, 'redisUrl'>, opts: RedisOptions = {}): Redis {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: 3000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 2000),
    ...opts,
  });
  // Errors are reported through the commands that fail; an 'error' without a listener would crash.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once `redis` is connected, or after `timeoutMs` (then callers just see errors until it
 * connects). For fail-fast connections without an offline queue, whose first commands would
 * otherwise fail while the connection is still being made.
 */
export function redisReady(redis: Redis, timeoutMs = 3000): Promise<void> {
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
export async function connectRedisOnce(config: Pick<Config, 'redisUrl'>, timeoutMs = 3000): Promise<Redis> {
  const redis = createRedis(config, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: true,
  });
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new UnreachableError('redis', config.redisUrl.replace(/\/\/[^@]*@/, '//***@'), err);
  }
}

function pinoAdapter(log: Logger): ILogger {
  const at = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (objectName: string, message: string, furtherInfo?: unknown) =>
    log[level]({ component: objectName, info: furtherInfo instanceof Error ? furtherInfo.message : furtherInfo }, `hazelcast: ${message}`);
  const levels = { [LogLevel.ERROR]: at('error'), [LogLevel.WARN]: at('warn'), [LogLevel.INFO]: at('debug'), [LogLevel.DEBUG]: at('trace'), [LogLevel.TRACE]: at('trace') } as Record<number, ReturnType<typeof at>>;
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

export function hazelcastClientConfig(config: Pick<Config, 'hzMembers' | 'hzClusterName'>, log: Logger, mode: HazelcastMode): ClientConfig {
  const service = mode.kind === 'service';
  return {
    clusterName: config.hzClusterName,
    instanceName: `scan-bridge-${process.pid}`,
    network: { clusterMembers: config.hzMembers, connectionTimeout: 2000 },
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
    customLogger: pinoAdapter(log.child({ component: 'hazelcast' })),
  };
}

/** A Hazelcast client and whether it is connected right now (from its lifecycle events). */
export interface Hazelcast {
  client: HazelcastClient;
  connected(): boolean;
  /** Called on every connect and disconnect; returns a function that stops calling it. */
  onChange(listener: (connected: boolean) => void): () => void;
  /** Resolves true once connected, false after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean>;
  shutdown(): Promise<void>;
}

export async function createHazelcast(config: Pick<Config, 'hzMembers' | 'hzClusterName'>, log: Logger, mode: HazelcastMode = { kind: 'service' }): Promise<Hazelcast> {
  let connected = false;
  const listeners: Array<(c: boolean) => void> = [];
  const clientConfig = hazelcastClientConfig(config, log, mode);
  clientConfig.lifecycleListeners = [
    (state: LifecycleState) => {
      const now = state === LifecycleState.CONNECTED ? true : state === LifecycleState.DISCONNECTED || state === LifecycleState.SHUTTING_DOWN ? false : connected;
      if (now === connected) return;
      connected = now;
      for (const l of listeners) {
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
    throw new UnreachableError('hazelcast', config.hzMembers.join(','), err);
  }
  return {
    client,
    connected: () => connected,
    onChange(l) {
      listeners.push(l);
      return () => {
        const at = listeners.indexOf(l);
        if (at >= 0) listeners.splice(at, 1);
      };
    },
    async waitConnected(timeoutMs) {
      if (connected) return true;
      return new Promise<boolean>((ok) => {
        const timer = setTimeout(() => ok(connected), timeoutMs);
        listeners.push((c) => {
          if (c) {
            clearTimeout(timer);
            ok(true);
          }
        });
      });
    },
    async shutdown() {
      await client.shutdown().catch(() => undefined);
    },
  };
}
