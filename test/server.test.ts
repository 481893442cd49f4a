import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import type { Config } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { openQueues } from '../src/ops.js';
import { keys } from '../src/keys.js';
import { QUEUES, type JobQueues } from '../src/jobs/table.js';
import { ConfigError } from '../src/errors.js';
import { assertBoardExposure, createApp, startBoard } from '../src/server/app.js';
import { eventually, testConfig, testLog } from './helpers.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const AUTH = { authorization: basic(USER, PASSWORD) };

interface Running {
  config: Config;
  url: string;
  redis: RedisConnection;
  queues: JobQueues;
  close(): Promise<void>;
}

const opened: Running[] = [];
let hazelcast: Hazelcast;

/** The real app on a real listening socket, over the test Redis and Hazelcast. */
async function serve(env: Record<string, string> = {}, redisOverride?: RedisConnection, hz: Hazelcast = hazelcast): Promise<Running> {
  const config = testConfig({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, ...env });
  const redis = redisOverride ?? createRedis(config);
  const queues = openQueues(config, redis, testLog);
  const app = createApp({ config, redis, hazelcast: hz, queues, log: testLog });
  const server = await new Promise<Server>((ok) => {
    const s = app.listen(0, '127.0.0.1', () => ok(s));
  });
  const running: Running = {
    config,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    redis,
    queues,
    async close() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
      if (redisOverride) {
        // A Redis that never answered: BullMQ would wait for it for ever before closing.
        redis.disconnect();
        for (const q of Object.values(queues)) void q.close().catch(() => undefined);
        return;
      }
      for (const q of Object.values(queues)) {
        await q.obliterate({ force: true }).catch(() => undefined);
        await q.close();
      }
      redis.disconnect();
    },
  };
  opened.push(running);
  return running;
}

beforeAll(async () => {
  hazelcast = await createHazelcast(testConfig(), testLog);
});

afterAll(async () => {
  await Promise.all(opened.map((r) => r.close()));
  await hazelcast.shutdown();
});

describe('login', () => {
  let app: Running;
  beforeAll(async () => {
    app = await serve();
  });

  it('asks for credentials on pages, Bull Board assets, its API, our API, metrics and the status page', async () => {
    const page = await fetch(`${app.url}/board/`, { headers: AUTH });
    const html = await page.text();
    const asset = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const guarded = [
      '/board/',
      `/board/${asset}`,
      '/board/api/queues',
      '/api/status',
      '/api/health',
      '/readyz',
      '/metrics',
      '/status',
      '/api/availability',
      '/history',
      '/',
    ];
    for (const path of guarded) {
      const res = await fetch(`${app.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/^Basic realm=/);
      expect(await res.json(), path).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      const ok = await fetch(`${app.url}${path}`, { headers: AUTH, redirect: 'manual' });
      expect([200, 301, 302], path).toContain(ok.status);
    }
    const posted = await fetch(`${app.url}/api/jobs/health-check`, { method: 'POST' });
    expect(posted.status).toBe(401);
    expect(await app.queues[QUEUES.healthCheck].count()).toBe(0);
  });

  it('refuses a wrong password and a wrong user name', async () => {
    for (const authorization of [basic(USER, 'wrong'), basic('someone', PASSWORD), 'Basic !!!', 'Bearer x']) {
      const res = await fetch(`${app.url}/api/status`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });

  it('answers /healthz without credentials, for the container healthcheck', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});

describe('Bull Board', () => {
  it('shows the three queues with display names and descriptions, writable unless configured', async () => {
    const app = await serve();
    const res = await fetch(`${app.url}/board/api/queues`, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; displayName: string; description: string; readOnlyMode: boolean }> };
    const byName = Object.fromEntries(body.queues.map((q) => [q.name, q]));
    expect(Object.keys(byName).sort()).toEqual(['bridge', 'health-check', 'restart-bridge']);
    expect(byName['health-check']!.description).toMatch(/HEALTH_INTERVAL_MS/);
    expect(byName['health-check']!.displayName).toBe('Health checks');
    expect(byName['restart-bridge']!.description).toMatch(/backoff/);
    expect(body.queues.every((q) => q.readOnlyMode === false)).toBe(true);
  });

  it('adds a job from the board (same origin) and refuses the same request from another site', async () => {
    const app = await serve();
    const add = (headers: Record<string, string>) =>
      fetch(`${app.url}/board/api/queues/health-check/add`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'health-check', data: { trigger: 'manual' } }),
      });
    const foreign = await add({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('cross_site');
    const refererOnly = await add({ referer: 'https://evil.example/page' });
    expect(refererOnly.status).toBe(403);
    expect(await app.queues[QUEUES.healthCheck].count()).toBe(0);

    const host = new URL(app.url).host;
    const mine = await add({ origin: app.url, 'sec-fetch-site': 'same-origin', referer: `${app.url}/board/queue/health-check` });
    expect(mine.status).toBe(200);
    const job = ((await mine.json()) as { job: { id: string } }).job;
    const stored = await app.queues[QUEUES.healthCheck].getJob(job.id);
    expect(stored?.data).toEqual({ trigger: 'manual' });
    expect(host).toContain('127.0.0.1');
  });

  it('retries a failed job from the board', async () => {
    const app = await serve();
    const queue = app.queues[QUEUES.restartBridge];
    const job = await queue.add('restart-bridge', { reason: 'test', requestedBy: 'test' });
    // Fail it for real, through a worker whose attempt throws.
    const worker = new Worker(
      QUEUES.restartBridge,
      () => {
        throw new Error('no bridge confirmed');
      },
      { connection: createRedis(app.config), prefix: app.config.queuePrefix },
    );
    try {
      await eventually('the job failing', async () => ((await job.getState()) === 'failed' ? true : undefined));
    } finally {
      await worker.close();
    }
    const res = await fetch(`${app.url}/board/api/queues/${QUEUES.restartBridge}/${job.id}/retry`, {
      method: 'PUT',
      headers: { ...AUTH, origin: app.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(204);
    expect(await (await queue.getJob(job.id!))!.getState()).toBe('waiting');
  });

  it('pausing a queue from another site is refused and leaves it running', async () => {
    const app = await serve();
    const res = await fetch(`${app.url}/board/api/queues/health-check/pause`, { method: 'PUT', headers: { ...AUTH, origin: 'http://127.0.0.1.evil.example' } });
    expect(res.status).toBe(403);
    expect(await app.queues[QUEUES.healthCheck].isPaused()).toBe(false);
  });

  it('read-only: the board shows queues but refuses writes; the API refuses triggers', async () => {
    const app = await serve({ BOARD_READ_ONLY: 'true' });
    const queues = (await (await fetch(`${app.url}/board/api/queues`, { headers: AUTH })).json()) as { queues: Array<{ readOnlyMode: boolean }> };
    expect(queues.queues).toHaveLength(3);
    expect(queues.queues.every((q) => q.readOnlyMode)).toBe(true);
    const add = await fetch(`${app.url}/board/api/queues/health-check/add`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'health-check', data: {} }),
    });
    expect(add.status).toBe(403);
    const pauseAll = await fetch(`${app.url}/board/api/queues/pause`, { method: 'PUT', headers: AUTH });
    expect(pauseAll.status).toBe(403);
    for (const name of ['health-check', 'restart-bridge']) {
      const res = await fetch(`${app.url}/api/jobs/${name}`, { method: 'POST', headers: AUTH });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: { code: 'read_only', message: expect.stringMatching(/BOARD_READ_ONLY/) } });
    }
    expect(await app.queues[QUEUES.healthCheck].count()).toBe(0);
    expect(await app.queues[QUEUES.restartBridge].count()).toBe(0);
    expect(await app.queues[QUEUES.healthCheck].isPaused()).toBe(false);
  });
});

describe('HTTP API', () => {
  it('POST /api/jobs/health-check enqueues a real job and answers 202 with its id', async () => {
    const app = await serve();
    const res = await fetch(`${app.url}/api/jobs/health-check`, { method: 'POST', headers: AUTH });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { jobId: string; queue: string };
    expect(body.queue).toBe('health-check');
    const job = await app.queues[QUEUES.healthCheck].getJob(body.jobId);
    expect(job?.name).toBe('health-check');
    expect(job?.data).toEqual({ trigger: 'manual' });
  });

  it('POST /api/jobs/restart-bridge is deduplicated like the automatic restart', async () => {
    const app = await serve();
    const first = await fetch(`${app.url}/api/jobs/restart-bridge`, { method: 'POST', headers: AUTH });
    const second = await fetch(`${app.url}/api/jobs/restart-bridge`, { method: 'POST', headers: AUTH });
    expect([first.status, second.status]).toEqual([202, 202]);
    const a = (await first.json()) as { jobId: string };
    const b = (await second.json()) as { jobId: string };
    expect(b.jobId).toBe(a.jobId);
    expect(await app.queues[QUEUES.restartBridge].count()).toBe(1);
    const job = await app.queues[QUEUES.restartBridge].getJob(a.jobId);
    expect(job?.data).toMatchObject({ reason: 'by hand', requestedBy: expect.stringMatching(/^api:operator@/) });
  });

  it('refuses a cross-site trigger and names unknown jobs and routes clearly', async () => {
    const app = await serve();
    const cross = await fetch(`${app.url}/api/jobs/health-check`, { method: 'POST', headers: { ...AUTH, origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(await app.queues[QUEUES.healthCheck].count()).toBe(0);
    const unknown = await fetch(`${app.url}/api/jobs/bridge`, { method: 'POST', headers: AUTH });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'unknown_job', message: expect.stringMatching(/health-check, restart-bridge/) } });
    const nowhere = await fetch(`${app.url}/api/nothing`, { headers: AUTH });
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('GET /api/health returns the latest result and the newest history first, limited', async () => {
    const app = await serve();
    const k = keys(app.config.queuePrefix);
    const results = [1, 2, 3].map((i) => ({ status: i === 3 ? 'warning' : 'healthy', checkedAt: 1_000 * i, dataAgeS: i, message: `check ${i}` }));
    for (const r of results) await app.redis.multi().set(k.healthLatest, JSON.stringify(r)).lpush(k.healthHistory, JSON.stringify(r)).exec();
    const res = await fetch(`${app.url}/api/health?limit=2`, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { latest: { message: string }; history: Array<{ message: string }>; thresholds: unknown };
    expect(body.latest.message).toBe('check 3');
    expect(body.history.map((h) => h.message)).toEqual(['check 3', 'check 2']);
    expect(body.thresholds).toEqual({ warningS: app.config.dataWarningS, staleS: app.config.dataStaleS });
    const all = (await (await fetch(`${app.url}/api/health`, { headers: AUTH })).json()) as { history: unknown[] };
    expect(all.history).toHaveLength(3);
    for (const bad of ['0', 'abc', '-1', '1.5']) {
      const r = await fetch(`${app.url}/api/health?limit=${bad}`, { headers: AUTH });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    }
  });

  it('GET /api/status reports schedules, queues, the bridge and the last health', async () => {
    const app = await serve();
    await app.queues[QUEUES.healthCheck].add('health-check', { trigger: 'manual' });
    await app.redis.set(keys(app.config.queuePrefix).restarts, '4');
    const res = await fetch(`${app.url}/api/status`, { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      queues: Record<string, { counts: Record<string, number> }>;
      bridge: { restarts: number; heartbeat: unknown };
      health: unknown;
    };
    expect(body.queues['health-check']!.counts.waiting).toBe(1);
    expect(Object.keys(body.queues).sort()).toEqual(['bridge', 'health-check', 'restart-bridge']);
    expect(body.bridge.restarts).toBe(4);
    expect(body.bridge.heartbeat).toBeNull();
    expect(body.health).toBeNull();
  });

  it('GET /readyz is 200 when Redis and Hazelcast answer', async () => {
    const app = await serve();
    const res = await fetch(`${app.url}/readyz`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, redis: { ok: true }, hazelcast: { ok: true } });
  });

  it('GET /readyz is 503 and says which server failed', async () => {
    const deadRedis = createRedis(
      { redis: { kind: 'url', url: 'redis://127.0.0.1:1' } },
      { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true },
    );
    const closedHz = await createHazelcast(testConfig(), testLog);
    await closedHz.shutdown();
    const app = await serve({}, deadRedis, closedHz);
    const res = await fetch(`${app.url}/readyz`, { headers: AUTH });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ready: boolean; redis: { ok: boolean; error: string }; hazelcast: { ok: boolean; error: string } };
    expect(body.ready).toBe(false);
    expect(body.redis.ok).toBe(false);
    expect(body.redis.error).toEqual(expect.any(String));
    expect(body.hazelcast).toEqual({ ok: false, error: expect.stringMatching(/not connected/) });
  });
});

describe('startBoard', () => {
  it('refuses to listen beyond loopback without BOARD_USER and BOARD_PASSWORD, and says why', async () => {
    const config = testConfig({ BOARD_HOST: '0.0.0.0', BOARD_PORT: '0' });
    const err = await startBoard(config, testLog).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^BOARD_HOST="0\.0\.0\.0" is not valid: .*BOARD_USER and BOARD_PASSWORD are not set/);
  });

  it('on loopback without credentials, answers without a login', async () => {
    const board = await startBoard(testConfig({ BOARD_HOST: '127.0.0.1', BOARD_PORT: '0' }), testLog);
    try {
      expect(board.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${board.url}/board/api/queues`);
      expect(res.status).toBe(200);
      const ready = await fetch(`${board.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await board.stop();
    }
  });

  it('allows an address beyond loopback once BOARD_USER and BOARD_PASSWORD are set', () => {
    // Checked without binding: servers in tests listen on loopback only.
    expect(() => assertBoardExposure({ boardHost: '0.0.0.0', boardUser: USER, boardPassword: PASSWORD })).not.toThrow();
    expect(() => assertBoardExposure({ boardHost: '10.1.2.3', boardUser: undefined, boardPassword: undefined })).toThrow(ConfigError);
    expect(() => assertBoardExposure({ boardHost: '::1', boardUser: undefined, boardPassword: undefined })).not.toThrow();
  });
});
