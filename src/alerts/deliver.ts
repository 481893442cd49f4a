import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { sleep } from '../time.js';

export interface DeliveryOptions {
  /** Waits before each retry; its length is the number of retries. */
  delaysMs: number[];
  /** Per request. */
  timeoutMs: number;
  /** Aborts the request and the retries; for shutdown. */
  signal: AbortSignal;
  log: Logger;
}

/** A refusal that trying again cannot fix: the receiver read the request and said no. */
class Refused extends Error {}

/** What the receiver said, for the log: PagerDuty's `message` and `errors`, or the start of the body. */
function said(text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(j.errors) ? ` (${j.errors.map(String).join('; ')})` : '';
    if (typeof j.message === 'string') return `${j.message}${errors}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300);
}

/**
 * POSTs `body` as JSON to `url`, retrying with backoff after a network error, a timeout, a 429
 * or a 5xx. Any other 4xx is not retried: it is logged with what the receiver said. Never throws.
 * Returns whether it was delivered.
 */
export async function postJson(what: string, url: string, body: unknown, o: DeliveryOptions): Promise<boolean> {
  const json = JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: json,
        signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs), o.signal]),
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return true;
      const message = `${what}: the receiver answered ${res.status}${text ? `: ${said(text)}` : ''}`;
      if (res.status !== 429 && res.status < 500) throw new Refused(message);
      throw new Error(message);
    } catch (err) {
      const e = coerceError(err);
      if (e instanceof Refused) {
        o.log.error(`${e.message}; not retried, the request itself was refused`);
        return false;
      }
      const delay = o.delaysMs[attempt];
      if (delay === undefined || o.signal.aborted) {
        o.log.error(`${what} not delivered after ${attempt + 1} tries: ${e.message}`);
        return false;
      }
      o.log.warn(`${what} failed (${e.message}); retrying in ${delay} ms`);
      await sleep(delay, o.signal);
    }
  }
}
