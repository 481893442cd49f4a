import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import type { HealthResult } from '../health.js';
import { withTimeout } from '../time.js';

/** An unanswering Redis must not hold the alerts that follow. */
const REDIS_TIMEOUT_MS = 2000;

/** Statuses that page: an open incident lasts from entering one of these until leaving them all. */
const PAGING = new Set<string>(['stale', 'down', 'error']);

export function pages(status: string): boolean {
  return PAGING.has(status);
}

/** Where the open incident's dedup_key lives, so whichever worker sees the recovery resolves it. */
export function incidentKey(prefix: string): string {
  return `${prefix}:alerts:pagerduty-incident`;
}

/** PagerDuty's limit on `payload.summary`. */
const SUMMARY_MAX = 1024;

/** An Events API v2 `trigger` for a paging result (developer.pagerduty.com, Events API v2). */
export function triggerEvent(r: HealthResult, o: { routingKey: string; dedupKey: string; source: string; prefix: string }): Record<string, unknown> {
  const cause = 'cause' in r ? r.cause : null;
  const summary = `scan-bridge ${r.status}${cause ? ` (${cause})` : ''}: ${r.message}`;
  return {
    routing_key: o.routingKey,
    event_action: 'trigger',
    dedup_key: o.dedupKey,
    payload: {
      summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 3)}...` : summary,
      source: o.source,
      // A dead bridge stops the data for everyone; old data or an unreachable server may be partial.
      severity: r.status === 'down' ? 'critical' : 'error',
      timestamp: new Date(r.checkedAt).toISOString(),
      component: 'scan-bridge',
      group: o.prefix,
      class: cause ? `${r.status}:${cause}` : r.status,
      custom_details: r,
    },
  };
}

export function resolveEvent(routingKey: string, dedupKey: string): Record<string, unknown> {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
}

/**
 * The open incident's dedup_key, shared through Redis; this process's memory when Redis does not
 * answer (then workers may each open one, as each then alerts chat from memory too).
 */
export function incidentStore(redis: RedisConnection, prefix: string, log: Logger) {
  const key = incidentKey(prefix);
  let local: string | null = null;
  const fallback = (err: unknown) => {
    log.warn("alerts: Redis does not answer, so the open PagerDuty incident is kept in this process's memory");
    log.debug(`alerts: the PagerDuty incident in Redis: ${coerceError(err).message}`);
  };
  return {
    /** The open incident's key, or a new one for an incident starting at `at`. */
    async open(at: number): Promise<string> {
      const fresh = `scan-bridge/${prefix}/${new Date(at).toISOString()}/${randomUUID().slice(0, 8)}`;
      try {
        // NX: an incident already open keeps its key through stale → down → restart_failed.
        await withTimeout(redis.set(key, fresh, 'NX'), REDIS_TIMEOUT_MS, 'Redis');
        local = (await withTimeout(redis.get(key), REDIS_TIMEOUT_MS, 'Redis')) ?? fresh;
      } catch (err) {
        fallback(err);
        local ??= fresh;
      }
      return local;
    },
    /** The open incident's key, removed; null when none is known. */
    async close(): Promise<string | null> {
      let open = local;
      try {
        open = (await withTimeout(redis.getdel(key), REDIS_TIMEOUT_MS, 'Redis')) ?? local;
      } catch (err) {
        fallback(err);
      }
      local = null;
      return open;
    },
  };
}
