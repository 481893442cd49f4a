import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { openQueues, trigger } from '../src/ops.js';
import { QUEUES } from '../src/jobs/table.js';
import { startJobWorkers } from '../src/workers/job-worker.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog } from './helpers.js';
import { receiver } from './receiver.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killChildren();
  for (const c of closers.splice(0).reverse()) await c();
});

/** A Redis of this test's own, so stopping it disturbs no other test. */
let redisServer: Started | undefined;
afterAll(async () => redisServer?.stop());

describe("HEARTBEAT_URL (dead-man's switch)", () => {
  it('is pinged with GET once per completed health check', async () => {
    const hc = await receiver();
    closers.push(() => hc.close());
    const config = resolveConfig(testEnv({ HEARTBEAT_URL: hc.url('/ping/abc') }));
    const workers = await startJobWorkers(config, testLog);
    closers.push(() => workers.stop());
    const redis = createRedis(config);
    const queues = openQueues(config, redis, testLog);
    const events = new QueueEvents(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
    closers.push(async () => {
      await events.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      redis.disconnect();
    });
    await events.waitUntilReady();
    for (let i = 0; i < 3; i++) {
      const { jobId } = await trigger(queues, 'health-check', 'test');
      const job = (await queues[QUEUES.healthCheck].getJob(jobId))!;
      await job.waitUntilFinished(events, 30_000);
    }
    await eventually('three pings', () => (hc.requests.events.length >= 3 ? true : undefined), 10_000);
    expect(hc.requests.events.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/ping/abc'],
      ['GET', '/ping/abc'],
      ['GET', '/ping/abc'],
    ]);
    expect((await queues[QUEUES.healthCheck].getJobCounts('completed')).completed).toBe(3);
  });

  it('is not pinged while Redis is down, and is again once it is back; a dead heartbeat service breaks nothing', async () => {
    redisServer = await startRedis();
    const hc = await receiver([[500], [500]]);
    closers.push(() => hc.close());
    const env = testEnv({ REDIS_URL: redisServer.address, HEALTH_INTERVAL_MS: '300', HEARTBEAT_URL: hc.url('/ping') });
    const roles = spawnRoles(['scheduler', 'worker'], env);
    await eventually('pings while Redis is up (the first two answered 500)', () => (hc.requests.events.length >= 4 ? true : undefined), 30_000);

    await redisServer.kill();
    const killedAt = Date.now();
    // Ten health intervals without Redis: no check can complete, so nothing may ping. A ping sent
    // for a check that completed just before the kill may still arrive in its first moments.
    await new Promise((ok) => setTimeout(ok, 3000));
    const atOutage = hc.requests.events.length;
    expect(hc.requests.events.filter((r) => r.at > killedAt + 500).map((r) => new Date(r.at).toISOString())).toEqual([]);

    redisServer = await startRedis({ port: redisServer.port });
    await eventually('pings again after Redis is back', () => (hc.requests.events.length > atOutage ? true : undefined), 60_000);
    expect(roles.proc.exitCode).toBeNull();
    // Named by host: the path of a ping URL is its secret.
    expect(roles.output()).toMatch(/heartbeat ping to HEARTBEAT_URL \(127\.0\.0\.1:\d+\) failed: answered 500 Internal Server Error/);
  });
});
