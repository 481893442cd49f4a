import type { RedisConnection } from '../connections.js';
import type { Logger } from '../log.js';
import { withTimeout } from '../time.js';

/** Hash of every alert destination's deliveries: `<destination>|failed` (a count), `|last-failure` (JSON), `|delivered-at` (epoch ms). */
export function deliveriesKey(prefix: string): string {
  return `${prefix}:alerts:deliveries`;
}

/** What one destination's deliveries came to, for the status page and the metric. */
export interface DeliveryRecord {
  /** Its role and host, e.g. "chat webhook 2 of 3 (hooks.slack.com)". */
  destination: string;
  /** Alerts given up on, ever. */
  failed: number;
  lastFailure: { at: number; reason: string; alert: string } | null;
  /** When an alert last reached it; null: not since the record began. */
  lastDeliveredAt: number | null;
}

export interface DeliveryRecorder {
  delivered(destination: string): void;
  failed(destination: string, reason: string, alert: string): void;
  /** Resolves once the writes asked for so far are done or given up. */
  idle(): Promise<void>;
}

const WRITE_TIMEOUT_MS = 2000;

/**
 * Keeps the outcomes in Redis, shared by every worker and read by the board. While Redis does
 * not answer, failures are counted here and added once it does: none goes uncounted.
 */
export function deliveryRecorder(redis: RedisConnection, prefix: string, log: Logger): DeliveryRecorder {
  const key = deliveriesKey(prefix);
  const uncounted = new Map<string, number>();
  let writes: Promise<void> = Promise.resolve();
  let down = false;

  const write = (fields: Record<string, string>) => {
    writes = writes.then(async () => {
      const counts = [...uncounted].filter(([, n]) => n > 0);
      const m = redis.multi().hset(key, fields);
      for (const [dest, n] of counts) m.hincrby(key, `${dest}|failed`, n);
      try {
        await withTimeout(m.exec(), WRITE_TIMEOUT_MS, 'Redis');
        for (const [dest, n] of counts) uncounted.set(dest, (uncounted.get(dest) ?? n) - n);
        for (const [dest, n] of uncounted) if (n === 0) uncounted.delete(dest);
        if (down) log.info('alerts: Redis answers again; alert deliveries are recorded there again');
        down = false;
      } catch {
        if (!down) log.warn('alerts: Redis does not answer, so alert deliveries are not recorded there; failures are counted here until it does');
        down = true;
      }
    });
  };

  return {
    delivered(destination) {
      write({ [`${destination}|delivered-at`]: String(Date.now()) });
    },
    failed(destination, reason, alert) {
      uncounted.set(destination, (uncounted.get(destination) ?? 0) + 1);
      write({ [`${destination}|last-failure`]: JSON.stringify({ at: Date.now(), reason, alert }) });
    },
    idle: () => writes,
  };
}

/** Every destination that ever failed or was delivered to, from Redis; failing ones first. */
export async function readDeliveries(redis: RedisConnection, prefix: string): Promise<DeliveryRecord[]> {
  const all = await redis.hgetall(deliveriesKey(prefix));
  const byDest = new Map<string, DeliveryRecord>();
  for (const [field, value] of Object.entries(all)) {
    const cut = field.lastIndexOf('|');
    const destination = field.slice(0, cut);
    const r = byDest.get(destination) ?? { destination, failed: 0, lastFailure: null, lastDeliveredAt: null };
    const part = field.slice(cut + 1);
    if (part === 'failed') r.failed = Number(value);
    else if (part === 'last-failure') r.lastFailure = JSON.parse(value) as DeliveryRecord['lastFailure'];
    else if (part === 'delivered-at') r.lastDeliveredAt = Number(value);
    byDest.set(destination, r);
  }
  const failing = (r: DeliveryRecord) => r.lastFailure !== null && r.lastFailure.at > (r.lastDeliveredAt ?? 0);
  return [...byDest.values()].sort((a, b) => Number(failing(b)) - Number(failing(a)) || a.destination.localeCompare(b.destination));
}
