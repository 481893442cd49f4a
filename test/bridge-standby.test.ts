/**
 * The bridge job while another process holds the lease (src/jobs/bridge-job.ts): the worker that
 * has the job stands by and says so on the board (the job's log, its data, its name line): who
 * holds the lease and runs the bridge. It writes nothing meanwhile. Once that lease is gone, it
 * takes the lease with the next generation and runs the bridge under the same job.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { createRedis } from '../src/connections.js';
import { keys } from '../src/keys.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { startBridgeWorker } from '../src/workers/bridge-worker.js';
import { bridgeName } from '../src/server/board-format.js';
import { resolveConfig } from '../src/config.js';
import { eventually, testEnv, testLog, writeScanFile } from './helpers.js';
import { latestOf } from './bridge-roles.js';

const env = testEnv({ BRIDGE_LOCK_MS: '2000', BRIDGE_HEARTBEAT_MS: '300' });
const config = resolveConfig(env);
const redis = createRedis(config);
afterAll(() => redis.disconnect());

describe('a bridge job taken while another process holds the lease', () => {
  it('stands by, telling on the board who runs the bridge; takes the lease with the next generation once it is gone', async () => {
    const k = keys(config.queuePrefix);
    // Another live process holds the lease: generation 7, pid 4242 on another machine.
    const other = { token: 'another-process', generation: 7, pid: 4242, host: 'elsewhere' };
    await redis.set(k.generation, '7');
    await redis.set(k.lease, JSON.stringify(other), 'PX', 60_000);
    const worker = await startBridgeWorker(config, testLog);
    const latest = await latestOf(env);
    try {
      const job = await eventually('the standby note in the job', async () => {
        const [j] = await worker.queue.getJobs(['active']);
        return j && j.data.leaseHeldBy ? j : undefined;
      });
      expect(job.data.leaseHeldBy).toMatchObject({ pid: 4242, host: 'elsewhere', generation: 7 });
      const { logs } = await worker.queue.getJobLogs(job.id!);
      expect(logs.some((l) => l.includes('pid 4242 on elsewhere, generation 7, holds the bridge lease and runs the bridge'))).toBe(true);
      expect(bridgeName({ data: job.data, progress: job.progress })).toContain('pid 4242 on elsewhere runs the bridge (generation 7)');
      // Standing by writes nothing: no heartbeat, no scan.
      writeScanFile(config.arrowDir, 1);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await readBridgeFacts(redis, config.queuePrefix)).heartbeat).toBeNull();
      expect(await latest.get()).toBeNull();

      // The holder is gone: its lease with it.
      await redis.del(k.lease);
      const hb = await eventually('a heartbeat of this worker', async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined, 15_000);
      expect(hb).toMatchObject({ pid: process.pid, generation: 8, host: hostname() });
      expect(JSON.parse((await redis.get(k.lease))!)).toMatchObject({ pid: process.pid, generation: 8 });
      await latest.until(1, 15_000);
      const same = await eventually('the live stats in the same job', async () => {
        const j = await worker.queue.getJob(job.id!);
        return j?.data?.live?.generation === 8 ? j : undefined;
      });
      expect(same.data.leaseHeldBy).toBeUndefined();
      expect(await worker.queue.getJobState(job.id!)).toBe('active');
    } finally {
      await latest.close();
      await worker.stop();
    }
  });
});

describe('the lease set back after Redis lost our keys', () => {
  it('comes back with the generation counter and the heartbeat together: a health check never finds a counter without a heartbeat', async () => {
    // Heartbeats a minute apart: only the renewal that sets the lease back can write one soon.
    const env = testEnv({ BRIDGE_LOCK_MS: '2000', BRIDGE_HEARTBEAT_MS: '60000', BRIDGE_HEARTBEAT_TTL_MS: '180000' });
    const config = resolveConfig(env);
    const k = keys(config.queuePrefix);
    const worker = await startBridgeWorker(config, testLog);
    try {
      const hb = await eventually('a heartbeat', async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined, 15_000);
      // Redis lost everything of ours (restarted empty, as far as these keys go).
      await redis.del(k.lease, k.generation, k.heartbeat, k.stats);
      await eventually('the lease set back', async () => ((await redis.exists(k.lease)) === 1 ? true : undefined), 5_000);
      const back = await eventually('the heartbeat back', async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined, 2_000);
      expect(back).toMatchObject({ generation: hb.generation, startedAt: hb.startedAt });
      expect(await redis.get(k.generation)).toBe(String(hb.generation));
    } finally {
      await worker.stop();
    }
  });
});
