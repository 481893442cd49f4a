import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { QUEUES } from '../src/jobs/table.js';
import { keys } from '../src/keys.js';
import type { BridgeJobData } from '../src/jobs/bridge-job.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

/** A Redis of this test's own, so restarting it disturbs no other test. */
let redisServer: Started;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => redisServer?.stop());
afterEach(killChildren);

describe('Redis restarted mid-run', () => {
  it('scans keep flowing into Hazelcast, the same bridge run goes on once Redis is back empty, and the schedule fires again', async () => {
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
    /** The bridge run and its job, as Redis has them: the active job's run (its live stats' generation), the lease, and the heartbeat. */
    const bridgeRun = async () => {
      const redis = createRedis(config, { maxRetriesPerRequest: 1 });
      const q = new Queue<BridgeJobData>(QUEUES.bridge, { connection: redis, prefix: config.queuePrefix });
      try {
        const active = (await q.getJobs(['active'])).map((j) => ({ shows: j.data.live?.generation }));
        const { waiting = 0 } = await q.getJobCounts('waiting');
        const generationCounter = Number(await redis.get(keys(config.queuePrefix).generation));
        const raw = await redis.get(keys(config.queuePrefix).lease);
        const lease = raw === null ? null : (JSON.parse(raw) as { pid: number; generation: number });
        return { active, waiting, lease, heartbeat: (await readBridgeFacts(redis, config.queuePrefix)).heartbeat, generationCounter };
      } finally {
        await q.close();
        redis.disconnect();
      }
    };
    try {
      writeScanFile(config.arrowDir, 1);
      await eventually('scan #1 in Hazelcast', async () => ((await latest())?.scan_number === 1 ? true : undefined), 30_000);
      await eventually('a completed health check', async () => ((await completedChecks()) > 0 ? true : undefined), 30_000);
      const before = await eventually('the bridge job active and a heartbeat', async () => {
        const run = await bridgeRun();
        return run.active.length === 1 && run.heartbeat ? run : undefined;
      });

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
      // Written as Redis comes back: the bridge pushes it whatever Redis is doing meanwhile.
      writeScanFile(config.arrowDir, 400);
      await eventually('scan #400 in Hazelcast as Redis came back', async () => ((await latest())?.scan_number === 400 ? true : undefined), 10_000);
      // The restarted Redis is empty: the schedule, the bridge job and its heartbeat come back by themselves.
      await eventually('health checks completing again', async () => ((await completedChecks()) >= 2 ? true : undefined), 60_000);
      // The running bridge set its lease back and went on: the same run (generation, start) holds
      // the lease and beats; a new bridge job, added by the keeper, is active and shows that run,
      // none waits (Bull Board tells the truth).
      const generation = before.heartbeat!.generation;
      const after = await eventually(
        'the bridge job active again showing the same run, none waiting, and a heartbeat',
        async () => {
          const run = await bridgeRun();
          return run.active.length === 1 && run.active[0]!.shows === generation && run.waiting === 0 && run.heartbeat ? run : undefined;
        },
        30_000,
      );
      expect(after.heartbeat).toMatchObject({ startedAt: before.heartbeat!.startedAt, generation });
      expect(after.lease).toMatchObject({ pid: before.heartbeat!.pid, generation });
      // The lease wrote the generation counter back: a restart waits for a run after this one.
      expect(after.generationCounter).toBe(generation);
      // Set back: as lost with the counter (3), or as lapsed (2) when the heartbeat wrote the counter back first.
      expect(roles.output()).toMatch(
        /Redis had lost the bridge lease and the generation counter|the bridge lease had lapsed, and nobody had taken a newer generation since/,
      );
      expect(roles.output()).not.toContain('writes nothing more and stops');
      writeScanFile(config.arrowDir, 500);
      await eventually('scan #500 in Hazelcast after the outage', async () => ((await latest())?.scan_number === 500 ? true : undefined), 30_000);
      expect((await bridgeRun()).heartbeat).toMatchObject({ startedAt: before.heartbeat!.startedAt });
      // No check in the Redis that came back found the bridge down, and none asked for a restart:
      // the lease, the counter and the heartbeat came back together.
      const redis = createRedis(config, { maxRetriesPerRequest: 1 });
      const restarts = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
      try {
        const checks = (await redis.lrange(keys(config.queuePrefix).healthHistory, 0, -1)).map((j) => JSON.parse(j) as { status: string; message: string });
        expect(checks.length).toBeGreaterThan(0);
        expect(checks.filter((c) => c.status === 'down').map((c) => c.message)).toEqual([]);
        expect(Object.values(await restarts.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
      } finally {
        await restarts.close();
        redis.disconnect();
      }
    } finally {
      await hz.shutdown();
    }
  });
});

describe('Redis away for longer than the heartbeat lives, and back with its data', () => {
  it('no check finds the bridge down and none asks for a restart: the heartbeat expired with Redis away, and the bridge writes it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scan-bridge-redis-aof-'));
    let server = await startRedis({ persist: true, dir });
    // Checks far more often than beats (the default beat, 2 s): the first check after Redis is back comes before the bridge's next beat.
    const env = testEnv({ REDIS_URL: server.address, HEALTH_INTERVAL_MS: '300', BRIDGE_HEARTBEAT_MS: '2000', BRIDGE_HEARTBEAT_TTL_MS: '4000' });
    const config = resolveConfig(env);
    // One process, as `start` runs them: its worker's checks see Redis back at the moment its bridge does, before the next beat.
    spawnRoles(['scheduler', 'worker', 'bridge'], env);
    const redis = createRedis(config, { maxRetriesPerRequest: 1 });
    const k = keys(config.queuePrefix);
    const checks = async () => (await redis.lrange(k.healthHistory, 0, -1)).map((j) => JSON.parse(j) as { status: string; cause?: string; checkedAt: number });
    try {
      writeScanFile(config.arrowDir, 1);
      await eventually('a healthy check', async () => ((await checks()).some((c) => c.status === 'healthy') ? true : undefined), 60_000);
      await server.kill();
      // Longer than the heartbeat's life: it has expired when Redis is back, though Redis's data is kept.
      await new Promise((r) => setTimeout(r, 6000));
      server = await startRedis({ persist: true, dir, port: server.port });
      const backAt = Date.now();
      await eventually(
        'five checks since Redis came back',
        async () => ((await checks()).filter((c) => c.checkedAt > backAt).length >= 5 ? true : undefined),
        30_000,
      );
      const since = (await checks()).filter((c) => c.checkedAt > backAt);
      expect(since.filter((c) => c.status === 'down')).toEqual([]);
      expect(since[0]).not.toMatchObject({ status: 'down' });
      expect(since.at(-1)).toMatchObject({ status: 'healthy' });
      const restarts = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
      try {
        expect(Object.values(await restarts.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
      } finally {
        await restarts.close();
      }
    } finally {
      redis.disconnect();
      await killChildren();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
