import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, services, tempDir, testEnv } from './helpers.js';

// Ports of this file's own range: the services:up defaults (6379, 5701) may be in use on the machine.
const PORTS = { held: 17510, redis: 17511, hazelcast: 17512 };

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

describe('npm run demo', () => {
  it('uses REDIS_URL and HZ_MEMBERS when they are given, and starts no servers of its own', async () => {
    const dir = stateDir();
    const env = testEnv({ BOARD_PORT: '0', SERVICES_STATE_DIR: dir, SERVICES_DOCKER: '0', LOG_PRETTY: '0', LOG_LEVEL: 'info' });
    const child = spawn('bash', ['scripts/demo.sh'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise((ok) => child.once('exit', ok));
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    await eventually('the demo pushing its first scan', () => (/pushed scan #1\b/.test(out) ? true : undefined), 120_000);
    expect(out).toContain(`using REDIS_URL=${env.REDIS_URL} and HZ_MEMBERS=${env.HZ_MEMBERS}`);
    expect(out).not.toMatch(/Starting redis-server|Starting Hazelcast/);
    expect(existsSync(join(dir, 'pids.json'))).toBe(false);
  });
});
