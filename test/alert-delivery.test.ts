import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRedis, type RedisConnection } from '../src/connections.js';
import { createAlerter, type Alerter, type AlerterOptions } from '../src/alerts.js';
import type { HealthResult } from '../src/health.js';
import { testConfig, uniq } from './helpers.js';
import { capturedLog, receiver, type Reply } from './receiver.js';

// A way to run the garbage collector from a test: a collection is what used to lose a request's timeout.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let redis: RedisConnection;
const closers: Array<() => Promise<void>> = [];

beforeAll(() => {
  redis = createRedis(testConfig());
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(() => {
  redis.disconnect();
});

async function listen(replies: Reply[] = [], then?: Reply) {
  const r = await receiver(replies, then);
  closers.push(() => r.close());
  return r;
}

function alerter(o: Partial<AlerterOptions> & { prefix: string }): Alerter {
  const a = createAlerter({ urls: [], redis, log: capturedLog().log, ...o });
  closers.push(() => a.stop());
  return a;
}

/** What health.ts says when Redis is down, driver wording included. */
const DRIVER_TEXT = "Stream isn't writeable and enableOfflineQueue options is false";

const result = (status: HealthResult['status'], cause?: string): HealthResult =>
  ({
    status,
    checkedAt: Date.now(),
    dataAgeS: status === 'healthy' ? 2 : 70,
    scanNumber: 42,
    assetCount: 400,
    newestOnDisk: 42,
    bridge: null,
    restarts: 0,
    action: status === 'healthy' ? 'none' : 'alert',
    message: status === 'error' ? `Redis is unreachable (${DRIVER_TEXT}), so the bridge heartbeat is unknown: checked again next tick` : `it is ${status}`,
    ...(cause ? { cause } : {}),
    ...(status === 'error' ? { error: DRIVER_TEXT } : {}),
  }) as HealthResult;

/** Races `p` against a deadline, failing with `what`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('alert delivery, one destination failing', () => {
  it('a webhook that never answers and one that answers 500 hold back neither the recording webhook nor PagerDuty: each hears every change at once', async () => {
    const hanging = await listen([], 'hang');
    const failing = await listen([], [500, { error: 'boom' }]);
    const recording = await listen();
    const pd = await listen();
    // The defaults: 5 s a request, retries after 1, 2 and 4 s.
    const a = alerter({
      prefix: uniq('iso'),
      urls: [hanging.url('/hook'), failing.url('/hook'), recording.url('/hook')],
      pagerduty: { routingKey: 'k', eventsUrl: pd.url() },
    });
    const changes = [
      result('stale', 'scanner_silent'),
      result('healthy'),
      result('down', 'no_heartbeat'),
      result('down', 'restart_failed'),
      result('healthy'),
      result('error', 'redis_unreachable'),
      result('healthy'),
    ];
    const pdActions = ['trigger', 'resolve', 'trigger', 'trigger', 'resolve', 'trigger', 'resolve'];
    for (const [i, r] of changes.entries()) {
      a.notify(r);
      // Well inside the hanging webhook's 5 s: nothing waits for it.
      await recording.requests.until((e) => recording.requests.events.indexOf(e) === i, 2500, `chat alert ${i + 1} (${r.status})`);
      await pd.requests.until((e) => pd.requests.events.indexOf(e) === i, 2500, `PagerDuty event ${i + 1} (${pdActions[i]})`);
    }
    expect(recording.requests.events.map((e) => [e.body!.status, e.body!.cause])).toEqual(changes.map((r) => [r.status, 'cause' in r ? r.cause : undefined]));
    expect(pd.requests.events.map((e) => e.body!.event_action)).toEqual(pdActions);
    // The others were asked too.
    expect(hanging.requests.events.length).toBeGreaterThanOrEqual(1);
    expect(failing.requests.events.length).toBeGreaterThanOrEqual(1);

    // What is down, in words; never the driver's text.
    const error = recording.requests.events[5]!.body!;
    expect(error.text).toMatch(/Redis is unreachable/);
    const trigger = pd.requests.events[5]!.body!;
    for (const sent of [error, trigger]) expect(JSON.stringify(sent)).not.toContain('enableOfflineQueue');
  });

  it('a webhook that never answers is given up after its tries, however the memory is collected meanwhile', async () => {
    const hanging = await listen([], 'hang');
    const { log, messages } = capturedLog();
    const a = alerter({ prefix: uniq('iso'), log, urls: [hanging.url('/hook')], timeoutMs: 300, retryDelaysMs: [50, 100] });
    a.notify(result('stale', 'scanner_silent'));
    const collecting = setInterval(gc, 50);
    try {
      // Three tries of 0.3 s and 0.15 s of waits: well inside 5 s.
      await within(a.idle(), 5000, 'the give-up');
    } finally {
      clearInterval(collecting);
    }
    expect(hanging.requests.events).toHaveLength(3);
    expect(messages().filter((m) => /not delivered/.test(m))).toHaveLength(1);
  });
});
