import type { RedisConnection } from './connections.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { hostname } from 'node:os';
import { isStarting, severity, type HealthResult, type HealthStatus } from './health.js';
import { withTimeout } from './time.js';
import { destination } from './alerts/deliver.js';
import { createLane, type Lane, type LaneOptions } from './alerts/lane.js';
import { deliveryRecorder } from './alerts/delivery-record.js';
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
  /** Per request, each destination and alert its own. @defaultValue `5000` */
  timeoutMs?: number;
  /** Alerts waiting for one slow destination beyond this are dropped, oldest first. @defaultValue `20` */
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

/**
 * A result as alerts tell it: an unreachable server named in words, without the driver's error
 * text (e.g. "Stream isn't writeable…"), which says nothing to the person paged.
 */
export function forAlert(r: HealthResult): HealthResult {
  if (r.status !== 'error') return r;
  const both = r.cause === 'hazelcast_unreachable' && /(^|; )Redis: /.test(r.error);
  const [down, unknown] = both
    ? ['Hazelcast and Redis are both unreachable', 'the data age and the bridge heartbeat are unknown']
    : r.cause === 'hazelcast_unreachable'
      ? ['Hazelcast is unreachable', 'the data age is unknown']
      : ['Redis is unreachable', 'the bridge heartbeat is unknown'];
  return { ...r, error: down, message: `${down}, so ${unknown}; the next health check looks again` };
}

/** "stale (scanner_silent)": a state for people. */
function said(state: string): string {
  const [status, cause] = state.split(':');
  return cause ? `${status} (${cause})` : status!;
}

/** The webhook body: `text` for Slack (and most others), `content` for Discord, then the facts. */
export function alertBody(r: HealthResult, previous: string | null): Record<string, unknown> {
  const state = said(alertState(r));
  const was = previous ? ` (was ${previous.replace(':', ' ')})` : '';
  const text = r.status === 'healthy' ? `✅ scan-bridge recovered: healthy${was}. ${r.message}` : `⚠️ scan-bridge ${state}${was}: ${r.message}`;
  return { text, content: text.length > 2000 ? `${text.slice(0, 1997)}...` : text, previous, ...r };
}

/** Redis calls of a decision: an unanswering Redis must not hold the alerts that follow. */
const REDIS_TIMEOUT_MS = 2000;

export function createAlerter(o: AlerterOptions): Alerter {
  const key = alertKey(o.prefix);
  const stopping = new AbortController();
  const record = deliveryRecorder(o.redis, o.prefix, o.log);
  const lane: LaneOptions = {
    delaysMs: o.retryDelaysMs ?? [1000, 2000, 4000],
    timeoutMs: o.timeoutMs ?? 5000,
    maxPending: o.maxPending ?? 20,
    signal: stopping.signal,
    log: o.log,
    record,
  };
  // One lane per destination: each delivers on its own, so none waits for another.
  const chat = o.urls.map((url, i) => createLane(destination(`chat webhook ${i + 1} of ${o.urls.length}`, url), lane));
  const pd = o.pagerduty ? { ...o.pagerduty, lane: createLane(destination('PagerDuty', o.pagerduty.eventsUrl), lane) } : undefined;
  const lanes: Lane[] = [...chat, ...(pd ? [pd.lane] : [])];
  const minSeverity = severity(o.minStatus ?? 'warning');
  const incidents = incidentStore(o.redis, o.prefix, o.log);
  const source = o.source ?? hostname();
  /** The last state this process saw, for when Redis cannot be asked. */
  let local: string | null = null;
  /** Set while this process alerted from memory (Redis down); Redis's value is then out of date. */
  let outage = false;
  let decisions: Promise<void> = Promise.resolve();

  /** Atomically swaps the shared state, so of many workers seeing one change only one alerts. */
  async function previousState(state: string): Promise<{ previous: string | null; mine: boolean }> {
    try {
      const prev = await withTimeout(o.redis.set(key, state, 'GET'), REDIS_TIMEOUT_MS, 'Redis');
      if (outage) {
        outage = false;
        // During the outage this process alerted its own way; compare with what it last said.
        return { previous: local, mine: local !== state };
      }
      return { previous: prev, mine: prev !== state };
    } catch {
      if (!outage) o.log.warn("alerts: Redis does not answer; deciding what to alert from this process's memory");
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
    const shown = forAlert(result);
    await toPagerDuty(shown, previous);
    toChat(shown, previous);
  }

  /** A change reaches chat when it enters, or leaves, a status at least ALERT_MIN_STATUS. */
  function toChat(result: HealthResult, previous: string | null): void {
    const was = previous === null ? -1 : severity(previous.split(':')[0] as HealthStatus);
    if (chat.length === 0 || Math.max(severity(result.status), was) < minSeverity) return;
    const body = alertBody(result, previous);
    o.log.info(`alerting chat: ${String(body.text)}`);
    for (const l of chat) l.push({ what: `the ${said(alertState(result))} alert`, body });
  }

  /** Trigger on entering stale, down or error (and on each change among them); resolve on leaving them. */
  async function toPagerDuty(result: HealthResult, previous: string | null): Promise<void> {
    if (!pd) return;
    if (pages(result.status)) {
      const event = triggerEvent(result, { routingKey: pd.routingKey, dedupKey: await incidents.open(result.checkedAt), source, prefix: o.prefix });
      o.log.info(`alerting PagerDuty: trigger ${String(event.dedup_key)}`);
      return pd.lane.push({ what: `the PagerDuty trigger for ${said(alertState(result))}`, body: event });
    }
    if (previous === null || !pages(previous.split(':')[0]!)) return;
    const open = await incidents.close();
    if (open === null) return;
    o.log.info(`alerting PagerDuty: resolve ${open}`);
    pd.lane.push({ what: `the PagerDuty resolve (${said(alertState(result))})`, body: resolveEvent(pd.routingKey, open) });
  }

  const settled = async () => {
    await decisions;
    await Promise.all(lanes.map((l) => l.idle()));
    await record.idle();
  };
  return {
    notify(result) {
      if (stopping.signal.aborted) return;
      // Decisions in order, so the shared state moves in the order the checks ran.
      decisions = decisions.then(() => decide(result)).catch((err: unknown) => o.log.error(`alerts: ${coerceError(err).message}`));
    },
    idle: settled,
    async stop() {
      stopping.abort();
      await settled();
    },
  };
}
