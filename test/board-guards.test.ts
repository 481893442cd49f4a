import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Queue } from 'bullmq';
import { resolveConfig, type Config } from '../src/config.js';
import { createRedis } from '../src/connections.js';
import { startBoard, type RunningBoard } from '../src/server/app.js';
import { hostAllowed } from '../src/server/hosts.js';
import { LoginThrottle } from '../src/server/login-throttle.js';
import { parsePayload } from '../src/jobs/payloads.js';
import { QUEUES } from '../src/jobs/table.js';
import { testConfig, testLog } from './helpers.js';

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
  it('answers 429 with Retry-After after the limit, even to the right password, and logs each failure with the address; another address still logs in', async () => {
    const { log, lines } = capturedLog();
    const { url } = await board({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, BOARD_LOGIN_LIMIT: '10', BOARD_LOGIN_WINDOW_S: '60' }, log);
    const wrong = { authorization: basic(USER, 'guess') };
    const right = { authorization: basic(USER, PASSWORD) };
    for (let i = 1; i <= 10; i++) {
      const r = await send(url, '/api/status', { headers: wrong });
      expect(r.status, `attempt ${i}`).toBe(401);
    }
    for (const headers of [wrong, right, {}]) {
      const r = await send(url, '/api/status', { headers });
      expect(r.status).toBe(429);
      expect(errorCode(r)).toBe('too_many_logins');
      const retry = Number(r.headers['retry-after']);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
    }
    const failures = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('board login failed'));
    expect(failures).toHaveLength(10);
    expect(failures.every((l) => l.client === '127.0.0.1' && l.level === 40)).toBe(true);
    expect(failures[9]!.msg).toMatch(/refused \(429\) for 60 s/);

    // Another address is not affected: the right password works, a wrong one is a plain 401.
    const other = await send(url, '/api/status', { headers: right, localAddress: '127.0.0.2' });
    expect(other.status).toBe(200);
    const otherWrong = await send(url, '/api/status', { headers: wrong, localAddress: '127.0.0.2' });
    expect(otherWrong.status).toBe(401);
    expect(lines.some((l) => l.client === '127.0.0.2')).toBe(true);
    // /healthz stays open for the container healthcheck.
    expect((await send(url, '/healthz')).status).toBe(200);
  });

  it('LoginThrottle: blocks for a window after the limit, forgets after it, forgives on success, bounds its memory', () => {
    const t = new LoginThrottle(3, 60_000, 2);
    expect(t.failed('a', 0)).toEqual({ failures: 1, blocked: false });
    t.succeeded('a');
    expect(t.failed('a', 1_000)).toEqual({ failures: 1, blocked: false });
    expect(t.failed('a', 2_000)).toEqual({ failures: 2, blocked: false });
    expect(t.blockedForMs('a', 2_000)).toBe(0);
    expect(t.failed('a', 3_000)).toEqual({ failures: 3, blocked: true });
    expect(t.blockedForMs('a', 3_000)).toBe(60_000);
    expect(t.blockedForMs('a', 62_999)).toBe(1);
    expect(t.blockedForMs('a', 63_000)).toBe(0);
    expect(t.blockedForMs('b', 3_000)).toBe(0);
    // A window that ran out starts again from one.
    expect(t.failed('c', 0)).toEqual({ failures: 1, blocked: false });
    expect(t.failed('c', 60_000)).toEqual({ failures: 1, blocked: false });
    // Past two addresses, the oldest is forgotten.
    t.failed('d', 60_001);
    t.failed('e', 60_002);
    expect(t.failed('c', 60_003)).toEqual({ failures: 1, blocked: false });
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
