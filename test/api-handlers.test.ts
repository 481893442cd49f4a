import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { keys } from '../src/keys.js';
import { openQueues } from '../src/ops.js';
import type { JobQueues } from '../src/jobs/table.js';
import { createMetrics } from '../src/server/metrics.js';
import { watchReachability } from '../src/server/reachability.js';
import { ROUTES } from '../src/server/api.js';
import * as h from '../src/server/api-handlers.js';
import { testConfig, testLog } from './helpers.js';

/** Handlers called as plain functions over the test Redis and Hazelcast: no HTTP server. */
let hazelcast: Hazelcast;
const opened: Array<{ redis: RedisConnection; queues: JobQueues }> = [];

beforeAll(async () => {
  hazelcast = await createHazelcast(testConfig(), testLog, { kind: 'command', timeoutMs: 10_000 });
  await hazelcast.waitConnected(10_000);
});
afterAll(async () => {
  for (const o of opened) {
    for (const q of Object.values(o.queues)) {
      await q.obliterate({ force: true });
      await q.close();
    }
    o.redis.disconnect();
  }
  await hazelcast.shutdown();
});

function deps(env: Record<string, string> = {}): h.ApiDeps & { config: Config } {
  const config = testConfig(env);
  const redis = createRedis(config);
  const queues = openQueues(config, redis, testLog);
  opened.push({ redis, queues });
  const base = { config, redis, hazelcast, queues, log: testLog };
  return { ...base, reach: watchReachability(redis, hazelcast), metrics: createMetrics(base) };
}

const facts = (params: Record<string, string> = {}, query: Record<string, unknown> = {}): h.RequestFacts => ({
  params,
  query,
  user: 'ops',
  ip: '127.0.0.1',
  signal: new AbortController().signal,
});

describe('API handlers, without a server', () => {
  it('the route table maps each method and path once, to a handler', () => {
    const seen = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(ROUTES.filter((r) => r.access === 'open').map((r) => r.path)).toEqual(['/healthz']);
    expect(seen).toEqual(expect.arrayContaining(['get /readyz', 'get /metrics', 'get /api/status', 'get /api/health', 'post /api/jobs/:name']));
  });

  it('healthz answers 200 { ok: true }', async () => {
    expect(await h.healthz(deps(), facts())).toEqual({ status: 200, body: { ok: true } });
  });

  it('triggerJob: 404 naming the jobs for an unknown one, 403 in read-only mode, 202 with a real job otherwise', async () => {
    const d = deps();
    expect(await h.triggerJob(d, facts({ name: 'bridge' }))).toEqual({
      status: 404,
      body: { error: { code: 'unknown_job', message: 'no job "bridge": expected one of health-check, restart-bridge' } },
    });
    const readOnly = deps({ BOARD_READ_ONLY: 'true' });
    expect((await h.triggerJob(readOnly, facts({ name: 'health-check' }))).status).toBe(403);
    expect(await readOnly.queues['health-check'].count()).toBe(0);

    const r = await h.triggerJob(d, facts({ name: 'health-check' }));
    // No worker listens in this test: the reply says the job waits.
    expect(r).toEqual({
      status: 202,
      body: {
        job: 'health-check',
        jobId: expect.any(String),
        queue: 'health-check',
        reused: false,
        warnings: [expect.stringMatching(/^no worker listens to queue health-check/)],
      },
    });
    const job = await d.queues['health-check'].getJob((r.body as { jobId: string }).jobId);
    expect(job?.data).toEqual({ trigger: 'manual' });
  });

  it('triggerJob: a second restart reuses the pending one, and says so', async () => {
    const d = deps();
    const first = await h.triggerJob(d, facts({ name: 'restart-bridge' }));
    const second = await h.triggerJob(d, facts({ name: 'restart-bridge' }));
    expect(second.body).toEqual({ ...(first.body as object), reused: true });
    expect(await d.queues['restart-bridge'].count()).toBe(1);
    const job = await d.queues['restart-bridge'].getJob((first.body as { jobId: string }).jobId);
    expect(job?.data).toEqual({ reason: 'by hand', requestedBy: 'api:ops@127.0.0.1' });
  });

  it('healthHistory: 400 for a bad limit; the latest result and the newest history first', async () => {
    const d = deps();
    for (const limit of ['0', 'abc', '1.5', ['1', '2']]) {
      expect((await h.healthHistory(d, facts({}, { limit }))).status, JSON.stringify(limit)).toBe(400);
    }
    const k = keys(d.config.queuePrefix);
    for (const i of [1, 2, 3])
      await d.redis
        .multi()
        .set(k.healthLatest, JSON.stringify({ message: `check ${i}` }))
        .lpush(k.healthHistory, JSON.stringify({ message: `check ${i}` }))
        .exec();
    const r = await h.healthHistory(d, facts({}, { limit: '2' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ latest: { message: 'check 3' }, history: [{ message: 'check 3' }, { message: 'check 2' }] });
  });

  it('readyz: 503 naming the server that does not answer, 200 when both do', async () => {
    const d = deps();
    const deadRedis = createRedis(
      { redis: { kind: 'url', url: 'redis://127.0.0.1:1' } },
      { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true },
    );
    try {
      const r = await h.readyz({ ...d, redis: deadRedis }, facts());
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ ready: false, redis: { ok: false, error: expect.any(String) }, hazelcast: { ok: true } });
      expect((await h.readyz(d, facts())).status).toBe(200);
    } finally {
      deadRedis.disconnect();
    }
  });

  it('status: a quarantine of more than 20 files is a count and the newest 5; 20 or fewer are listed whole, newest first', async () => {
    const d = deps();
    const k = keys(d.config.queuePrefix);
    const entry = (i: number) =>
      JSON.stringify({ size: 1, mtimeMs: i, limit: 'time', reason: `decode took too long (${i})`, at: 1_000_000 + i, bridgeId: 'b' });
    const fields = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`2026-12-06/scan_${i}.arrow`, entry(i)]));
    await d.redis.hset(k.quarantine, fields);
    const r = await h.status(d, facts());
    expect(r.status).toBe(200);
    const q = (r.body as { quarantine: { count: number; newest: Array<{ relPath: string; at: number }> } }).quarantine;
    expect(q.count).toBe(20_000);
    expect(q.newest.map((e) => e.relPath)).toEqual([19_999, 19_998, 19_997, 19_996, 19_995].map((i) => `2026-12-06/scan_${i}.arrow`));
    expect(JSON.stringify(r.body).length).toBeLessThan(20_000);

    await d.redis.del(k.quarantine);
    await d.redis.hset(k.quarantine, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.arrow`, entry(i)])));
    const few = (await h.status(d, facts())).body as { quarantine: { count: number; newest: Array<{ relPath: string }> } };
    expect(few.quarantine.count).toBe(20);
    expect(few.quarantine.newest.map((e) => e.relPath)).toEqual(Array.from({ length: 20 }, (_, i) => `f${19 - i}.arrow`));
    await d.redis.del(k.quarantine);
  });

  it('ready: 400 for a bad query, before any wait', async () => {
    const r = await h.ready(deps(), facts({}, { wait_s: '600' }));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/wait_s/) } });
  });

  it('metricsText: the Prometheus text with its content type', async () => {
    const r = await h.metricsText(deps(), facts());
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/plain/);
    expect(r.body).toContain('scan_bridge_up');
  });
});
