import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

/** A Redis of this test's own, so restarting it disturbs no other test. */
let redisServer: Started;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => redisServer?.stop());
afterEach(killChildren);

describe('Redis restarted mid-run', () => {
  it('scans keep flowing into Hazelcast, and the schedule fires again afterwards', async () => {
    const env = testEnv({
      REDIS_URL: redisServer.address,
      HEALTH_INTERVAL_MS: '500',
      BRIDGE_HEARTBEAT_MS: '300',
      BRIDGE_HEARTBEAT_TTL_MS: '1500',
      BRIDGE_LOCK_MS: '3000',
    });
    const config = resolveConfig(env);
    const roles = spawnRoles(['scheduler', 'worker', 'bridge'], env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    const latest = async () => {
      const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
      return v === null ? null : (JSON.parse(v) as { scan_number: number });
    };
    const completedChecks = async () => {
      const redis = createRedis(config, { maxRetriesPerRequest: 1 });
      const q = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
      try {
        return (await q.getJobCounts('completed')).completed ?? 0;
      } finally {
        await q.close();
        redis.disconnect();
      }
    };
    try {
      writeScanFile(config.arrowDir, 1);
      await eventually('scan #1 in Hazelcast', async () => ((await latest())?.scan_number === 1 ? true : undefined), 30_000);
      await eventually('a completed health check', async () => ((await completedChecks()) > 0 ? true : undefined), 30_000);

      await redisServer.kill();
      for (let n = 2; n <= 4; n++) writeScanFile(config.arrowDir, n);
      // Redis is down: the bridge does not need it to push.
      await eventually('scan #4 in Hazelcast during the outage', async () => ((await latest())?.scan_number === 4 ? true : undefined), 30_000);
      // Past the lock's lease (BRIDGE_LOCK_MS), with Redis still down, scans go on being pushed: the
      // process ran throughout, so its lock can only have lapsed for Redis's silence.
      let n = 100;
      await eventually(
        'a write past the lease, going on without Redis',
        async () => {
          writeScanFile(config.arrowDir, ++n);
          await eventually(`scan #${n} in Hazelcast`, async () => ((await latest())?.scan_number === n ? true : undefined), 10_000);
          return roles.output().includes('this process ran throughout: writing on') ? true : undefined;
        },
        20_000,
      );
      writeScanFile(config.arrowDir, ++n);
      await eventually(`scan #${n} in Hazelcast, past the lease`, async () => ((await latest())?.scan_number === n ? true : undefined), 10_000);
      expect(roles.output()).not.toContain('writes nothing more and stops');

      redisServer = await startRedis({ port: redisServer.port });
      // The restarted Redis is empty: the schedule, the bridge job and its heartbeat come back by themselves.
      await eventually('health checks completing again', async () => ((await completedChecks()) >= 2 ? true : undefined), 60_000);
      const redis = createRedis(config);
      try {
        await eventually('a bridge heartbeat again', async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined, 30_000);
      } finally {
        redis.disconnect();
      }
      // Bull Board tells the truth afterwards: one bridge job, and it is the active one.
      const redis2 = createRedis(config);
      const bridgeQueue = new Queue(QUEUES.bridge, { connection: redis2, prefix: config.queuePrefix });
      try {
        await eventually(
          'one active bridge job and none waiting',
          async () => {
            const c = await bridgeQueue.getJobCounts('active', 'waiting');
            return c.active === 1 && c.waiting === 0 ? true : undefined;
          },
          30_000,
        );
      } finally {
        await bridgeQueue.close();
        redis2.disconnect();
      }
      writeScanFile(config.arrowDir, 500);
      await eventually('scan #500 in Hazelcast after the outage', async () => ((await latest())?.scan_number === 500 ? true : undefined), 30_000);
    } finally {
      await hz.shutdown();
    }
  });
});
