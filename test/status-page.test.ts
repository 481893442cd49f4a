import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import type { Config } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { openQueues } from '../src/ops.js';
import { keys } from '../src/keys.js';
import { QUEUES, type JobQueues } from '../src/jobs/table.js';
import type { HealthResult } from '../src/health.js';
import { addToTimeline, readTimeline, TIMELINE_RETENTION_MS, type TimelinePoint } from '../src/health-timeline.js';
import { createApp } from '../src/server/app.js';
import { renderChart } from '../src/server/status-chart.js';
import { bridgeName, healthCheckName } from '../src/server/board-format.js';
import { rewriteBoardHtml } from '../src/server/board-page.js';
import { runHealthCheck } from '../src/jobs/health-check.js';
import { eventually, testConfig, testLog } from './helpers.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

function result(checkedAt: number, status: HealthResult['status'], dataAgeS: number | null, extra: Record<string, unknown> = {}): HealthResult {
  return {
    status,
    checkedAt,
    dataAgeS,
    scanNumber: 7,
    assetCount: 25,
    newestOnDisk: 7,
    bridge: null,
    restarts: 0,
    action: status === 'healthy' || status === 'warning' ? 'none' : 'restart',
    message: `${status} at ${checkedAt}`,
    ...extra,
  } as HealthResult;
}

describe('the chart axis fits the data it has', () => {
  const base = { warningS: 30, staleS: 60, windowMs: 24 * H, maxGapMs: 90 * S };

  it('a new install: the time axis starts at the first check, not 24 h back', () => {
    const now = 1_000 * H;
    const points: TimelinePoint[] = Array.from({ length: 20 }, (_, i) => ({ t: now - 10 * MIN + i * 30 * S, s: 'healthy', a: 2 }));
    const svg = renderChart({ ...base, now, points });
    // The first check, less a small margin.
    const from = Number(/data-from="(\d+)"/.exec(svg)![1]);
    expect(from).toBeLessThan(now - 10 * MIN);
    expect(from).toBeGreaterThan(now - 11 * MIN);
    const xs = [...svg.matchAll(/<circle class="point healthy" cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs).toHaveLength(20);
    // Spread over the whole width, not crowded against the right edge.
    expect(Math.min(...xs)).toBeLessThan(100);
    expect(Math.max(...xs)).toBeGreaterThan(900);
    // Time ticks at most every few minutes over 10 minutes.
    expect([...svg.matchAll(/class="tick time"/g)].length).toBeGreaterThanOrEqual(3);
  });

  it('a long history: 24 h back; ages above the stale line raise the age axis', () => {
    const now = 1_000 * H;
    const points: TimelinePoint[] = Array.from({ length: 60 }, (_, i) => ({
      t: now - 48 * H + i * H,
      s: i === 50 ? 'stale' : 'healthy',
      a: i === 50 ? 170 : 1,
    }));
    const svg = renderChart({ ...base, now, points });
    expect(Number(/data-from="(\d+)"/.exec(svg)![1])).toBe(now - 24 * H);
    expect(svg).toContain('>200 s<');
    expect(svg).toContain('<circle class="point stale"');
  });
});

describe('the chart draws the data age as it was', () => {
  it('a step where the age dropped at once (a new scan), a rising line where it grew; no line across a gap without checks', () => {
    const now = 1_000 * H;
    const points: TimelinePoint[] = [
      { t: now - 10 * MIN, s: 'stale', c: 'scanner_silent', a: 95 },
      // The scanner spoke again: this check sees a scan stamped 2 s before it.
      { t: now - 10 * MIN + 30 * S, s: 'healthy', a: 2 },
      // Then no check for 8 minutes, then one.
      { t: now - MIN, s: 'healthy', a: 1 },
    ];
    const svg = renderChart({ warningS: 30, staleS: 60, windowMs: 24 * H, maxGapMs: 90 * S, now, points });
    const d = /<path class="age-line" d="([^"]+)"/.exec(svg)![1]!;
    const moves = [...d.matchAll(/([ML])([\d.]+) ([\d.]+)/g)].map((m) => ({ op: m[1], x: Number(m[2]), y: Number(m[3]) }));
    // From 95 s the age rises for 28 s, then drops straight down to the new scan's 0 s.
    const drop = moves.findIndex((m, i) => i > 0 && m.op === 'L' && m.x === moves[i - 1]!.x && m.y > moves[i - 1]!.y);
    expect(drop, d).toBeGreaterThan(0);
    expect(moves[drop - 1]!.y).toBeLessThan(moves[0]!.y);
    // The gap: a new subpath, not a line across it.
    expect(moves.filter((m) => m.op === 'M')).toHaveLength(2);
  });
});

describe('board formatters', () => {
  it('the name line of a check carries its status and data age; unhealthy ones are marked', () => {
    expect(healthCheckName({ returnvalue: result(0, 'healthy', 1.25) })).toBe('✓ healthy · data 1.3 s old · scan #7');
    expect(healthCheckName({ returnvalue: result(0, 'stale', 95, { cause: 'bridge_behind', restartJobId: '3' }) })).toBe(
      '✖ STALE (bridge_behind) · data 95.0 s old · scan #7 · restart queued',
    );
    expect(healthCheckName({ returnvalue: result(0, 'warning', 40) })).toMatch(/^▲ WARNING · data 40\.0 s old/);
    expect(healthCheckName({ data: { trigger: 'manual' } })).toBe('health-check (manual): no result yet');
  });

  it('the name line of the bridge job carries its live stats', () => {
    const live = {
      pushed: 120,
      lastScan: 123,
      newestOnDisk: 123,
      lagMs: 400,
      rejected: 0,
      generation: 2,
      hazelcastConnected: true,
      uptimeS: 300,
      updatedAt: 0,
    };
    expect(bridgeName({ data: { requestedBy: 'start', live } })).toBe('bridge · run 2 · 120 pushed, last #123 0.4 s ago · newest on disk #123');
    expect(
      bridgeName({ data: { requestedBy: 'start', live: { ...live, pushed: 0, lastScan: null, lagMs: null, hazelcastConnected: false } }, finishedOn: 1 }),
    ).toBe('bridge (ended) · run 2 · 0 pushed · newest on disk #123 · ✖ Hazelcast disconnected');
    expect(bridgeName({ data: { requestedBy: 'start' } })).toBe('bridge: no stats yet');
  });

  it("Bull Board's page loses its external font link and gains a link to the status page", () => {
    const html =
      '<!DOCTYPE html><head><link href="https://fonts.googleapis.com/css2?family=X" rel="stylesheet">\n<link href="static/css/main.css" rel="stylesheet"></head><body></body>';
    const out = rewriteBoardHtml(html);
    expect(out).not.toContain('googleapis');
    expect(out).toContain('href="static/css/main.css"');
    expect(out).toMatch(/<a id="scan-bridge-status-link" href="\/status"/);
    expect(out).toContain('<script defer src="scan-bridge-marks.js"></script></body>');
  });
});

interface Running {
  config: Config;
  url: string;
  redis: RedisConnection;
  queues: JobQueues;
}

describe('served by the board', () => {
  const auth = { authorization: `Basic ${Buffer.from('op:pw').toString('base64')}` };
  let hazelcast: Hazelcast;
  let app: Running;
  let server: Server;

  beforeAll(async () => {
    hazelcast = await createHazelcast(testConfig(), testLog);
    await hazelcast.waitConnected(10_000);
    const config = testConfig({
      BOARD_USER: 'op',
      BOARD_PASSWORD: 'pw',
      HEALTH_INTERVAL_MS: '30000',
      DATA_WARNING_S: '30',
      DATA_STALE_S: '60',
      HEALTH_TIMELINE_MAX: '100000',
    });
    const redis = createRedis(config);
    const queues = openQueues(config, redis, testLog);
    server = await new Promise<Server>((ok) => {
      const s = createApp({ config, redis, hazelcast, queues, log: testLog }).listen(0, '127.0.0.1', () => ok(s));
    });
    app = { config, redis, queues, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    for (const q of Object.values(app.queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    const k = keys(app.config.queuePrefix);
    await app.redis.del(k.healthTimeline, k.healthLatest, k.healthHistory);
    app.redis.disconnect();
    await hazelcast.shutdown();
  });

  it('keeps 7 days of checks in Redis, bounded by age and by count', async () => {
    const k = keys(app.config.queuePrefix);
    const key = `${k.healthTimeline}:bound-test`;
    const now = Date.now();
    for (const t of [now - TIMELINE_RETENTION_MS - H, now - 6 * 24 * H, now - H, now])
      await addToTimeline(app.redis.multi(), key, result(t, 'healthy', 1), 10).exec();
    // The one older than 7 days went when a newer one came.
    expect((await readTimeline(app.redis, key, 0)).map((p) => p.t)).toEqual([now - 6 * 24 * H, now - H, now]);
    for (let i = 1; i <= 5; i++) await addToTimeline(app.redis.multi(), key, result(now + i, 'healthy', 1), 4).exec();
    expect(await app.redis.zcard(key)).toBe(4);
    expect((await readTimeline(app.redis, key, 0)).at(-1)!.t).toBe(now + 5);
    // The default holds 7 days of one scheduled and one manual check per 30 s.
    expect(testConfig({}).healthTimelineMax).toBeGreaterThanOrEqual((2 * TIMELINE_RETENTION_MS) / (30 * S));
    await app.redis.del(key);
  });

  it('/status shows the current status large, the facts, availability over 24 h and 7 d, and the incidents; /api/availability the same as JSON', async () => {
    const k = keys(app.config.queuePrefix);
    const now = Date.now();
    // Two days of checks every 30 s: healthy, but stale for 10 minutes an hour ago, and now stale.
    const stale = (t: number) => (t >= now - H && t < now - H + 10 * MIN) || t >= now - 2 * MIN;
    let last: HealthResult | undefined;
    let multi = app.redis.multi();
    for (let t = now - 2 * 24 * H; t <= now - 5 * S; t += 30 * S) {
      last = stale(t) ? result(t, 'stale', 95, { cause: 'bridge_behind' }) : result(t, 'healthy', 2);
      multi = addToTimeline(multi, k.healthTimeline, last, app.config.healthTimelineMax);
    }
    await multi.set(k.healthLatest, JSON.stringify(last)).set(k.restarts, '3').exec();

    const res = await fetch(`${app.url}/status`, { headers: auth });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toMatch(/<div class="big"[^>]*>STALE <span class="cause">\(bridge_behind\)<\/span>/);
    expect(html).toContain('Data age');
    expect(html).toContain('Active bridge');
    expect(html).toMatch(/<div class="label">Restarts<\/div><div class="value">3<\/div>/);
    // Nothing from elsewhere, and no script at all.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('<script');
    const rows = [...html.matchAll(/<tr class="incident (\w+)">/g)].map((m) => m[1]);
    expect(rows).toEqual(['stale', 'stale']);
    expect(html).toMatch(/<tr class="incident stale">.*?<b>ongoing<\/b>/);
    // It ended when the scan the next check saw (2 s old) was stamped.
    expect(html).toMatch(/<tr class="incident stale">(?:(?!<\/tr>).)*<td>9 min 58 s<\/td>/);

    const body = (await (await fetch(`${app.url}/api/availability`, { headers: auth })).json()) as {
      day: { ratio: number; observedMs: number };
      week: { ratio: number; observedMs: number };
      incidents: Array<{ status: string; cause: string; durationMs: number; end: number | null }>;
    };
    // About 12 minutes stale out of a day, and the week is the two days there are.
    expect(body.day.ratio).toBeGreaterThan(0.98);
    expect(body.day.ratio).toBeLessThan(0.995);
    expect(body.week.observedMs).toBeGreaterThan(2 * 24 * H - MIN);
    expect(body.week.observedMs).toBeLessThan(2 * 24 * H + MIN);
    expect(body.incidents.map((i) => [i.status, i.cause, i.end === null])).toEqual([
      ['stale', 'bridge_behind', true],
      ['stale', 'bridge_behind', false],
    ]);
    expect(body.incidents[1]!.durationMs).toBe(10 * MIN - 2 * S);
    expect(html).toContain('id="slo-24h"');
    expect(html).toContain('id="slo-7d"');
  });

  it('the banner agrees with the data-age card: a stale last check with fresh data now shows live HEALTHY, and says what the check said', async () => {
    const k = keys(app.config.queuePrefix);
    const now = Date.now();
    await app.redis.set(k.healthLatest, JSON.stringify(result(now - 20 * S, 'stale', 75, { cause: 'scanner_silent', action: 'alert' })));
    const map = await hazelcast.client.getMap<string, string>(app.config.hzMap);
    await map.set(
      app.config.hzKey,
      JSON.stringify({ scan_number: 8, timestamp: new Date(now - 3 * S).toISOString(), timestamp_ms: now - 3 * S, asset_count: 25 }),
    );
    try {
      const html = await (await fetch(`${app.url}/status`, { headers: auth })).text();
      const card = Number(/<div class="label">Data age<\/div><div class="value">([\d.]+) s</.exec(html)![1]);
      expect(card).toBeLessThan(30);
      expect(html).toMatch(/<div class="big"[^>]*>HEALTHY</);
      expect(html).toContain('data-basis="live"');
      expect(html).toMatch(/live: the data age read from Hazelcast now; the last check, 2\d s ago at \d\d:\d\d:\d\d UTC said stale/);
      // A status the data age does not decide stays the last check's, and says so.
      await app.redis.set(k.healthLatest, JSON.stringify(result(now - 20 * S, 'down', 3, { cause: 'no_heartbeat' })));
      const down = await (await fetch(`${app.url}/status`, { headers: auth })).text();
      expect(down).toMatch(/<div class="big"[^>]*>DOWN <span class="cause">\(no_heartbeat\)/);
      expect(down).toContain('data-basis="last-check"');
      expect(down).toMatch(/as of the last check, 2\d s ago/);
    } finally {
      await map.delete(app.config.hzKey);
      await app.redis.del(k.healthLatest);
    }
  });

  it('a history Redis lost (restarted empty) is marked on the page with its time, never dropped silently', async () => {
    const config = app.config;
    const k = keys(config.queuePrefix);
    const deps = { config, redis: app.redis, hazelcast, log: testLog };
    await runHealthCheck(deps);
    const first = Number(await app.redis.get(k.checkingSince));
    expect(first).toBeGreaterThan(0);
    // Redis restarted without its data: every key of this system is gone.
    await app.redis.del(...(await app.redis.keys(`${config.queuePrefix}:*`)));
    await eventually('the clock past the first check', () => (Date.now() > first ? true : undefined));
    await runHealthCheck(deps);
    const second = Number(await app.redis.get(k.checkingSince));
    expect(second).toBeGreaterThan(first);
    try {
      const html = await (await fetch(`${app.url}/status`, { headers: auth })).text();
      const note = /<p class="outage" id="history-reset">(.*?)<\/p>/.exec(html)?.[1] ?? '';
      expect(note).toContain(`began again at ${new Date(second).toISOString().replace('T', ' ').slice(0, 19)} UTC`);
      expect(note).toContain(`the checks from ${new Date(first).toISOString().replace('T', ' ').slice(0, 19)} UTC`);
      const body = (await (await fetch(`${app.url}/api/availability`, { headers: auth })).json()) as { history: unknown };
      expect(body.history).toEqual({ since: second, reset: { at: second, lostSince: first } });
    } finally {
      await app.redis.del(...(await app.redis.keys(`${config.queuePrefix}:health:*`)));
    }
  });

  it('/history, the old address, redirects to /status', async () => {
    const res = await fetch(`${app.url}/history`, { headers: auth, redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/status');
  });

  it("Bull Board's page is served without its external fonts and under a policy that blocks them", async () => {
    const res = await fetch(`${app.url}/board/`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/font-src 'self' data:/);
    const html = await res.text();
    expect(html).not.toMatch(/fonts\.googleapis|(src|href)="(https?:)?\/\//);
    expect(html).toContain('href="/status"');
  });

  it("Bull Board's job list names each check by its status and data age", async () => {
    const queue = app.queues[QUEUES.healthCheck];
    await queue.add('health-check', { trigger: 'manual' });
    await queue.add('health-check', { trigger: 'schedule' });
    const results = [result(Date.now(), 'healthy', 1.5), result(Date.now(), 'down', null, { cause: 'no_heartbeat' })];
    const worker = new Worker(QUEUES.healthCheck, () => Promise.resolve(results.shift()), {
      connection: createRedis(app.config),
      prefix: app.config.queuePrefix,
    });
    try {
      const names = await eventually('both checks completed', async () => {
        const r = (await (await fetch(`${app.url}/board/api/queues?activeQueue=health-check&status=completed&page=1`, { headers: auth })).json()) as {
          queues: Array<{ name: string; jobs: Array<{ name: string }> }>;
        };
        const jobs = r.queues.find((q) => q.name === 'health-check')?.jobs ?? [];
        return jobs.length === 2 ? jobs.map((j) => j.name).sort() : undefined;
      });
      expect(names).toEqual(['✓ healthy · data 1.5 s old · scan #7', '✖ DOWN (no_heartbeat) · data age unknown · scan #7 · restart wanted']);
    } finally {
      await worker.close();
    }
  });
});
