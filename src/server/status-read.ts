import type { Config } from '../config.js';
import type { Hazelcast, RedisConnection } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { collectStatus, readLatestScan, type LatestScanView, type SystemStatus } from '../ops.js';
import type { JobQueues } from '../jobs/table.js';
import { withTimeout } from '../time.js';
import type { Reachability, ServerReach } from './reachability.js';

export interface StatusReadDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
  log: Logger;
  reach: Reachability;
}

/** A server as operators are told about it: reachable, or since when not and what that means, in words. */
export type ServerView = { reachable: true } | { reachable: false; since: number | null; message: string };

/** What the board knows now, each part from the server that holds it; a part is null while its server is unreachable. */
export interface StatusView {
  at: number;
  servers: { redis: ServerView; hazelcast: ServerView };
  /** Read from Hazelcast now; null when there is none or Hazelcast is unreachable. */
  latestScan: LatestScanView | null;
  /** Why the value in Hazelcast is no usable scan (bridge/guards/stored-value.ts), when it is not; else null. */
  unusable: string | null;
  /** Read from Redis now (its `latestScan` left out: see above); null while Redis is unreachable. */
  facts: Omit<SystemStatus, 'latestScan' | 'at'> | null;
}

const READ_TIMEOUT_MS = 5000;

function view(reach: ServerReach, message: string): ServerView {
  return reach.reachable ? reach : { ...reach, message };
}

/** Reads Redis's facts and Hazelcast's scan side by side; neither server's outage stops the other's part. */
export async function readStatusView(deps: StatusReadDeps): Promise<StatusView> {
  const { config, redis, hazelcast, queues, log, reach } = deps;
  const at = Date.now();
  const fromRedis = async (): Promise<StatusView['facts']> => {
    // The board's read connection fails at once while Redis is away; not asking spares the wait.
    if (redis.status !== 'ready') {
      reach.redisRead(false);
      return null;
    }
    try {
      const { latestScan: _, at: __, ...facts } = await withTimeout(collectStatus(config, redis, queues, null), READ_TIMEOUT_MS, 'Redis');
      reach.redisRead(true);
      return facts;
    } catch (err) {
      log.debug(`status: Redis read failed: ${coerceError(err).message}`);
      reach.redisRead(false);
      return null;
    }
  };
  /** `undefined`: Hazelcast could not be read. */
  let unusable: string | null = null;
  const fromHazelcast = async (): Promise<LatestScanView | null | undefined> => {
    if (!hazelcast.connected()) return undefined;
    const scan = await withTimeout(readLatestScan(config, hazelcast, at), READ_TIMEOUT_MS, 'Hazelcast').catch((err: unknown) => ({
      error: coerceError(err).message,
    }));
    if (scan === null) return null;
    if ('unusable' in scan) {
      unusable = scan.unusable;
      return null;
    }
    if ('error' in scan) {
      log.debug(`status: Hazelcast read failed: ${scan.error}`);
      return undefined;
    }
    return scan;
  };
  const [facts, latestScan] = await Promise.all([fromRedis(), fromHazelcast()]);
  const hz = reach.hazelcast();
  return {
    at,
    servers: {
      redis:
        facts !== null
          ? { reachable: true }
          : view(reach.redis(), 'Redis does not answer: the health checks, the bridge facts, the job queues and the history are kept there'),
      hazelcast:
        latestScan !== undefined
          ? { reachable: true }
          : view(hz.reachable ? { reachable: false, since: at } : hz, 'the Hazelcast cluster does not answer: the latest scan is kept there'),
    },
    latestScan: latestScan ?? null,
    unusable,
    facts,
  };
}
