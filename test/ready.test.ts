import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHazelcast, createRedis, type Hazelcast } from '../src/connections.js';
import { openQueues } from '../src/ops.js';
import { createApp } from '../src/server/app.js';
import { answerReady, parseReadyQuery, READY_MAX_WAIT_S, readyReply } from '../src/server/ready.js';
import { decideReady, HEALTH_KEY, type HealthEntry, type Readiness } from '../src/ready/decide.js';
import type { Config } from '../src/config.js';
import { testConfig, testLog } from './helpers.js';

const NOW = 1_800_000_000_000;
const entry = (status: string, extra: Partial<HealthEntry> = {}) =>
  ({ status, checkedAt: NOW - 1000, validUntil: NOW + 5000, message: '', ...extra }) as HealthEntry;
const latest = (ageS: number) => ({ scan_number: 7, timestamp_ms: NOW - ageS * 1000, asset_count: 3 });

describe('readiness decision (pure)', () => {
  it('ready: data within max age and a live health entry that is not down or error', () => {
    expect(decideReady({ now: NOW, maxAgeS: 30, latest: latest(2), health: entry('stale', { cause: 'scanner_silent' }) })).toEqual({
      ready: true,
      missing: [],
      maxAgeS: 30,
      dataAgeS: 2,
      scanNumber: 7,
      health: { status: 'stale', cause: 'scanner_silent', checkedAt: NOW - 1000, validUntil: NOW + 5000 },
      at: NOW,
      strict: false,
      content: [],
    });
    expect(decideReady({ now: NOW, maxAgeS: 30, latest: latest(-60), health: entry('healthy') }).dataAgeS).toBe(0);
  });

  it('names each thing missing', () => {
    const miss = (i: Partial<Parameters<typeof decideReady>[0]>) =>
      decideReady({ now: NOW, maxAgeS: 30, latest: latest(1), health: entry('healthy'), ...i }).missing;
    expect(miss({ latest: null })).toEqual(['no scan in Hazelcast']);
    expect(miss({ latest: latest(31) })).toEqual(['data is 31.0 s old (scan #7), over the 30 s limit']);
    expect(miss({ health: null })).toEqual(['no health entry (no health check within 3 intervals: nobody is checking)']);
    expect(miss({ health: entry('healthy', { validUntil: NOW }) })).toEqual(['no health entry (no health check within 3 intervals: nobody is checking)']);
    expect(miss({ health: entry('error', { cause: 'redis_unreachable' }) })).toEqual(['the last health check says error (redis_unreachable)']);
    expect(miss({ latest: null, health: entry('down') })).toEqual(['no scan in Hazelcast', 'the last health check says down']);
  });
});

describe('readiness of a value that is no scan to keep (issue 20)', () => {
  it('a value stamped beyond MAX_CLOCK_SKEW_S ahead, or one that does not parse as a scan, is not ready, naming why', () => {
    const forged = { scan_number: 999999, timestamp_ms: 4070908800000, asset_count: 3, bridge_id: 'elsewhere' };
    const r = decideReady({ now: NOW, maxAgeS: 30, maxClockSkewS: 300, latest: forged, health: entry('healthy') });
    expect(r).toMatchObject({ ready: false, dataAgeS: null, scanNumber: null });
    expect(r.missing).toEqual([
      expect.stringMatching(
        /^the value in Hazelcast is no usable scan: scan #999999 of 2099-01-01T00:00:00\.000Z, written by "elsewhere", is stamped \d+(\.\d)? s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=300$/,
      ),
    ]);
    // Within the limit a future stamp counts as fresh, as before.
    expect(decideReady({ now: NOW, maxAgeS: 30, maxClockSkewS: 300, latest: latest(-299), health: entry('healthy') }).ready).toBe(true);
    expect(
      decideReady({ now: NOW, maxAgeS: 30, latest: { unusable: 'its scan_number is not a whole number ("abc")' }, health: entry('healthy') }).missing,
    ).toEqual(['the value in Hazelcast is no usable scan: its scan_number is not a whole number ("abc")']);
  });
});

describe('GET /api/ready handler (pure)', () => {
  const ready = decideReady({ now: NOW, maxAgeS: 30, latest: latest(1), health: entry('healthy') });
  const notReady = decideReady({ now: NOW, maxAgeS: 30, latest: null, health: null });

  it('parses max_age_s and wait_s, refusing bad ones and waits over the limit', () => {
    expect(parseReadyQuery({})).toEqual({ maxAgeS: 30, waitS: 0, strict: false });
    expect(parseReadyQuery({ max_age_s: '5', wait_s: '2.5', strict: '1' })).toEqual({ maxAgeS: 5, waitS: 2.5, strict: true });
    expect(parseReadyQuery({ strict: 'false' })).toEqual({ maxAgeS: 30, waitS: 0, strict: false });
    expect(parseReadyQuery({ strict: 'yes please' })).toMatchObject({
      status: 400,
      body: { error: { message: 'strict must be 1, 0, true or false, got "yes please"' } },
    });
    expect(parseReadyQuery({ max_age_s: '-1' })).toMatchObject({
      status: 400,
      body: { error: { message: 'max_age_s must be a number of seconds from 0 to 9007199254740991, got "-1"' } },
    });
    expect(parseReadyQuery({ wait_s: String(READY_MAX_WAIT_S + 1) })).toMatchObject({ status: 400 });
    expect(parseReadyQuery({ wait_s: ['1', '2'] })).toMatchObject({ status: 400 });
  });

  it('200 when ready, 503 with the same facts when not or when Hazelcast cannot be read', async () => {
    expect(readyReply(ready)).toEqual({ status: 200, body: ready });
    expect(readyReply(notReady)).toEqual({ status: 503, body: notReady });
    const asked: unknown[] = [];
    expect(await answerReady({ max_age_s: '10', wait_s: '3' }, (q) => (asked.push(q), Promise.resolve(ready)))).toEqual({ status: 200, body: ready });
    expect(asked).toEqual([{ maxAgeS: 10, waitS: 3, strict: false }]);
    expect(await answerReady({}, () => Promise.reject(new Error('hazelcast at x is unreachable')))).toEqual({
      status: 503,
      body: { ready: false, missing: ['hazelcast at x is unreachable'], error: 'hazelcast at x is unreachable' },
    });
    expect((await answerReady({ wait_s: 'x' }, () => Promise.resolve(ready))).status).toBe(400);
  });
});

describe('GET /api/ready on a real server and Hazelcast', () => {
  let hz: Hazelcast;
  let redis: ReturnType<typeof createRedis>;
  let config: Config;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    config = testConfig();
    hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    redis = createRedis(config);
    const app = createApp({ config, redis, hazelcast: hz, queues: openQueues(config, redis, testLog), log: testLog });
    server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/ready`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    redis.disconnect();
    await hz.shutdown();
  });

  it('503 naming what is missing; with wait_s, 200 as soon as a fresh scan lands', async () => {
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(HEALTH_KEY, JSON.stringify({ ...entry('healthy'), checkedAt: Date.now(), validUntil: Date.now() + 60_000 }));
    await map.set(config.hzKey, JSON.stringify({ scan_number: 1, timestamp_ms: Date.now() - 50_000, asset_count: 3 }));
    const first = await fetch(`${url}?max_age_s=10`);
    expect(first.status).toBe(503);
    expect(((await first.json()) as Readiness).missing).toEqual([expect.stringMatching(/^data is 5\d\.\d s old \(scan #1\), over the 10 s limit$/)]);

    const held = fetch(`${url}?max_age_s=10&wait_s=20`);
    // The held request is not answered while the data stays old.
    expect(await Promise.race([held.then(() => 'answered'), new Promise((ok) => setTimeout(ok, 500, 'held'))])).toBe('held');
    const wrote = Date.now();
    await map.set(config.hzKey, JSON.stringify({ scan_number: 2, timestamp_ms: Date.now(), asset_count: 3 }));
    const res = await held;
    // Woken by the entry listener, as `scan-bridge wait` is: no polling interval in between.
    expect(Date.now() - wrote, 'ms from the write to the answer').toBeLessThan(200);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, scanNumber: 2, health: { status: 'healthy' } });
  });

  it('503 for a value another client stamped in 2099, and for one that is no scan, naming why (issue 20)', async () => {
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(HEALTH_KEY, JSON.stringify({ ...entry('healthy'), checkedAt: Date.now(), validUntil: Date.now() + 60_000 }));
    const forged = { scan_number: 999999, timestamp: '2099-01-01T00:00:00.000Z', timestamp_ms: 4070908800000, asset_count: 3, bridge_id: 'elsewhere' };
    await map.set(config.hzKey, JSON.stringify(forged));
    const res = await fetch(`${url}?max_age_s=30`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as Readiness).missing).toEqual([
      expect.stringMatching(/^the value in Hazelcast is no usable scan: scan #999999 .*ahead of this machine's clock/),
    ]);
    await map.set(config.hzKey, JSON.stringify({ scan_number: 'abc', timestamp_ms: Date.now(), asset_count: 3 }));
    const bad = await fetch(`${url}?max_age_s=30`);
    expect(bad.status).toBe(503);
    expect(((await bad.json()) as Readiness).missing).toEqual(['the value in Hazelcast is no usable scan: its scan_number is not a whole number ("abc")']);
    // The next test finds fresh data again, as the earlier ones left it.
    await map.set(config.hzKey, JSON.stringify({ scan_number: 2, timestamp_ms: Date.now(), asset_count: 3 }));
  });

  it('wait_s runs out: 503 after about that long', async () => {
    await (await hz.client.getMap<string, string>(config.hzMap)).delete(HEALTH_KEY);
    const started = Date.now();
    const res = await fetch(`${url}?wait_s=1`);
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(((await res.json()) as Readiness).missing).toEqual([expect.stringMatching(/^no health entry/)]);
  });
});
