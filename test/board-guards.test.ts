import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import express from 'express';
import { Queue } from 'bullmq';
import { resolveConfig, type Config } from '../src/config.js';
import { createRedis } from '../src/connections.js';
import { startBoard, type RunningBoard } from '../src/server/app.js';
import { hostAllowed } from '../src/server/hosts.js';
import { LoginThrottle } from '../src/server/login-throttle.js';
import { parsePayload } from '../src/jobs/payloads.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, testConfig, testLog } from './helpers.js';

const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http, because fetch will not send a chosen `Host` nor bind the client to an address. */
function send(
  url: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; localAddress?: string } = {},
): Promise<Reply> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        localAddress: opts.localAddress,
        agent: false,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

const errorCode = (r: Reply) => (JSON.parse(r.body) as { error: { code: string } }).error.code;

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const boards: RunningBoard[] = [];
const configs: Config[] = [];

async function board(env: Record<string, string>, log = testLog): Promise<{ url: string; port: number; config: Config }> {
  const config = testConfig({ BOARD_HOST: '127.0.0.1', BOARD_PORT: '0', ...env });
  const b = await startBoard(config, log);
  boards.push(b);
  configs.push(config);
  return { url: b.url, port: Number(new URL(b.url).port), config };
}

afterAll(async () => {
  await Promise.all(boards.map((b) => b.stop()));
  const redis = createRedis(configs[0] ?? testConfig());
  for (const c of configs) {
    for (const name of Object.values(QUEUES)) {
      const q = new Queue(name, { connection: redis, prefix: c.queuePrefix });
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
  }
  redis.disconnect();
});

describe('DNS rebinding: without a login, only allowed Host names are answered', () => {
  let url: string;
  let port: number;
  let config: Config;
  let queue: Queue;
  beforeAll(async () => {
    ({ url, port, config } = await board({}));
    queue = new Queue(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
  });
  afterAll(async () => {
    await queue.close();
  });

  it('refuses a foreign Host with a matching Origin on our API, Bull Board and its writes', async () => {
    const foreign = `rebind.attacker.example:${port}`;
    const headers = { host: foreign, origin: `http://${foreign}` };
    const tries = [
      { method: 'POST', path: '/api/jobs/health-check' },
      { method: 'PUT', path: '/board/api/queues/health-check/pause' },
      { method: 'PUT', path: '/board/api/queues/pause' },
      { method: 'PUT', path: '/board/api/queues/resume' },
      { method: 'GET', path: '/api/status' },
      { method: 'GET', path: '/api/health' },
      { method: 'GET', path: '/board/' },
      { method: 'GET', path: '/board/api/queues' },
      { method: 'GET', path: '/metrics' },
    ];
    for (const t of tries) {
      const r = await send(url, t.path, { method: t.method, headers });
      expect(r.status, `${t.method} ${t.path}`).toBe(421);
      expect(errorCode(r)).toBe('host_not_allowed');
    }
    expect(await queue.count()).toBe(0);
    expect(await queue.isPaused()).toBe(false);
  });

  it('answers the loopback names and addresses with the board port, and nothing on another port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const r = await send(url, '/api/health', { headers: { host } });
      expect(r.status, host).toBe(200);
    }
    for (const host of [`127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.attacker.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await send(url, '/api/health', { headers: { host } });
      expect(r.status, host).toBe(421);
    }
    const posted = await send(url, '/api/jobs/health-check', { method: 'POST', headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` } });
    expect(posted.status).toBe(202);
  });

  it('BOARD_ALLOWED_HOSTS replaces the default list', async () => {
    const b = await board({ BOARD_ALLOWED_HOSTS: 'board.internal, 127.0.0.1:8443' });
    expect((await send(b.url, '/api/health', { headers: { host: `board.internal:${b.port}` } })).status).toBe(200);
    expect((await send(b.url, '/api/health', { headers: { host: '127.0.0.1:8443' } })).status).toBe(200);
    expect((await send(b.url, '/api/health', { headers: { host: `localhost:${b.port}` } })).status).toBe(421);
  });

  it('a bad BOARD_ALLOWED_HOSTS or throttle setting stops start-up naming the variable', () => {
    for (const [variable, value] of [
      ['BOARD_ALLOWED_HOSTS', 'http://board.example'],
      ['BOARD_ALLOWED_HOSTS', 'a b'],
      ['BOARD_ALLOWED_HOSTS', 'x:99999'],
      ['BOARD_ALLOWED_HOSTS', ' , '],
      ['BOARD_LOGIN_LIMIT', '0'],
      ['BOARD_LOGIN_WINDOW_S', 'soon'],
    ] as const) {
      expect(() => resolveConfig({ [variable]: value }), value).toThrow(new RegExp(`^${variable}=`));
    }
    expect(resolveConfig({}).boardAllowedHosts).toEqual(['localhost', '127.0.0.1', '[::1]']);
  });

  it('hostAllowed: entries without a port mean the board port; a Host without a port means 80', () => {
    const allowed = ['localhost', '127.0.0.1', '[::1]'];
    expect(hostAllowed('localhost:3000', allowed, 3000)).toBe(true);
    expect(hostAllowed('localhost.:3000', allowed, 3000)).toBe(true);
    expect(hostAllowed('localhost', allowed, 3000)).toBe(false);
    expect(hostAllowed('localhost', allowed, 80)).toBe(true);
    expect(hostAllowed('[::1]:3000', allowed, 3000)).toBe(true);
    expect(hostAllowed('evil.example:3000', allowed, 3000)).toBe(false);
    expect(hostAllowed('127.0.0.1:3000@evil', allowed, 3000)).toBe(false);
    expect(hostAllowed(undefined, allowed, 3000)).toBe(false);
  });
});

describe('Origin is compared with scheme, host and port', () => {
  it('refuses https://this-host on the http server, accepts http://this-host', async () => {
    const { url, config } = await board({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD });
    const host = new URL(url).host;
    const auth = basic(USER, PASSWORD);
    const queue = new Queue(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
    try {
      for (const origin of [`https://${host}`, `http://${host.replace(/:\d+$/, ':1')}`, 'null']) {
        const r = await send(url, '/api/jobs/health-check', { method: 'POST', headers: { authorization: auth, origin } });
        expect(r.status, origin).toBe(403);
        expect(errorCode(r)).toBe('cross_site');
      }
      const fromReferer = await send(url, '/board/api/queues/health-check/pause', {
        method: 'PUT',
        headers: { authorization: auth, referer: `https://${host}/board/` },
      });
      expect(fromReferer.status).toBe(403);
      expect(await queue.count()).toBe(0);
      expect(await queue.isPaused()).toBe(false);
      const same = await send(url, '/api/jobs/health-check', { method: 'POST', headers: { authorization: auth, origin: `http://${host}` } });
      expect(same.status).toBe(202);
    } finally {
      await queue.close();
    }
  });
});

describe('login throttle', () => {
  /** Keeps guessing wrong passwords from one client, one after the other, until stopped. */
  function attacker(url: string, headers: Record<string, string> = {}) {
    const statuses: number[] = [];
    let stop = false;
    const wrong = { ...headers, authorization: basic(USER, 'guess') };
    const done = (async () => {
      while (!stop) {
        statuses.push((await send(url, '/api/status', { headers: wrong })).status);
        await new Promise((ok) => setTimeout(ok, 100));
      }
    })();
    return {
      statuses,
      async stop() {
        stop = true;
        await done;
      },
    };
  }

  it('past the limit the failures wait their turn (a flood past that gets 429 with Retry-After), while the right password from the same address is accepted; each failure is logged with the address', async () => {
    const { log, lines } = capturedLog();
    const { url } = await board({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, BOARD_LOGIN_LIMIT: '4', BOARD_LOGIN_WINDOW_S: '4' }, log);
    const right = { authorization: basic(USER, PASSWORD) };
    const failed = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('board login failed'));
    const attack = attacker(url);
    const t0 = Date.now();
    try {
      // Past the limit of 4: from here on its guesses are throttled.
      await eventually('five guesses answered', () => (attack.statuses.length >= 5 ? true : undefined), 20_000);
      // The real operator behind the same address, during the attack: in, without a 429.
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const r = await send(url, '/api/status', { headers: right });
        expect(r.status, `operator's login ${i + 1}`).toBe(200);
        // At most its turn behind the guess already waiting: two checks' spacing (1 s each).
        expect(Date.now() - started).toBeLessThan(2_500);
      }
      // A flood from the address: past a window's worth of waiting logins, 429 at once.
      const flood = await Promise.all(Array.from({ length: 12 }, () => send(url, '/api/status', { headers: { authorization: basic(USER, 'flood') } })));
      const refused = flood.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(errorCode(r)).toBe('too_many_logins');
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(4);
      }
    } finally {
      await attack.stop();
    }
    // Brute force stays bounded: a burst of 4, then one check a second (4 per 4 s), whatever the pace of the guesses.
    const seconds = (Date.now() - t0) / 1000;
    expect(failed().length).toBeLessThanOrEqual(4 + Math.ceil(seconds) + 1);
    expect(failed().every((l) => l.client === '127.0.0.1' && l.level === 40)).toBe(true);
    expect(failed().find((l) => l.throttled === true)?.msg).toMatch(/its logins are checked one per 1 s, in turn/);
    // Another address is not affected: its wrong password is a plain 401 at once.
    const started = Date.now();
    const otherWrong = await send(url, '/api/status', { headers: { authorization: basic(USER, 'guess') }, localAddress: '127.0.0.2' });
    expect(otherWrong.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1_000);
    // /healthz stays open for the container healthcheck.
    expect((await send(url, '/healthz')).status).toBe(200);
  });

  it("BOARD_TRUST_PROXY: a trusted proxy's X-Forwarded-For names the client, so one client's guesses do not hold back another; without it the header is ignored", async () => {
    const { log, lines } = capturedLog();
    const env = { BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, BOARD_LOGIN_LIMIT: '2', BOARD_LOGIN_WINDOW_S: '60' };
    const proxied = await board({ ...env, BOARD_TRUST_PROXY: 'loopback' }, log);
    const wrong = (xff: string) => ({ authorization: basic(USER, 'guess'), 'x-forwarded-for': xff });
    // The limit: 203.0.113.5's next login would wait its turn.
    for (let i = 0; i < 2; i++) await send(proxied.url, '/api/status', { headers: wrong('203.0.113.5') });
    const clients = new Set(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('board login failed')).map((l) => l.client));
    expect([...clients]).toEqual(['203.0.113.5']);
    // Another client behind the same proxy guesses wrong: 401 at once, not a turn behind 203.0.113.5.
    const started = Date.now();
    expect((await send(proxied.url, '/api/status', { headers: wrong('198.51.100.7') })).status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1_000);

    // Not trusted (the default): the header names nothing; the socket's address is the client.
    lines.length = 0;
    const direct = await board(env, log);
    await send(direct.url, '/api/status', { headers: wrong('203.0.113.5') });
    expect(lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('board login failed'))?.client).toBe('127.0.0.1');
  });

  it("BOARD_TRUST_PROXY takes what Express's trust proxy takes; anything else stops start-up naming the variable", () => {
    expect(resolveConfig({}).boardTrustProxy).toBe(false);
    expect(resolveConfig({ BOARD_TRUST_PROXY: 'true' }).boardTrustProxy).toBe(true);
    expect(resolveConfig({ BOARD_TRUST_PROXY: '2' }).boardTrustProxy).toBe(2);
    expect(resolveConfig({ BOARD_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.168.1.0/255.255.255.0' }).boardTrustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.0/255.255.255.0',
    ]);
    for (const value of ['proxy.example', '10.0.0.0/33', '-1', '10.0.0.1,,']) {
      expect(() => resolveConfig({ BOARD_TRUST_PROXY: value }), value).toThrow(/^BOARD_TRUST_PROXY=/);
    }
    // Express itself takes every value accepted.
    for (const value of ['true', 'false', '2', 'loopback,linklocal,uniquelocal,10.0.0.0/8,fd00::/8,192.168.1.0/255.255.255.0,::1']) {
      expect(() => express().set('trust proxy', resolveConfig({ BOARD_TRUST_PROXY: value }).boardTrustProxy), value).not.toThrow();
    }
  });

  it('LoginThrottle: a burst of `limit`, then one check per window / limit in order of arrival; a success is not charged; at most a window of waiting; bounded memory', () => {
    const t = new LoginThrottle(3, 60_000, 2);
    // The burst: checked at once.
    for (let i = 0; i < 3; i++) expect(t.admit('a', 0)).toEqual({ waitMs: 0 });
    // Then one per 20 s, each after the one before.
    expect(t.admit('a', 0)).toEqual({ waitMs: 20_000 });
    expect(t.admit('a', 0)).toEqual({ waitMs: 40_000 });
    expect(t.admit('a', 0)).toEqual({ waitMs: 60_000 });
    // More than a window of waiting: refused, and told when a try may be checked again.
    expect(t.admit('a', 0)).toEqual({ refusedForMs: 20_000 });
    expect(t.throttled('a', 0)).toBe(true);
    // Another address is not affected.
    expect(t.admit('b', 0)).toEqual({ waitMs: 0 });
    // A right password (or a caller gone before its check) gives its turn back.
    const u = new LoginThrottle(3, 60_000);
    for (let i = 0; i < 3; i++) u.admit('a', 0);
    expect(u.admit('a', 0)).toEqual({ waitMs: 20_000 });
    u.refund('a');
    expect(u.admit('a', 0)).toEqual({ waitMs: 20_000 });
    // Time pays the failures back.
    expect(u.throttled('a', 80_000)).toBe(false);
    expect(u.admit('a', 80_000)).toEqual({ waitMs: 0 });
    // Past two addresses, one fully paid back is forgotten first, then the oldest.
    const v = new LoginThrottle(1, 60_000, 2);
    v.admit('c', 0);
    v.admit('d', 0);
    v.admit('e', 1);
    expect(v.admit('c', 2)).toEqual({ waitMs: 0 });
  });
});

describe("Bull Board's add-job route takes only the job's payload", () => {
  let url: string;
  let config: Config;
  const auth = { authorization: basic(USER, PASSWORD) };
  beforeAll(async () => {
    ({ url, config } = await board({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD }));
  });

  it('refuses bad data, another job name and a non-object, and adds nothing', async () => {
    const bad = [
      { queue: 'health-check', body: { name: 'health-check', data: { trigger: 'bogus' } }, match: /trigger must be one of/ },
      { queue: 'health-check', body: { name: 'health-check', data: { trigger: 'manual', extra: 1 } }, match: /takes no "extra"/ },
      { queue: 'health-check', body: { name: 'health-check', data: 'manual' }, match: /must be a JSON object/ },
      { queue: 'health-check', body: { name: 'restart-bridge', data: { reason: 'x', requestedBy: 'y' } }, match: /runs only health-check jobs/ },
      { queue: 'restart-bridge', body: { name: 'restart-bridge', data: { reason: '', requestedBy: 'me' } }, match: /reason must be text/ },
      { queue: 'restart-bridge', body: { name: 'restart-bridge', data: { reason: 'x'.repeat(201), requestedBy: 'me' } }, match: /reason must be text/ },
      { queue: 'bridge', body: { name: 'bridge', data: {} }, match: /requestedBy must be text/ },
    ];
    for (const b of bad) {
      const r = await send(url, `/board/api/queues/${b.queue}/add`, { method: 'POST', headers: auth, body: b.body });
      expect(r.status, JSON.stringify(b.body)).toBe(400);
      expect((JSON.parse(r.body) as { error: { message: string } }).error.message).toMatch(b.match);
    }
    const redis = createRedis(config);
    try {
      for (const name of Object.values(QUEUES)) {
        const q = new Queue(name, { connection: redis, prefix: config.queuePrefix });
        expect(await q.count(), name).toBe(0);
        await q.close();
      }
    } finally {
      redis.disconnect();
    }
  });

  it("adds a good payload with the job table's options, keeping only the chosen delay and priority", async () => {
    const r = await send(url, '/board/api/queues/restart-bridge/add', {
      method: 'POST',
      headers: auth,
      body: {
        name: '__default__',
        data: { reason: 'by hand', requestedBy: 'board' },
        options: { delay: 60_000, attempts: 99, jobId: 'mine', repeat: { every: 1000 } },
      },
    });
    expect(r.status).toBe(200);
    const job = (JSON.parse(r.body) as { job: { id: string; name: string; data: unknown; opts: Record<string, unknown> } }).job;
    // The name line as the board shows it (board-format.ts).
    expect(job.name).toBe('restart-bridge · by hand (asked by board)');
    expect(job.data).toEqual({ reason: 'by hand', requestedBy: 'board' });
    expect(job.id).not.toBe('mine');
    expect(job.opts).toMatchObject({ delay: 60_000, attempts: config.restartAttempts });
    expect(job.opts.repeat).toBeUndefined();

    const edit = await send(url, `/board/api/queues/restart-bridge/${job.id}/update-data`, {
      method: 'PATCH',
      headers: auth,
      body: { jobData: { reason: 1 } },
    });
    expect(edit.status).toBe(400);
    const fine = await send(url, `/board/api/queues/restart-bridge/${job.id}/update-data`, {
      method: 'PATCH',
      headers: auth,
      body: { jobData: { reason: 'edited', requestedBy: 'board' } },
    });
    expect(fine.status).toBe(200);
  });

  it('parsePayload is the JobPayloads contract', () => {
    expect(parsePayload('health-check', { trigger: 'schedule' })).toEqual({ ok: true, payload: { trigger: 'schedule' } });
    expect(parsePayload('bridge', { requestedBy: 'start' })).toEqual({ ok: true, payload: { requestedBy: 'start' } });
    expect(parsePayload('bridge', null).ok).toBe(false);
    expect(parsePayload('bridge', [1]).ok).toBe(false);
    expect(parsePayload('nope' as 'bridge', {}).ok).toBe(false);
  });
});
