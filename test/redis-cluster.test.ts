import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { startRedisCluster, type RedisClusterGroup } from './servers/redis-cluster.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

let cluster: RedisClusterGroup;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
});
afterAll(async () => cluster?.stop());
afterEach(killChildren);

describe('Redis Cluster of 3 masters', () => {
  it('every role and the CLI work with a hash-tagged prefix', async () => {
    // Unreachable on purpose: with cluster nodes set, nothing may use it.
    const env = testEnv({
      ...cluster.env,
      REDIS_URL: 'redis://127.0.0.1:1',
      HEALTH_INTERVAL_MS: '500',
      BRIDGE_HEARTBEAT_MS: '300',
      BRIDGE_HEARTBEAT_TTL_MS: '1500',
    });
    const config = resolveConfig(env);
    expect(config.queuePrefix).toBe(`{${env.QUEUE_PREFIX}}`);
    const roles = spawnRoles(['scheduler', 'worker', 'bridge'], env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    const redis = createRedis(config);
    const healthQueue = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
    try {
      writeScanFile(config.arrowDir, 1);
      await eventually(
        'scan #1 in Hazelcast',
        async () => {
          const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
          return v !== null && (JSON.parse(v) as { scan_number: number }).scan_number === 1 ? true : undefined;
        },
        30_000,
      );
      await eventually(
        'a healthy check completed',
        async () => {
          const [job] = await healthQueue.getJobs(['completed'], 0, 0);
          return (job?.returnvalue as { status?: string } | undefined)?.status === 'healthy' ? true : undefined;
        },
        30_000,
      );
      const status = spawnSync(process.execPath, ['dist/cli.js', 'status', '--json'], {
        env: { ...process.env, ...env, LOG_PRETTY: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(status.stderr).toBe('');
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ latestScan: { scanNumber: 1 } });
      expect(roles.proc.exitCode).toBeNull();
      expect(roles.output()).not.toMatch(/CROSSSLOT/);
    } finally {
      await healthQueue.close();
      redis.disconnect();
      await hz.shutdown();
    }
  });
});
