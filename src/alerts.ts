import type { RedisConnection } from './connections.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { hostname } from 'node:os';
import { isStarting, severity, type HealthResult, type HealthStatus } from './health.js';
import { postJson, type DeliveryOptions } from './alerts/deliver.js';
import { incidentStore, pages, resolveEvent, triggerEvent } from './alerts/pagerduty.js';

/** Where the last alerted state lives: shared by every worker, kept across restarts. */
export function alertKey(prefix: string): string {
  return `${prefix}:alerts:last-state`;
}

export interface AlerterOptions {
  /** ALERT_WEBHOOK_URL: each chat webhook gets every chat alert. */
  urls: string[];
  /** ALERT_MIN_STATUS: the mildest status that reaches chat. @defaultValue `warning` */
  minStatus?: HealthStatus;
  /** PAGERDUTY_ROUTING_KEY and PAGERDUTY_EVENTS_URL; absent: no PagerDuty. */
  pagerduty?: { routingKey: string; eventsUrl: string };
  /** `payload.source` of PagerDuty events. @defaultValue the host name */
  source?: string;
  /** A fail-fast connection: when Redis is down the decision falls back to this process's memory. */
  redis: RedisConnection;
  prefix: string;
  log: Logger;
  /** Waits before each retry. @defaultValue `[1000, 2000, 4000]`: four tries in all, about 7 s. */
  retryDelaysMs?: number[];
  /** Per request. @defaultValue `5000` */
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
  const delivery: DeliveryOptions = { delaysMs: delays, timeoutMs, signal: stopping.signal, log: o.log };
  const minSeverity = severity(o.minStatus ?? 'warning');
  const incidents = incidentStore(o.redis, o.prefix, o.log);
  const source = o.source ?? hostname();
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
      const prev = await o.redis.set(key, state, 'GET');
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

  async function decide(result: HealthResult): Promise<void> {
    // A bridge catching up after its start is expected: neither news nor a change of state.
    if (isStarting(result)) return;
    const state = alertState(result);
    const { previous, mine } = await previousState(state);
    local = state;
    // A first ever result that is healthy is no news; anything else is.
    if (!mine || (previous === null && result.status === 'healthy')) return;
    if (pending >= maxPending) {
      o.log.error(`alerts: ${pending} alerts wait for a slow receiver; dropping the one for ${state}`);
      return;
    }
    const sends = [...(await toPagerDuty(result, previous)), ...toChat(result, previous)];
    if (sends.length === 0) return;
    pending++;
    // Alerts in order (a trigger before its resolve); the destinations of one alert side by side.
    deliveries = deliveries.then(() => Promise.all(sends.map((send) => send()))).then(() => void pending--);
  }

  /** A change reaches chat when it enters, or leaves, a status at least ALERT_MIN_STATUS. */
  function toChat(result: HealthResult, previous: string | null): Array<() => Promise<boolean>> {
    const was = previous === null ? -1 : severity(previous.split(':')[0] as HealthStatus);
    if (o.urls.length === 0 || Math.max(severity(result.status), was) < minSeverity) return [];
    const body = alertBody(result, previous);
    o.log.info(`alerting chat: ${String(body.text)}`);
    return o.urls.map((url, i) => () => postJson(`chat alert to webhook ${i + 1} of ${o.urls.length}`, url, body, delivery));
  }

  /** Trigger on entering stale, down or error (and on each change among them); resolve on leaving them. */
  async function toPagerDuty(result: HealthResult, previous: string | null): Promise<Array<() => Promise<boolean>>> {
    const pd = o.pagerduty;
    if (!pd) return [];
    if (pages(result.status)) {
      const event = triggerEvent(result, { routingKey: pd.routingKey, dedupKey: await incidents.open(result.checkedAt), source, prefix: o.prefix });
      o.log.info(`alerting PagerDuty: trigger ${String(event.dedup_key)}`);
      return [() => postJson('PagerDuty trigger', pd.eventsUrl, event, delivery)];
    }
    if (previous === null || !pages(previous.split(':')[0]!)) return [];
    const open = await incidents.close();
    if (open === null) return [];
    o.log.info(`alerting PagerDuty: resolve ${open}`);
    return [() => postJson('PagerDuty resolve', pd.eventsUrl, resolveEvent(pd.routingKey, open), delivery)];
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
