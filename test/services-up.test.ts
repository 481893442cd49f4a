import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, services, tempDir, testEnv } from './helpers.js';

/** Ports asked of the system for each test: the services:up defaults (6379, 5701) may be in use on the machine. */
async function ports() {
  const [held, redis, hazelcast] = await Promise.all([freePort(), freePort(), freePort()]);
  return { held: held, redis: redis, hazelcast: hazelcast };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function answers(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), ok(true)));
    s.once('error', () => ok(false));
  });
}

function stateDir(): string {
  return tempDir('sb-services-');
}

/** services:up refused to start: it names the taken port and the setting that moves it, says nothing is up, records no pid. */
function expectRefused(r: Awaited<ReturnType<typeof services>>, port: number, setting: string, dir: string) {
  expect(r.code).not.toBe(0);
  expect(r.out).not.toContain('Services are up');
  expect(r.err).toMatch(new RegExp(`port ${port} .*already in use.*${setting}`));
  expect(existsSync(join(dir, 'pids.json'))).toBe(false);
}

describe('npm run services:up', () => {
  it('fails, naming the port, when another Redis already holds it, and records nothing', async () => {
    const PORTS = await ports();
    const other: Started = await startRedis({ port: PORTS.held });
    cleanups.push(() => other.stop());
    const dir = stateDir();
    expectRefused(
      await services('up', { SERVICES_STATE_DIR: dir, SERVICES_REDIS_PORT: String(PORTS.held), SERVICES_HZ_PORT: String(PORTS.hazelcast) }),
      PORTS.held,
      'SERVICES_REDIS_PORT',
      dir,
    );
    // Nothing of ours was left running on the Hazelcast port either.
    expect(await answers(PORTS.hazelcast)).toBe(false);
  });

  it('fails, naming the port, when any process holds the Hazelcast port, and starts no Redis either', async () => {
    const PORTS = await ports();
    const holder = createServer();
    await new Promise<void>((ok) => holder.listen(PORTS.hazelcast, '127.0.0.1', ok));
    cleanups.push(() => new Promise((ok) => holder.close(ok)));
    const dir = stateDir();
    expectRefused(
      await services('up', { SERVICES_STATE_DIR: dir, SERVICES_REDIS_PORT: String(PORTS.redis), SERVICES_HZ_PORT: String(PORTS.hazelcast) }),
      PORTS.hazelcast,
      'SERVICES_HZ_PORT',
      dir,
    );
    expect(await answers(PORTS.redis)).toBe(false);
  });

  it('a second start returns only once its own member answers, whatever an earlier log says', async () => {
    const PORTS = await ports();
    const dir = stateDir();
    // What an earlier start left behind: a log that already says the member started.
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hazelcast.log'), 'INFO: [127.0.0.1]:5701 [dev] [5.6.0] [127.0.0.1]:5701 is STARTED\n');
    const env = { SERVICES_STATE_DIR: dir, SERVICES_REDIS_PORT: String(PORTS.redis), SERVICES_HZ_PORT: String(PORTS.hazelcast) };
    cleanups.push(() => services('down', env));
    const r = await services('up', env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Services are up');
    expect(await answers(PORTS.hazelcast)).toBe(true);
    expect(await answers(PORTS.redis)).toBe(true);
  });
});

type Pids = Record<'redis' | 'hazelcast', { pid: number; pids?: number[] } | undefined>;
const pidsIn = (dir: string) => JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Pids;

describe('npm run services:up -- X / services:down -- X', () => {
  it('act on X alone; the Redis it starts keeps its data across its own restarts', async () => {
    const PORTS = await ports();
    const dir = stateDir();
    const env = { SERVICES_STATE_DIR: dir, SERVICES_REDIS_PORT: String(PORTS.redis), SERVICES_HZ_PORT: String(PORTS.hazelcast) };
    cleanups.push(() => services('down', env));
    const up = await services('up', env);
    expect(up.code, up.err).toBe(0);
    const first = pidsIn(dir);
    const redisUrl = `redis://127.0.0.1:${PORTS.redis}`;
    const setKey = async () => {
      const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await r.connect();
        await r.set('services-test:kept', 'yes');
      } finally {
        r.disconnect();
      }
    };
    const getKey = async () => {
      const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await r.connect();
        return await r.get('services-test:kept');
      } finally {
        r.disconnect();
      }
    };
    await setKey();

    // down -- redis: Redis stops, Hazelcast goes on listening, the same process.
    const down = await services('down', env, 'redis');
    expect(down.code, down.err).toBe(0);
    expect(down.out).toContain('Stopped redis');
    expect(down.out).not.toContain('Stopped hazelcast');
    expect(await answers(PORTS.redis)).toBe(false);
    expect(await answers(PORTS.hazelcast)).toBe(true);
    expect(pidsIn(dir).hazelcast?.pid).toBe(first.hazelcast!.pid);

    // up -- redis: the same data, from its append-only file; Hazelcast untouched.
    const again = await services('up', env, 'redis');
    expect(again.code, again.err).toBe(0);
    expect(await getKey()).toBe('yes');
    expect(pidsIn(dir).hazelcast?.pid).toBe(first.hazelcast!.pid);
    const redisPid = pidsIn(dir).redis!.pid;

    // Hazelcast alone dies; up -- hazelcast starts it and leaves Redis and its data alone.
    process.kill(first.hazelcast!.pid, 'SIGKILL');
    await eventually('the member gone', async () => ((await answers(PORTS.hazelcast)) ? undefined : true), 10_000);
    const hz = await services('up', env, 'hazelcast');
    expect(hz.code, hz.err).toBe(0);
    expect(await answers(PORTS.hazelcast), hz.out).toBe(true);
    expect(pidsIn(dir).redis?.pid).toBe(redisPid);
    expect(await getKey()).toBe('yes');
  });
});

/** `npm run demo` (scripts/demo.sh) as a child with `env`, stopped with SIGTERM after the test; all it prints. */
function startDemo(env: Record<string, string>) {
  const child = spawn('bash', ['scripts/demo.sh'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise((ok) => child.once('exit', ok));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  return { child, out: () => out };
}

describe('npm run demo', () => {
  it('uses REDIS_URL and HZ_MEMBERS when they are given, and starts no servers of its own', async () => {
    const dir = stateDir();
    const env = testEnv({ BOARD_PORT: '0', SERVICES_STATE_DIR: dir, DEMO_STATE_DIR: dir, SERVICES_DOCKER: '0', LOG_PRETTY: '0', LOG_LEVEL: 'info' });
    const demo = startDemo(env);
    await eventually('the demo pushing its first scan', () => (/pushed scan #1\b/.test(demo.out()) ? true : undefined), 120_000);
    expect(demo.out()).toContain(`using REDIS_URL=${env.REDIS_URL} and HZ_MEMBERS=${env.HZ_MEMBERS}`);
    expect(demo.out()).not.toMatch(/Starting redis-server|Starting Hazelcast/);
    expect(existsSync(join(dir, 'pids.json'))).toBe(false);
  });

  it('runs the scanner as its own process: demo:scanner -- stop silences it while the rest runs on, and the health check notices; -- start brings scans back', async () => {
    const dir = stateDir();
    // Thresholds of seconds, and no start-up grace, so the check notices within the test.
    const env = testEnv({
      BOARD_PORT: '0',
      SERVICES_STATE_DIR: dir,
      DEMO_STATE_DIR: dir,
      SERVICES_DOCKER: '0',
      LOG_PRETTY: '0',
      LOG_LEVEL: 'info',
      HEALTH_INTERVAL_MS: '500',
      DATA_WARNING_S: '2',
      DATA_STALE_S: '4',
      BRIDGE_START_GRACE_S: '0',
    });
    const demo = startDemo(env);
    const scanner = (action: string) =>
      new Promise<{ code: number | null; out: string }>((ok) =>
        execFile('bash', ['scripts/demo-scanner.sh', action], { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) =>
          ok({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout + stderr }),
        ),
      );
    await eventually('the demo pushing its first scan', () => (/pushed scan #1\b/.test(demo.out()) ? true : undefined), 120_000);
    const pid = Number(readFileSync(join(dir, 'scanner.pid'), 'utf8'));

    const stopped = await scanner('stop');
    expect(stopped.code, stopped.out).toBe(0);
    expect(stopped.out).toContain(`Stopped the demo scanner (pid ${pid})`);
    // Gone: no such process, or one its parent (the demo's shell, busy with scan-bridge) has yet to reap.
    expect(existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : 'gone').toMatch(/^gone$|\) Z /);
    const mark = demo.out().length;
    await eventually(
      'the health check noticing the silent scanner',
      () => (/health stale \(scanner_silent\)/.test(demo.out().slice(mark)) ? true : undefined),
      30_000,
    );
    // The rest of the demo ran on.
    expect(demo.child.exitCode).toBeNull();

    const lastPushed = Math.max(...[...demo.out().matchAll(/pushed scan #(\d+)/g)].map((m) => Number(m[1])));
    const started = await scanner('start');
    expect(started.code, started.out).toBe(0);
    await eventually(
      `scan #${lastPushed + 1} pushed after the scanner's restart`,
      () => (demo.out().includes(`pushed scan #${lastPushed + 1}`) ? true : undefined),
      30_000,
    );
    const again = demo.out().length;
    await eventually('the health check healthy again', () => (/health healthy/.test(demo.out().slice(again)) ? true : undefined), 30_000);
  }, 240_000);
});
