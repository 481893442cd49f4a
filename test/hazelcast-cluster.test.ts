import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { freePort, startHazelcastCluster } from '../scripts/servers/services.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, freePortRun, killChildren, services, spawnRoles, tempDir, testEnv, testLog, uniq, writeScanFile } from './helpers.js';

/** Two members of this file's own cluster: killing one disturbs no other test. */
let cluster: Awaited<ReturnType<typeof startHazelcastCluster>>;
const clusterName = uniq('hz');
beforeAll(async () => {
  cluster = await startHazelcastCluster(2, { clusterName, heap: '256m' });
});
afterAll(async () => cluster?.stop());
afterEach(killChildren);

describe('Hazelcast cluster of 2 members', () => {
  it("a role's client answers for keys on either member without waiting out the invocation timeout", async () => {
    const config = resolveConfig(testEnv({ HZ_MEMBERS: cluster.address, HZ_CLUSTER_NAME: clusterName }));
    const hz = await createHazelcast(config, testLog, { kind: 'service' });
    try {
      expect(await hz.waitConnected(30_000)).toBe(true);
      const map = await eventually('the map', () => hz.client.getMap<string, string>(config.hzMap).catch(() => undefined), 20_000);
      await map.set('warm-up', 'v');
      const slowest = { key: '', ms: 0 };
      // 271 partitions over 2 members: 20 keys land on both.
      for (let i = 0; i < 20; i++) {
        const t0 = Date.now();
        await map.set(`k${i}`, 'v');
        if (Date.now() - t0 > slowest.ms) Object.assign(slowest, { key: `k${i}`, ms: Date.now() - t0 });
      }
      // The fault being guarded against waits out the 5 s invocation timeout; load alone stays well below.
      expect(slowest.ms, `map.set(${slowest.key}) took ${slowest.ms} ms`).toBeLessThan(4000);
    } finally {
      await hz.shutdown();
    }
  });

  it('SIGKILL of the member that owns latest_eigen_scan: the value survives, the next scan lands within 10 s, checks stay healthy', async () => {
    const env = testEnv({
      HZ_MEMBERS: cluster.address,
      HZ_CLUSTER_NAME: clusterName,
      HEALTH_INTERVAL_MS: '1000',
      BRIDGE_HEARTBEAT_MS: '300',
      BRIDGE_HEARTBEAT_TTL_MS: '1500',
    });
    const config = resolveConfig(env);
    const roles = spawnRoles(['scheduler', 'worker', 'bridge'], env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 30_000 });
    const redis = createRedis(config);
    const healthQueue = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
    const latest = async () => {
      const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
      return v === null ? null : (JSON.parse(v) as { scan_number: number }).scan_number;
    };
    try {
      for (let n = 1; n <= 3; n++) writeScanFile(config.arrowDir, n);
      await eventually('scan #3 in Hazelcast', async () => ((await latest()) === 3 ? true : undefined), 30_000);

      // The member holding the primary copy: its backup on the other member must take over.
      const partition = hz.client.getPartitionService().getPartitionId(config.hzKey);
      const owner = hz.client.getPartitionService().getPartitionOwner(partition).toString();
      const ownerMember = hz.client
        .getCluster()
        .getMembers()
        .find((m) => m.uuid.toString() === owner)!;
      const victim = cluster.members.findIndex((m) => m.port === ownerMember.address.port);
      expect(victim).toBeGreaterThanOrEqual(0);
      await cluster.members[victim]!.kill();
      const killedAt = Date.now();

      // Every successful read after the kill says #3 (never null, never older).
      const afterKill = await eventually('a read of latest_eigen_scan after the kill', () => latest().catch(() => undefined), 20_000);
      expect(afterKill).toBe(3);

      writeScanFile(config.arrowDir, 4);
      const writtenAt = Date.now();
      await eventually('scan #4 in Hazelcast', async () => ((await latest().catch(() => null)) === 4 ? true : undefined), 10_000);
      expect(Date.now() - writtenAt).toBeLessThanOrEqual(10_000);

      const history = await hz.client.getMap<string, string>(config.hzHistoryMap);
      for (let n = 1; n <= 4; n++) expect(await history.get(String(n).padStart(6, '0'))).not.toBeNull();

      await eventually(
        'a healthy check finished after the kill',
        async () => {
          const jobs = await healthQueue.getJobs(['completed'], 0, 5);
          return jobs.some((j) => (j.finishedOn ?? 0) > killedAt && (j.returnvalue as { status?: string } | undefined)?.status === 'healthy')
            ? true
            : undefined;
        },
        30_000,
      );
      expect(roles.proc.exitCode).toBeNull();
    } finally {
      await healthQueue.close();
      redis.disconnect();
      await hz.shutdown();
    }
  });
});

describe('npm run services:up with SERVICES_HZ_MEMBERS=2', () => {
  it('starts two members in one cluster and prints both; down stops both', async () => {
    // Ports asked of the system: two in a row for the members, as services:up takes them.
    const [redisPort, [hz1, hz2]] = await Promise.all([freePort(), freePortRun(2)]);
    const env = {
      SERVICES_STATE_DIR: tempDir('sb-services-'),
      SERVICES_REDIS_PORT: String(redisPort),
      SERVICES_HZ_PORT: String(hz1),
      SERVICES_HZ_MEMBERS: '2',
    };
    try {
      const up = await services('up', env);
      expect(up.err).toBe('');
      expect(up.code).toBe(0);
      expect(up.out).toContain(`HZ_MEMBERS=127.0.0.1:${hz1},127.0.0.1:${hz2}`);
      const hz = await createHazelcast(resolveConfig({ HZ_MEMBERS: `127.0.0.1:${hz1}`, HZ_CLUSTER_NAME: 'dev' }), testLog, {
        kind: 'command',
        timeoutMs: 20_000,
      });
      try {
        expect(
          hz.client
            .getCluster()
            .getMembers()
            .map((m) => m.address.port)
            .sort(),
        ).toEqual([hz1, hz2]);
      } finally {
        await hz.shutdown();
      }
    } finally {
      const down = await services('down', env);
      expect(down.out.match(/Stopped hazelcast/g)).toHaveLength(2);
    }
  });
});
