import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { createAlerter, type Alerter, type AlerterOptions } from '../src/alerts.js';
import { incidentKey } from '../src/alerts/pagerduty.js';
import { runHealthCheck } from '../src/jobs/health-check.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import type { HealthResult } from '../src/health.js';
import { eventually, killChildren, spawnRoles, testConfig, testEnv, testLog, uniq } from './helpers.js';
import { resolveConfig } from '../src/config.js';
import { capturedLog, receiver } from './receiver.js';

let redis: RedisConnection;
let hz: Hazelcast;
const closers: Array<() => Promise<void>> = [];
const fast = { retryDelaysMs: [5, 10, 20], timeoutMs: 2000 };

beforeAll(async () => {
  redis = createRedis(testConfig());
  hz = await createHazelcast(testConfig(), testLog, { kind: 'command', timeoutMs: 10_000 });
});
afterEach(async () => {
  await killChildren();
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(async () => {
  redis.disconnect();
  await hz.shutdown();
});

async function listen(replies: Array<[number, unknown?]> = []) {
  const r = await receiver(replies);
  closers.push(() => r.close());
  return r;
}

function alerter(o: Partial<AlerterOptions> & { prefix: string }): Alerter {
  const a = createAlerter({ urls: [], redis, log: testLog, ...fast, ...o });
  closers.push(() => a.stop());
  return a;
}

const result = (status: HealthResult['status'], cause?: string): HealthResult =>
  ({
    status,
    checkedAt: Date.now(),
    dataAgeS: 70,
    scanNumber: 42,
    assetCount: 400,
    newestOnDisk: 42,
    bridge: null,
    restarts: 0,
    action: 'alert',
    message: `it is ${status}`,
    ...(cause ? { cause } : {}),
  }) as HealthResult;

describe('PagerDuty Events API v2', () => {
  it('stale from a real check triggers with summary, source, severity, details and a dedup_key; fresh data resolves it with the same key', async () => {
    const pd = await listen();
    const config = testConfig();
    const a = alerter({ prefix: config.queuePrefix, pagerduty: { routingKey: 'R0UT1NG', eventsUrl: pd.url('/v2/enqueue') } });
    const map = await hz.client.getMap<string, string>(config.hzMap);
    const hb: Heartbeat = { id: 'h:1', host: 'h', pid: 1, startedAt: Date.now() - 600_000, generation: 1, beatAt: Date.now(), watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 60_000);
    const check = async (ageS: number) => {
      await map.set(config.hzKey, JSON.stringify({ scan_number: 42, timestamp_ms: Date.now() - ageS * 1000, asset_count: 400 }));
      return runHealthCheck({ config, redis, hazelcast: hz, log: testLog, onResult: (r) => a.notify(r) });
    };

    expect((await check(120)).status).toBe('stale');
    await a.idle();
    expect(pd.requests.events).toHaveLength(1);
    const trigger = pd.requests.events[0]!.body!;
    expect(trigger).toMatchObject({
      routing_key: 'R0UT1NG',
      event_action: 'trigger',
      dedup_key: expect.stringMatching(new RegExp(`^scan-bridge/${config.queuePrefix}/\\d{4}-`)),
      payload: {
        summary: expect.stringMatching(/^scan-bridge stale \(scanner_silent\): data is 120\.\d s old \(scan #42\)/),
        source: hostname(),
        severity: 'error',
        component: 'scan-bridge',
        custom_details: { status: 'stale', cause: 'scanner_silent', scanNumber: 42, dataAgeS: expect.any(Number) },
      },
    });

    expect((await check(1)).status).toBe('healthy');
    await a.idle();
    expect(pd.requests.events.map((r) => r.body)).toEqual([trigger, { routing_key: 'R0UT1NG', event_action: 'resolve', dedup_key: trigger.dedup_key }]);
    expect(await redis.get(incidentKey(config.queuePrefix))).toBeNull();
  });

  it('one incident per outage: stale → down → restart_failed keep the dedup_key, critical for down; the next outage gets a new key', async () => {
    const pd = await listen();
    const a = alerter({ prefix: uniq('pd'), pagerduty: { routingKey: 'k', eventsUrl: pd.url() } });
    for (const r of [
      result('stale', 'bridge_behind'),
      result('down', 'no_heartbeat'),
      result('down', 'restart_failed'),
      result('healthy'),
      result('error', 'redis_unreachable'),
      result('warning'),
    ])
      a.notify(r);
    await a.idle();
    const sent = pd.requests.events.map((r) => r.body as { event_action: string; dedup_key: string; payload?: { severity: string } });
    expect(sent.map((e) => [e.event_action, e.payload?.severity])).toEqual([
      ['trigger', 'error'],
      ['trigger', 'critical'],
      ['trigger', 'critical'],
      ['resolve', undefined],
      ['trigger', 'error'],
      ['resolve', undefined],
    ]);
    expect(new Set(sent.slice(0, 4).map((e) => e.dedup_key)).size).toBe(1);
    expect(sent[4]!.dedup_key).not.toBe(sent[0]!.dedup_key);
    expect(sent[5]!.dedup_key).toBe(sent[4]!.dedup_key);
  });

  it('three workers seeing the same outage send one trigger; another worker resolves it with the same key', async () => {
    const pd = await listen();
    const prefix = uniq('pd');
    const workers = [0, 1, 2].map(() => alerter({ prefix, pagerduty: { routingKey: 'k', eventsUrl: pd.url() } }));
    for (const w of workers) w.notify(result('stale', 'scanner_silent'));
    await Promise.all(workers.map((w) => w.idle()));
    expect(pd.requests.events.map((r) => r.body!.event_action)).toEqual(['trigger']);
    for (const w of workers) w.notify(result('healthy'));
    await Promise.all(workers.map((w) => w.idle()));
    expect(pd.requests.events.map((r) => [r.body!.event_action, r.body!.dedup_key])).toEqual([
      ['trigger', pd.requests.events[0]!.body!.dedup_key],
      ['resolve', pd.requests.events[0]!.body!.dedup_key],
    ]);
  });

  it('three worker processes checking the same outage on schedule send one trigger and one resolve', async () => {
    const pd = await listen();
    // Long enough for the planted heartbeat to stay the bridge's for the whole test.
    const env = testEnv({
      HEALTH_INTERVAL_MS: '300',
      BRIDGE_HEARTBEAT_TTL_MS: '600000',
      PAGERDUTY_ROUTING_KEY: 'R0UT1NG',
      PAGERDUTY_EVENTS_URL: pd.url('/v2/enqueue'),
    });
    const config = resolveConfig(env);
    const hb: Heartbeat = { id: 'h:1', host: 'h', pid: 1, startedAt: Date.now() - 600_000, generation: 1, beatAt: Date.now(), watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 600_000);
    const map = await hz.client.getMap<string, string>(config.hzMap);
    // The scanner went silent two minutes ago, and the folder holds nothing newer: stale, scanner_silent.
    await map.set(config.hzKey, JSON.stringify({ scan_number: 42, timestamp_ms: Date.now() - 120_000, asset_count: 400 }));
    spawnRoles(['scheduler'], env);
    const workers = [0, 1, 2].map(() => spawnRoles(['worker'], env));
    const eachChecked = (status: string) =>
      eventually(
        `each of the three workers to run a ${status} check`,
        () =>
          workers.every((w) =>
            w
              .output()
              .split('\n')
              .some((l) => l.includes(`"msg":"health ${status}`)),
          )
            ? true
            : undefined,
        60_000,
      );

    await eachChecked('stale');
    expect(pd.requests.events.map((r) => r.body!.event_action)).toEqual(['trigger']);
    const key = pd.requests.events[0]!.body!.dedup_key;

    await map.set(config.hzKey, JSON.stringify({ scan_number: 43, timestamp_ms: Date.now(), asset_count: 400 }));
    await eachChecked('healthy');
    expect(pd.requests.events.map((r) => [r.body!.event_action, r.body!.dedup_key])).toEqual([
      ['trigger', key],
      ['resolve', key],
    ]);
  });

  it("a 500 and a 429 are retried until accepted; a 400 is logged with PagerDuty's message and not retried", async () => {
    const pd = await listen([[500], [429, { status: 'throttle event', message: 'Requests for this service are arriving too quickly' }]]);
    const { log, messages } = capturedLog();
    const a = alerter({ prefix: uniq('pd'), log, pagerduty: { routingKey: 'k', eventsUrl: pd.url() } });
    a.notify(result('down', 'no_heartbeat'));
    await a.idle();
    expect(pd.requests.events.map((r) => r.status)).toEqual([500, 429, 202]);

    const bad = await listen([
      [400, { status: 'invalid event', message: 'Event object is invalid', errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"] }],
    ]);
    const b = alerter({ prefix: uniq('pd'), log, pagerduty: { routingKey: 'k', eventsUrl: bad.url() } });
    b.notify(result('down', 'no_heartbeat'));
    await b.idle();
    expect(bad.requests.events.map((r) => r.status)).toEqual([400]);
    expect(messages()).toContain(
      `the PagerDuty trigger for down (no_heartbeat) not delivered to PagerDuty (${new URL(bad.url()).host}) after 1 try: answered 400 Bad Request: Event object is invalid (Length of 'routing_key' is incorrect (should be 32 characters)); not retried: the receiver refused the request itself`,
    );
  });
});

describe('chat destinations', () => {
  it('every URL of ALERT_WEBHOOK_URL gets the alert', async () => {
    const slack = await listen();
    const discord = await listen();
    const a = alerter({ prefix: uniq('chat'), urls: [slack.url('/slack'), discord.url('/discord')] });
    a.notify(result('stale', 'scanner_silent'));
    await a.idle();
    for (const hook of [slack, discord]) {
      expect(hook.requests.events).toHaveLength(1);
      expect(hook.requests.events[0]!.body).toMatchObject({ text: '⚠️ scan-bridge stale (scanner_silent): it is stale', status: 'stale' });
    }
  });

  it('ALERT_MIN_STATUS=stale: a warning reaches nobody; stale does, and so does the recovery from it', async () => {
    const hook = await listen();
    const pd = await listen();
    const a = alerter({ prefix: uniq('chat'), urls: [hook.url()], minStatus: 'stale', pagerduty: { routingKey: 'k', eventsUrl: pd.url() } });
    for (const r of [result('warning'), result('healthy'), result('stale', 'scanner_silent'), result('warning'), result('healthy')]) a.notify(r);
    await a.idle();
    expect(hook.requests.events.map((r) => r.body!.status)).toEqual(['stale', 'warning']);
    expect(pd.requests.events.map((r) => r.body!.event_action)).toEqual(['trigger', 'resolve']);
  });

  it('a bridge starting up alerts nobody', async () => {
    const hook = await listen();
    const pd = await listen();
    const a = alerter({ prefix: uniq('chat'), urls: [hook.url()], pagerduty: { routingKey: 'k', eventsUrl: pd.url() } });
    a.notify(result('warning', 'starting'));
    a.notify(result('healthy'));
    await a.idle();
    expect(hook.requests.events).toEqual([]);
    expect(pd.requests.events).toEqual([]);
  });
});
