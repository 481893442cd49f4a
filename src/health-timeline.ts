import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from './connections.js';
import { STATUSES, type HealthResult, type HealthStatus } from './health.js';

/**
 * One health check, as the status page needs it: small enough that 7 days of checks every 30 s
 * (20,160) take about 1.5 MB of Redis. The full results stay in the shorter `health:history`.
 */
export interface TimelinePoint {
  /** checkedAt, epoch ms. */
  t: number;
  s: HealthStatus;
  /** Cause of a stale, down or error status (and of any other status that names one). */
  c?: string;
  /** Data age, seconds; null when unknown. */
  a: number | null;
}

/** How far back the timeline reaches: the status page's longest window. */
export const TIMELINE_RETENTION_MS = 7 * 24 * 3600 * 1000;

export function toPoint(r: HealthResult): TimelinePoint {
  const p: TimelinePoint = { t: r.checkedAt, s: r.status, a: r.dataAgeS };
  if ('cause' in r && typeof r.cause === 'string') p.c = r.cause;
  return p;
}

/**
 * Adds the check to a MULTI: a sorted set by time, trimmed to {@link TIMELINE_RETENTION_MS} and
 * to `max` entries, whichever is fewer, so it is bounded however often checks run.
 */
export function addToTimeline(multi: ChainableCommander, key: string, r: HealthResult, max: number): ChainableCommander {
  const p = toPoint(r);
  return multi
    .zadd(key, p.t, JSON.stringify(p))
    .zremrangebyscore(key, '-inf', `(${p.t - TIMELINE_RETENTION_MS}`)
    .zremrangebyrank(key, 0, -(max + 1));
}

/** Whether a parsed member is a point this version can draw and count: anything else is left out, never shown. */
function isPoint(p: unknown): p is TimelinePoint {
  if (typeof p !== 'object' || p === null) return false;
  const q = p as Record<string, unknown>;
  return (
    typeof q.t === 'number' &&
    Number.isFinite(q.t) &&
    (STATUSES as readonly unknown[]).includes(q.s) &&
    (q.a === null || (typeof q.a === 'number' && Number.isFinite(q.a))) &&
    (q.c === undefined || typeof q.c === 'string')
  );
}

/** Points with `t >= since`, oldest first; a member that does not parse, or not as a point, is left out. */
export async function readTimeline(redis: RedisConnection, key: string, since: number): Promise<TimelinePoint[]> {
  const members = await redis.zrangebyscore(key, since, '+inf');
  const points: TimelinePoint[] = [];
  for (const m of members) {
    try {
      const p = JSON.parse(m) as unknown;
      if (isPoint(p)) points.push(p);
    } catch {
      // Written by another version: one missing point is a short gap, not a broken page.
    }
  }
  return points;
}
