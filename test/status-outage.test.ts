/**
 * The status page and /api/status while one server is down: they answer 200 with what the other
 * server knows and say, in words, which server is unreachable since when. Each test runs a server
 * of its own, so killing it disturbs no other test.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startHazelcast, startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, killChildren, spawnRoles, testEnv, writeScanFile } from './helpers.js';

const USER = 'op';
const PASSWORD = 'outage-test-password';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
/** Driver wording that must never reach an operator (ioredis, the Hazelcast client). */
const DRIVER_TEXT =
  /enableOfflineQueue|Stream isn't writeable|Connection is closed|ECONNREFUSED|ClientOfflineError|[Cc]lient is offline|\bHazelcastError\b|TargetDisconnectedError/;

const servers: Started[] = [];
afterEach(killChildren);
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
});

interface ApiStatus {
  servers: Record<'redis' | 'hazelcast', { reachable: boolean; since?: number | null; message?: string }>;
  latestScan: { scanNumber: number; ageS: number; assetCount: number } | null;
  health: { status: string; dataAgeS: number | null } | null;
  queues: unknown;
}

async function startSystem(env: Record<string, string>) {
  const full = testEnv({ BOARD_PORT: '0', BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, HEALTH_INTERVAL_MS: '500', ...env });
  const child = spawnRoles(['all'], full);
  const url = await eventually('the board to listen', () => /board listening on (http:\/\/\S+?)\/board\//.exec(child.output())?.[1], 30_000);
  writeScanFile(full.ARROW_DIR!, 1, 7);
  await eventually(
    'a healthy check of scan #1',
    async () => {
      const body = (await (await fetch(`${url}/api/health`, { headers: AUTH })).json()) as { latest: { status: string; scanNumber: number } | null };
      return body.latest?.status === 'healthy' && body.latest.scanNumber === 1 ? true : undefined;
    },
    30_000,
  );
  return { env: full, child, url };
}

const page = async (url: string) => {
  const res = await fetch(`${url}/status`, { headers: AUTH });
  return { status: res.status, html: await res.text() };
};
const api = async (url: string) => {
  const res = await fetch(`${url}/api/status`, { headers: AUTH });
  return { status: res.status, text: await res.text() };
};
/** The page's text without tags, for reading it as a person does. */
const text = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

/** The page once it names `server`'s outage; until then, the last answer is in the timeout's message. */
const outagePage = (url: string, server: 'redis' | 'hazelcast') =>
  eventually(
    `the page to name the ${server} outage`,
    async () => {
      const p = await page(url);
      if (!p.html.includes(`id="outage-${server}"`)) throw new Error(`${p.status}: ${text(p.html).slice(0, 300)}`);
      return p;
    },
    30_000,
  );

describe('the status page with a server down', () => {
  it('Redis SIGKILLed: /status answers 200 with the data age, scan and assets from Hazelcast and "Redis unreachable since …"; /api/status answers 200; both recover with Redis', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const { env, url } = await startSystem({ REDIS_URL: redis.address });
    const killedAt = Date.now();
    await redis.kill();

    const down = await outagePage(url, 'redis');
    expect(down.status).toBe(200);
    const words = text(down.html);
    const since = /Redis unreachable since (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC/.exec(words);
    expect(since, words).not.toBeNull();
    expect(Math.abs(Date.parse(`${since![1]}T${since![2]}Z`) - killedAt)).toBeLessThan(5_000);
    expect(words).toMatch(/Data age [\d.]+ s read from Hazelcast now/);
    expect(words).toMatch(/Last scan #1 .* 7 assets/);
    expect(down.html).not.toMatch(DRIVER_TEXT);

    const a = await api(url);
    expect(a.status).toBe(200);
    expect(a.text).not.toMatch(DRIVER_TEXT);
    const body = JSON.parse(a.text) as ApiStatus;
    expect(body.servers.redis).toMatchObject({ reachable: false });
    expect(Math.abs(body.servers.redis.since! - killedAt)).toBeLessThan(5_000);
    expect(body.servers.hazelcast).toEqual({ reachable: true });
    expect(body.latestScan).toMatchObject({ scanNumber: 1, assetCount: 7 });
    expect(body.queues).toBeNull();

    // Scans go on during the outage, and the page follows them live.
    writeScanFile(env.ARROW_DIR!, 2, 9);
    await eventually('the page to show scan #2', async () => (/Last scan #2 .* 9 assets/.test(text((await page(url)).html)) ? true : undefined), 15_000);

    servers.push(await startRedis({ port: redis.port }));
    await eventually(
      'the outage banner gone once Redis is back',
      async () => {
        const p = await page(url);
        return p.status === 200 && !p.html.includes('id="outage-redis"') && p.html.includes('Active bridge') ? true : undefined;
      },
      30_000,
    );
    expect(JSON.parse((await api(url)).text)).toMatchObject({ servers: { redis: { reachable: true } } });
  }, 120_000);

  it('Hazelcast SIGKILLed: /status answers 200 with the facts from Redis, the data age as of the last check, and "Hazelcast unreachable since …"', async () => {
    const clusterName = `outage-${process.pid}`;
    const hz = await startHazelcast({ clusterName });
    servers.push(hz);
    const { url } = await startSystem({ HZ_MEMBERS: hz.address, HZ_CLUSTER_NAME: clusterName });
    const killedAt = Date.now();
    await hz.kill();

    const down = await outagePage(url, 'hazelcast');
    expect(down.status).toBe(200);
    const words = text(down.html);
    expect(words).toMatch(/Hazelcast unreachable since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(words).toMatch(/Data age [\d.]+ s at the last check/);
    expect(words).toContain('Active bridge');
    expect(down.html).not.toMatch(DRIVER_TEXT);

    const a = await api(url);
    expect(a.status).toBe(200);
    expect(a.text).not.toMatch(DRIVER_TEXT);
    const body = JSON.parse(a.text) as ApiStatus;
    expect(body.servers.hazelcast).toMatchObject({ reachable: false });
    expect(Math.abs(body.servers.hazelcast.since! - killedAt)).toBeLessThan(10_000);
    expect(body.servers.redis).toEqual({ reachable: true });
    expect(body.latestScan).toBeNull();
    expect(body.health).not.toBeNull();

    // The checks see the outage too: the banner says so in words, as of the last check.
    const checked = await eventually(
      'a check that found Hazelcast unreachable, on the page',
      async () => {
        const p = await page(url);
        return /<div class="big"[^>]*>ERROR/.test(p.html) ? p.html : undefined;
      },
      30_000,
    );
    expect(text(checked)).toMatch(/The health check could not reach Hazelcast\. as of the last check/);
    expect(checked).toContain('data-basis="last-check"');
    expect(checked).not.toMatch(DRIVER_TEXT);
  }, 180_000);
});
