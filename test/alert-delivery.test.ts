import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { createAlerter, type Alerter, type AlerterOptions } from '../src/alerts.js';
import { readDeliveries } from '../src/alerts/delivery-record.js';
import { createApp } from '../src/server/app.js';
import { openQueues } from '../src/ops.js';
import type { HealthResult } from '../src/health.js';
import { resolveConfig } from '../src/config.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import { eventually, killChildren, spawnRoles, testConfig, testEnv, testLog, uniq } from './helpers.js';
import { keys } from '../src/keys.js';
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
  await killChildren();
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
      // Inside the hanging webhook's 5 s, by which a wait for its first try would show.
      await recording.requests.until((e) => recording.requests.events.indexOf(e) === i, 4000, `chat alert ${i + 1} (${r.status})`);
      await pd.requests.until((e) => pd.requests.events.indexOf(e) === i, 4000, `PagerDuty event ${i + 1} (${pdActions[i]})`);
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

  it('gives up after its tries, however the memory is collected meanwhile; each failure is logged with the destination and the reason in words, no secret, and recorded', async () => {
    const hanging = await listen([], 'hang');
    const failing = await listen([], [500, { error: 'boom' }]);
    const pd = await listen([], [400, { status: 'invalid event', message: 'Event object is invalid' }]);
    const { log, messages } = capturedLog();
    const prefix = uniq('iso');
    const a = alerter({
      prefix,
      log,
      urls: [hanging.url('/services/T0/B0/PATH-SECRET?token=QUERY-SECRET'), failing.url('/hook').replace('http://', 'http://op:PASSWORD-SECRET@')],
      pagerduty: { routingKey: 'ROUTING-KEY-SECRET', eventsUrl: pd.url('/v2/enqueue') },
      timeoutMs: 2000,
      retryDelaysMs: [50, 100],
    });
    a.notify(result('stale', 'scanner_silent'));
    const collecting = setInterval(gc, 300);
    try {
      // Three tries of 2 s and 0.15 s of waits: well inside 15 s.
      await within(a.idle(), 15_000, 'the give-up');
    } finally {
      clearInterval(collecting);
    }
    expect(hanging.requests.events).toHaveLength(3);
    expect(failing.requests.events).toHaveLength(3);
    expect(pd.requests.events).toHaveLength(1);
    // A URL's user and password go as Basic authentication, as HTTP sends them.
    expect(failing.requests.events[0]!.headers.authorization).toBe(`Basic ${Buffer.from('op:PASSWORD-SECRET').toString('base64')}`);

    const host = (r: { url: (p?: string) => string }) => new URL(r.url()).host;
    const given = messages().filter((m) => /not delivered/.test(m));
    expect(given.sort()).toEqual([
      `the PagerDuty trigger for stale (scanner_silent) not delivered to PagerDuty (${host(pd)}) after 1 try: answered 400 Bad Request: Event object is invalid; not retried: the receiver refused the request itself`,
      `the stale (scanner_silent) alert not delivered to chat webhook 1 of 2 (${host(hanging)}) after 3 tries: no answer within 2 s`,
      `the stale (scanner_silent) alert not delivered to chat webhook 2 of 2 (${host(failing)}) after 3 tries: answered 500 Internal Server Error: {"error":"boom"}`,
    ]);
    for (const m of messages()) expect(m).not.toMatch(/SECRET/);

    const records = await readDeliveries(redis, prefix);
    expect(records.map((r) => [r.destination, r.failed, r.lastFailure?.reason, r.lastDeliveredAt])).toEqual([
      [`chat webhook 1 of 2 (${host(hanging)})`, 1, 'no answer within 2 s', null],
      [`chat webhook 2 of 2 (${host(failing)})`, 1, 'answered 500 Internal Server Error: {"error":"boom"}', null],
      [`PagerDuty (${host(pd)})`, 1, 'answered 400 Bad Request: Event object is invalid', null],
    ]);
  });

  it('stopping abandons the delivery in flight at once and says so, and the alerts waiting behind it too', async () => {
    const hanging = await listen([], 'hang');
    const { log, messages } = capturedLog();
    const a = alerter({ prefix: uniq('iso'), log, urls: [hanging.url('/hook')] });
    a.notify(result('stale', 'scanner_silent'));
    await hanging.requests.until(() => true, 5000, 'the first POST');
    a.notify(result('healthy'));
    await within(a.stop(), 1000, 'the stop');
    const dest = `chat webhook 1 of 1 (${new URL(hanging.url()).host})`;
    expect(messages().filter((m) => /not delivered/.test(m))).toEqual([
      `the stale (scanner_silent) alert not delivered to ${dest} after 1 try: the process stopped before an answer came`,
      `the healthy alert not delivered to ${dest}: the process stopped before it was sent`,
    ]);
  });
});

describe('failed alert deliveries, as operators see them', () => {
  let hazelcast: Hazelcast;
  beforeAll(async () => {
    hazelcast = await createHazelcast(testConfig(), testLog);
  });
  afterAll(async () => {
    await hazelcast.shutdown();
  });

  it('a metric per destination, and a line on the status page until an alert gets through again', async () => {
    const config = testConfig({ BOARD_USER: 'op', BOARD_PASSWORD: 'pw' });
    const queues = openQueues(config, redis, testLog);
    const server = await new Promise<Server>((ok) => {
      const s = createApp({ config, redis, hazelcast, queues, log: testLog }).listen(0, '127.0.0.1', () => ok(s));
    });
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
      await Promise.all(Object.values(queues).map((q) => q.close()));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string) =>
      (await fetch(`${base}${path}`, { headers: { authorization: `Basic ${Buffer.from('op:pw').toString('base64')}` } })).text();

    const flaky = await listen([[500], [500]]);
    const recording = await listen();
    const a = alerter({ prefix: config.queuePrefix, urls: [flaky.url('/hook'), recording.url('/hook')], retryDelaysMs: [10] });
    const flakyName = `chat webhook 1 of 2 (${new URL(flaky.url()).host})`;
    a.notify(result('stale', 'scanner_silent'));
    await a.idle();

    const metric = (text: string, dest: string) =>
      text.split('\n').find((l) => l.startsWith(`scan_bridge_alert_deliveries_failed_total{destination="${dest}"} `));
    expect(metric(await get('/metrics'), flakyName)).toBe(`scan_bridge_alert_deliveries_failed_total{destination="${flakyName}"} 1`);
    let page = await get('/status');
    expect(page).toMatch(
      /<p class="note alert-delivery failing"><b>Alerts to chat webhook 1 of 2 \(127\.0\.0\.1:\d+\)<\/b> failing: the stale \(scanner_silent\) alert was not delivered \d+ s ago \(answered 500 Internal Server Error\); nothing delivered since; 1 given up in all<\/p>/,
    );
    expect(page).not.toContain('Alerts to chat webhook 2 of 2');

    // The next alert gets through: the line says so, and the count stays.
    a.notify(result('healthy'));
    await a.idle();
    expect(flaky.requests.events.map((e) => e.status)).toEqual([500, 500, 202]);
    page = await get('/status');
    expect(page).toMatch(
      /<p class="note alert-delivery"><b>Alerts to chat webhook 1 of 2 [^<]*<\/b> failed: the stale \(scanner_silent\) alert was not delivered \d+ s ago \(answered 500 Internal Server Error\); delivered since, \d+ s ago; 1 given up in all<\/p>/,
    );
    expect(metric(await get('/metrics'), flakyName)).toMatch(/ 1$/);
  });
});

describe("the operator's scenario, with real processes", () => {
  it('scheduled checks in a worker process: stale, healthy, three times over; the recording webhook and PagerDuty hear all six changes beside a hanging and a failing webhook', async () => {
    const hanging = await listen([], 'hang');
    const failing = await listen([], [500]);
    const recording = await listen();
    const pd = await listen();
    const env = testEnv({
      HEALTH_INTERVAL_MS: '300',
      // Long enough for the planted heartbeat to stay the bridge's for the whole test.
      BRIDGE_HEARTBEAT_TTL_MS: '600000',
      ALERT_WEBHOOK_URL: [hanging, failing, recording].map((r) => r.url('/hook')).join(','),
      PAGERDUTY_ROUTING_KEY: 'R0UT1NG',
      PAGERDUTY_EVENTS_URL: pd.url('/v2/enqueue'),
    });
    const config = resolveConfig(env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    closers.push(() => hz.shutdown());
    const hb: Heartbeat = { id: 'h:1', host: 'h', pid: 1, startedAt: Date.now() - 600_000, generation: 1, beatAt: Date.now(), watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 600_000);
    const map = await hz.client.getMap<string, string>(config.hzMap);
    const data = (ageS: number) => map.set(config.hzKey, JSON.stringify({ scan_number: 42, timestamp_ms: Date.now() - ageS * 1000, asset_count: 400 }));
    await data(1);
    spawnRoles(['scheduler', 'worker'], env);
    // Checks running, before the clock of each change starts.
    await eventually('the first health check', async () => ((await redis.get(keys(config.queuePrefix).healthLatest)) ? true : undefined), 60_000);

    const statuses: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [ageS, status] of [
        [120, 'stale'],
        [1, 'healthy'],
      ] as const) {
        await data(ageS);
        statuses.push(status);
        const n = statuses.length;
        // A few checks' time: a wait for the hanging webhook would be 5 s per try.
        await recording.requests.until(() => recording.requests.events.length === n, 4000, `chat alert ${n} (${status})`);
        await pd.requests.until(() => pd.requests.events.length === n, 4000, `PagerDuty event ${n}`);
      }
    }
    expect(recording.requests.events.map((e) => e.body!.status)).toEqual(statuses);
    expect(pd.requests.events.map((e) => e.body!.event_action)).toEqual(['trigger', 'resolve', 'trigger', 'resolve', 'trigger', 'resolve']);
    expect(hanging.requests.events.length).toBeGreaterThanOrEqual(1);
    expect(failing.requests.events.length).toBeGreaterThanOrEqual(1);
  });
});
