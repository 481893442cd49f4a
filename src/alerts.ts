import type { RedisConnection } from './connections.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { isStarting, type HealthResult } from './health.js';
import { sleep } from './time.js';

/** Where the last alerted state lives: shared by every worker, kept across restarts. */
export function alertKey(prefix: string): string {
  return `${prefix}:alerts:last-state`;
}

export interface AlerterOptions {
  /** ALERT_WEBHOOK_URL. */
  url: string;
  /** A fail-fast connection: when Redis is down the decision falls back to this process's memory. */
  redis: RedisConnection;
  prefix: string;
  log: Logger;
  /** Waits before each retry. @defaultValue `[1000, 2000, 4000]`: four tries in all, about 7 s. */
  retryDelaysMs?: number[];
  /** Per POST. @defaultValue `5000` */
  timeoutMs?: number;
  /** Alerts waiting for a slow webhook beyond this are dropped, oldest first. @defaultValue `20` */
  maxPending?: number;
}

export interface Alerter {
  /** Decides whether `result` is a change worth an alert and sends it in the background. Never throws, never waits. */
  notify(result: HealthResult): void;
  /** Resolves once every alert decided so far was delivered or given up. */
  idle(): Promise<void>;
  /** Abandons pending retries; for shutdown. */
  stop(): Promise<void>;
}

/** What "the same status" means: status and cause, so down → down (restart failed) alerts too. */
export function alertState(r: HealthResult): string {
  return 'cause' in r ? `${r.status}:${r.cause}` : r.status;
}

/** The webhook body: `text` for Slack (and most others), `content` for Discord, then the facts. */
export function alertBody(r: HealthResult, previous: string | null): Record<string, unknown> {
  const state = alertState(r).replace(':', ' (') + ('cause' in r ? ')' : '');
  const was = previous ? ` (was ${previous.replace(':', ' ')})` : '';
  const text = r.status === 'healthy' ? `✅ scan-bridge recovered: healthy${was}. ${r.message}` : `⚠️ scan-bridge ${state}${was}: ${r.message}`;
  return { text, content: text.length > 2000 ? `${text.slice(0, 1997)}...` : text, previous, ...r };
}

export function createAlerter(o: AlerterOptions): Alerter {
  const delays = o.retryDelaysMs ?? [1000, 2000, 4000];
  const timeoutMs = o.timeoutMs ?? 5000;
  const maxPending = o.maxPending ?? 20;
  const key = alertKey(o.prefix);
  const stopping = new AbortController();
  /** The last state this process saw, for when Redis cannot be asked. */
  let local: string | null = null;
  /** Set while this process alerted from memory (Redis down); Redis's value is then out of date. */
  let outage = false;
  let decisions: Promise<void> = Promise.resolve();
  let deliveries: Promise<void> = Promise.resolve();
  let pending = 0;

  /** Atomically swaps the shared state, so of many workers seeing one change only one alerts. */
  async function previousState(state: string): Promise<{ previous: string | null; mine: boolean }> {
    try {
      const prev = (await o.redis.set(key, state, 'GET')) as string | null;
      if (outage) {
        outage = false;
        // During the outage this process alerted its own way; compare with what it last said.
        return { previous: local, mine: local !== state };
      }
      return { previous: prev, mine: prev !== state };
    } catch (err) {
      if (!outage) o.log.warn(`alerts: cannot reach Redis (${coerceError(err).message}); deciding from this process's memory`);
      outage = true;
      return { previous: local, mine: local !== state };
    }
  }

  async function post(body: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(o.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        throw new Error(`the webhook answered ${res.status}`);
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined || stopping.signal.aborted) {
          o.log.error(`alert not delivered after ${attempt + 1} tries: ${coerceError(err).message}`);
          return;
        }
        o.log.warn(`alert delivery failed (${coerceError(err).message}); retrying in ${delay} ms`);
        await sleep(delay, stopping.signal);
      }
    }
  }

  async function decide(result: HealthResult): Promise<void> {
    // A bridge catching up after its start is expected: neither news nor a change of state.
    if (isStarting(result)) return;
    const state = alertState(result);
    const { previous, mine } = await previousState(state);
    local = state;
    // A first ever result that is healthy is no news; anything else is.
    if (!mine || (previous === null && result.status === 'healthy')) return;
    if (pending >= maxPending) {
      o.log.error(`alerts: ${pending} alerts wait for a slow webhook; dropping the one for ${state}`);
      return;
    }
    pending++;
    const body = alertBody(result, previous);
    o.log.info(`alerting: ${String(body.text)}`);
    deliveries = deliveries.then(() => post(body)).finally(() => void pending--);
  }

  return {
    notify(result) {
      if (stopping.signal.aborted) return;
      // Decisions in order, so the shared state moves in the order the checks ran.
      decisions = decisions.then(() => decide(result)).catch((err: unknown) => o.log.error(`alerts: ${coerceError(err).message}`));
    },
    async idle() {
      await decisions;
      await deliveries;
    },
    async stop() {
      stopping.abort();
      await decisions;
      await deliveries;
    },
  };
}
