/**
 * Values read from Hazelcast and Redis are data, never markup: HTML in every field of the stored
 * scan, the health entry, the heartbeat and a timeline point is shown as text by a real browser,
 * and nothing of it becomes an element, a link or a request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { openQueues } from '../src/ops.js';
import { keys } from '../src/keys.js';
import type { JobQueues } from '../src/jobs/table.js';
import type { Config } from '../src/config.js';
import { createApp } from '../src/server/app.js';
import { CHROMIUM, launchChromium } from './chromium.js';
import { testConfig, testLog } from './helpers.js';

const USER = 'op';
const PASSWORD = 'escape-test-password';
/** What an attacker who can write to Hazelcast or Redis puts in a field: a page-covering fake login link and an image. */
const hostile = (field: string) =>
  `<a id="inj-${field}" href="https://evil.example/login" style="position:fixed;inset:0;z-index:99;background:#fff">re-login here</a><img id="inj-img-${field}" src="/inj-${field}.png">`;
const NAV = ['/board/', '/api/availability', '/api/health?limit=100', '/metrics'];

describe('the status page escapes every value it reads', () => {
  let hazelcast: Hazelcast;
  let config: Config;
  let redis: RedisConnection;
  let queues: JobQueues;
  let server: Server;
  let url: string;
  let browser: Browser;

  beforeEach(() => {
    if ('error' in CHROMIUM) throw CHROMIUM.error;
  });

  beforeAll(async () => {
    config = testConfig({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD });
    hazelcast = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    await hazelcast.waitConnected(10_000);
    redis = createRedis(config);
    queues = openQueues(config, redis, testLog);
    server = await new Promise<Server>((ok) => {
      const s = createApp({ config, redis, hazelcast, queues, log: testLog }).listen(0, '127.0.0.1', () => ok(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (!('error' in CHROMIUM)) browser = await launchChromium(CHROMIUM.path);
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((ok) => server?.close(ok));
    for (const q of Object.values(queues ?? {})) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    const k = keys(config.queuePrefix);
    await redis?.del(k.healthLatest, k.healthTimeline, k.heartbeat, k.lastRestart);
    redis?.disconnect();
    await hazelcast?.shutdown();
  });

  /** Opens /status in a fresh page; every request it makes is recorded, and none leaves the board. */
  async function open() {
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      requests.push(route.request().url());
      return new URL(route.request().url()).origin === url ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    const res = await page.goto(`${url}/status`, { waitUntil: 'load' });
    const injected = await page.locator('[id^="inj-"]').count();
    const links = await page
      .locator('a')
      .evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('href')));
    const text = await page.locator('body').innerText();
    await context.close();
    return { status: res?.status(), injected, links, text, requests: requests.filter((r) => r !== `${url}/status`) };
  }

  it('HTML in every field of the stored scan is shown as text', async () => {
    const map = await hazelcast.client.getMap<string, string>(config.hzMap);
    const inert = (seen: Awaited<ReturnType<typeof open>>) => {
      expect(seen.status).toBe(200);
      expect(seen.injected).toBe(0);
      expect(seen.links.filter((l) => !NAV.includes(l ?? ''))).toEqual([]);
      expect(seen.requests).toEqual([]);
    };
    // A scan (whole number, time stamp) whose other fields hold HTML: shown, as the text it is, not dropped.
    const fields = ['timestamp', 'asset_count', 'bridge_id', 'written_at_ms'];
    await map.set(config.hzKey, JSON.stringify({ scan_number: 7, timestamp_ms: Date.now(), ...Object.fromEntries(fields.map((f) => [f, hostile(f)])) }));
    const scan = await open();
    inert(scan);
    expect(scan.text, scan.text).toContain('<a id="inj-bridge_id"');
    // A count that is no number is read as 0 (bridge/guards/stored-value.ts), never rendered as markup.
    expect(scan.text).toContain('0 assets');
    // Every field HTML: no usable scan (issue 20), and the page says why with the value as text.
    const all = ['scan_number', ...fields, 'timestamp_ms'];
    await map.set(config.hzKey, JSON.stringify(Object.fromEntries(all.map((f) => [f, hostile(f)]))));
    const value = await open();
    inert(value);
    expect(value.text).toContain('no usable scan in Hazelcast: its scan_number is not a whole number');
    expect(value.text).toContain('<a id=');
  });

  it('HTML in every field of the health entry, the heartbeat, the last restart and a timeline point is shown as text', async () => {
    const k = keys(config.queuePrefix);
    const now = Date.now();
    const healthFields = ['status', 'cause', 'message', 'checkedAt', 'dataAgeS', 'scanNumber', 'assetCount', 'newestOnDisk', 'restarts', 'action', 'error'];
    const health = { ...Object.fromEntries(healthFields.map((f) => [f, hostile(f)])), bridge: { id: hostile('bridge.id'), host: hostile('bridge.host') } };
    const heartbeatFields = ['id', 'host', 'pid', 'startedAt', 'generation', 'watching'];
    const heartbeat = { ...Object.fromEntries(heartbeatFields.map((f) => [f, hostile(`hb.${f}`)])), beatAt: now };
    const lastRestart = { state: hostile('lr.state'), at: now, error: hostile('lr.error') };
    await redis
      .multi()
      .set(k.healthLatest, JSON.stringify(health))
      .set(k.heartbeat, JSON.stringify(heartbeat))
      .set(k.lastRestart, JSON.stringify(lastRestart))
      .set(k.restarts, hostile('restarts-counter'))
      .zadd(k.healthTimeline, now - 60_000, JSON.stringify({ t: now - 60_000, s: 'stale', c: hostile('point.c'), a: 70 }))
      .zadd(k.healthTimeline, now - 30_000, JSON.stringify({ t: now - 30_000, s: hostile('point.s'), c: hostile('point.c2'), a: hostile('point.a') }))
      .exec();
    // The scan in Hazelcast too: with a live data age the banner would not need the check.
    const map = await hazelcast.client.getMap<string, string>(config.hzMap);
    await map.set(config.hzKey, JSON.stringify({ scan_number: hostile('scan_number'), timestamp_ms: hostile('timestamp_ms') }));
    const seen = await open();
    expect(seen.status).toBe(200);
    expect(seen.injected).toBe(0);
    expect(seen.links.filter((l) => !NAV.includes(l ?? ''))).toEqual([]);
    expect(seen.requests).toEqual([]);
    expect(seen.text).toContain('<a id="inj-message"');
    expect(seen.text).toContain('<a id="inj-hb.id"');
  });
});
