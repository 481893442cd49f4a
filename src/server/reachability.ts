import type { Hazelcast, RedisConnection } from '../connections.js';

/** Whether the board reaches a server, and since when it does not (null: not known, e.g. down before the board started). */
export type ServerReach = { reachable: true } | { reachable: false; since: number | null };

export interface Reachability {
  redis(): ServerReach;
  hazelcast(): ServerReach;
  /** A read from Redis failed or answered: what the board saw counts as well as the connection's events. */
  redisRead(ok: boolean): void;
}

/**
 * Follows the board's own connections: Redis by its connection events and its reads, Hazelcast
 * by the client's lifecycle. The status page and /api/status say from this which server is
 * unreachable and since when, in words, instead of a driver's error text.
 */
export function watchReachability(redis: RedisConnection, hazelcast: Hazelcast, clock: () => number = Date.now): Reachability {
  let redisDownSince: number | null = null;
  let redisDown = false;
  let hzDownSince: number | null = hazelcast.connected() ? null : clock();
  const lost = () => {
    if (!redisDown) redisDownSince = clock();
    redisDown = true;
  };
  redis.on('close', lost);
  redis.on('ready', () => {
    redisDown = false;
    redisDownSince = null;
  });
  hazelcast.onChange((connected) => {
    if (!connected && hzDownSince === null) hzDownSince = clock();
    if (connected) hzDownSince = null;
  });
  return {
    redis: () => (redisDown ? { reachable: false, since: redisDownSince } : { reachable: true }),
    hazelcast: () => (hazelcast.connected() ? { reachable: true } : { reachable: false, since: hzDownSince }),
    redisRead(ok) {
      if (!ok) lost();
      // A read that answered proves the connection, whatever events came before.
      else if (redis.status === 'ready') {
        redisDown = false;
        redisDownSince = null;
      }
    },
  };
}
