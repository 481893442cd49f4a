import type { Logger } from '../log.js';
import { sleep } from '../time.js';
import { attempt, type Destination } from './deliver.js';
import type { DeliveryRecorder } from './delivery-record.js';

/** How a lane delivers. */
export interface LaneOptions {
  /** Waits before each retry; its length is the number of retries. */
  delaysMs: number[];
  /** Per request. */
  timeoutMs: number;
  /** Alerts waiting beyond this are dropped, oldest first. */
  maxPending: number;
  /** Aborts the request and the retries; for shutdown. */
  signal: AbortSignal;
  log: Logger;
  record: DeliveryRecorder;
}

/** One alert for one destination: `what` names it for people ("the stale (scanner_silent) alert"). */
export interface Delivery {
  what: string;
  body: unknown;
}

export interface Lane {
  push(d: Delivery): void;
  /** Resolves once every alert pushed so far was delivered or given up. */
  idle(): Promise<void>;
}

/**
 * A destination's own queue: its alerts in order (a PagerDuty trigger before its resolve), each
 * with its timeout, retries and give-up, so no destination waits for another. An alert is not
 * retried once a newer one waits for the same destination: the newer one names the state it
 * follows, and a webhook that never answers then holds it back by one timeout at most.
 */
export function createLane(dest: Destination, o: LaneOptions): Lane {
  const waiting: Delivery[] = [];
  let running: Promise<void> | null = null;
  /** Aborted when a newer alert arrives (or the process stops): cuts the current wait before a retry short. */
  let newer = new AbortController();
  o.signal.addEventListener('abort', () => newer.abort(), { once: true });

  const failed = (d: Delivery, tries: number, reason: string, why = '') => {
    const after = tries === 0 ? '' : ` after ${tries} ${tries === 1 ? 'try' : 'tries'}`;
    o.log.error(`${d.what} not delivered to ${dest.name}${after}: ${reason}${why}`);
    o.record.failed(dest.name, reason, d.what);
  };

  async function deliver(d: Delivery): Promise<void> {
    const json = JSON.stringify(d.body);
    for (let tries = 1; ; tries++) {
      const r = await attempt(dest, { method: 'POST', body: json }, o.timeoutMs, o.signal);
      if (r.ok) return o.record.delivered(dest.name);
      const delay = o.delaysMs[tries - 1];
      if (!r.retry) return failed(d, tries, r.reason, o.signal.aborted ? '' : '; not retried: the receiver refused the request itself');
      if (delay === undefined) return failed(d, tries, r.reason);
      if (o.signal.aborted) return failed(d, tries, r.reason, '; not retried: the process is stopping');
      if (waiting.length > 0) return failed(d, tries, r.reason, '; not retried: a newer alert for it is waiting');
      o.log.warn(`${d.what} to ${dest.name}: ${r.reason}; trying again in ${delay} ms`);
      await sleep(delay, newer.signal);
      if (o.signal.aborted) return failed(d, tries, r.reason, '; not retried: the process is stopping');
      if (waiting.length > 0) return failed(d, tries, r.reason, '; not retried: a newer alert for it is waiting');
    }
  }

  async function drain(): Promise<void> {
    for (let d = waiting.shift(); d; d = waiting.shift()) {
      newer = new AbortController();
      if (o.signal.aborted) failed(d, 0, 'the process stopped before it was sent');
      else await deliver(d);
    }
  }

  /** Starts draining unless it runs; `running` is cleared only once it has ended, and restarted for an alert pushed meanwhile. */
  function kick(): void {
    if (running) return;
    running = drain().finally(() => {
      running = null;
      if (waiting.length > 0) kick();
    });
  }

  return {
    push(d) {
      if (waiting.length >= o.maxPending) {
        const dropped = waiting.shift()!;
        failed(dropped, 0, `${o.maxPending} alerts were already waiting for this destination; dropped the oldest`);
      }
      waiting.push(d);
      newer.abort();
      kick();
    },
    async idle() {
      while (running) await running;
    },
  };
}
