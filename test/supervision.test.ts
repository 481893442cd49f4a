import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Queue, type Job } from 'bullmq';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { startScheduler } from '../src/scheduler.js';
import { openJobQueue, QUEUES } from '../src/jobs/table.js';
import { enqueueRestart, runHealthCheck } from '../src/jobs/health-check.js';
import { keys } from '../src/keys.js';
import { eventually, killChildren, spawnRoles, testLog, writeScanFile } from './helpers.js';
import { failedForGood } from './bridge-world.js';
import { activeBridge, fastEnv, latestOf, pushedByAnother } from './bridge-roles.js';

afterEach(killChildren);

/** The job once it has finished, however it ended. */
function finished(queue: Queue, id: string): Promise<Job> {
  return eventually(`job ${id} finishing`, async () => {
    const j = await queue.getJob(id);
    return j?.finishedOn ? j : undefined;
  });
}

describe('scheduler', () => {
  it('three schedulers leave one schedule and one health check per tick', async () => {
    const env = fastEnv({ HEALTH_INTERVAL_MS: '500' });
    const config = resolveConfig(env);
    const schedulers = await Promise.all([1, 2, 3].map(() => startScheduler(config, testLog, createRedis(config))));
    // Restarting them in a loop changes nothing either.
    for (let i = 0; i < 3; i++) {
      await schedulers[i]!.stop();
      schedulers[i] = await startScheduler(config, testLog, createRedis(config));
    }
    spawnRoles(['worker'], env);
    const queue = new Queue(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
    try {
      expect(await queue.getJobSchedulers()).toHaveLength(1);
      const done = await eventually(
        'six completed checks',
        async () => {
          const jobs = await queue.getJobs(['completed']);
          return jobs.length >= 6 ? jobs : undefined;
        },
        30_000,
      );
      // A scheduled job's id names its tick: one job per tick, and ticks a whole interval apart.
      const ticks = done.map((j: Job) => Number(j.id!.split(':').pop())).sort((a, b) => a - b);
      expect(new Set(ticks).size).toBe(ticks.length);
      for (let i = 1; i < ticks.length; i++) expect((ticks[i]! - ticks[i - 1]!) % 500).toBe(0);
      expect(ticks.length).toBeLessThanOrEqual((ticks[ticks.length - 1]! - ticks[0]!) / 500 + 1);
      expect(done[0]!.returnvalue).toHaveProperty('status');
      expect(await queue.getJobSchedulers()).toHaveLength(1);
    } finally {
      await Promise.all(schedulers.map((s) => s.stop()));
      await queue.close();
    }
  });
});

describe('bridge workers', () => {
  it('run exactly one bridge; SIGKILL of its process hands it to a standby', async () => {
    const env = fastEnv();
    const children = [spawnRoles(['bridge'], env), spawnRoles(['bridge'], env), spawnRoles(['bridge'], env)];
    const latest = await latestOf(env);
    try {
      const first = await activeBridge(env, children);
      writeScanFile(env.ARROW_DIR!, 1);
      await eventually('scan #1 pushed', async () => ((await latest.get())?.scan_number === 1 ? true : undefined));
      expect((await latest.get())!.bridge_id).toBe(first.hb.id);
      // Exactly one bridge: the standbys never push.
      expect(first.others.every((c) => !c.output().includes('pushed scan'))).toBe(true);

      first.child.signal('SIGKILL');
      const taken = await pushedByAnother(latest, env, first.hb.id, 30_000);
      expect(first.others.map((c) => c.pid)).toContain(Number(taken.bridge_id.split(':').pop()));
    } finally {
      await latest.close();
    }
  });

  it('SIGTERM hands the bridge over at once and the process exits within seconds', async () => {
    const env = fastEnv({ BRIDGE_LOCK_MS: '30000' });
    const children = [spawnRoles(['bridge'], env), spawnRoles(['bridge'], env)];
    const latest = await latestOf(env);
    try {
      const first = await activeBridge(env, children);
      writeScanFile(env.ARROW_DIR!, 1);
      await eventually('scan #1 pushed', async () => ((await latest.get())?.scan_number === 1 ? true : undefined));
      const t0 = Date.now();
      first.child.signal('SIGTERM');
      // With a 30 s lock, a takeover well under that is a hand-off, not a lock expiry.
      const taken = await pushedByAnother(latest, env, first.hb.id, 20_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(taken.bridge_id).toContain(String(first.others[0]!.pid));
      const code = await Promise.race([first.child.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(code).toBe(0);
      expect(first.child.output()).toContain('handing the bridge to a standby');
    } finally {
      await latest.close();
    }
  });

  it('restarts a crashed bridge after the backoff, at most RESTART_ATTEMPTS in a row, then gives up', async () => {
    const env = fastEnv({ RESTART_ATTEMPTS: '2' });
    const child = spawnRoles(['bridge'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    try {
      const first = await activeBridge(env, [child]);
      // The scan folder vanishing is a crash; blocking its path with a file makes every restart fail too.
      rmSync(env.ARROW_DIR!, { recursive: true });
      writeFileSync(env.ARROW_DIR!, 'not a folder');
      await eventually('the worker giving up', async () => ((await redis.exists(keys(config.queuePrefix).gaveUp)) ? true : undefined), 30_000);
      // The log line and the Redis key come from one process by different paths: await the line.
      const out = await eventually('the giving-up log line', () => (child.output().includes('giving up') ? child.output() : undefined), 10_000);
      expect(out).toContain('bridge crashed');
      expect(out).toContain('(1/2)');
      expect(out).toContain('(2/2)');
      expect(out).toContain('giving up');
      expect(first.hb.generation).toBeGreaterThan(0);
      const failed = await new Queue(QUEUES.bridge, { connection: redis, prefix: config.queuePrefix }).getJobs(['failed']);
      expect(failed[0]!.failedReason).toContain('giving up');
      expect(Number(await redis.get(keys(config.queuePrefix).restarts))).toBeGreaterThanOrEqual(2);
    } finally {
      redis.disconnect();
    }
  });
});

/**
 * A bridge process that pushed scan #1, started with a crash backoff long enough that a crash
 * restart could not bring the next scans in time: they must come from the same run.
 */
async function bridgeThatPushedScan1() {
  const env = fastEnv({ RESTART_BACKOFF_MS: '30000' });
  const child = spawnRoles(['bridge'], env);
  const latest = await latestOf(env);
  writeScanFile(env.ARROW_DIR!, 1);
  await eventually('scan #1', async () => ((await latest.get())?.scan_number === 1 ? true : undefined), 30_000);
  const scanLands = (n: number, what = `scan #${n}`) => eventually(what, async () => ((await latest.get())?.scan_number === n ? true : undefined), 5_000);
  const said = (text: string, what: string) => eventually(what, () => Promise.resolve(child.output().includes(text) ? child.output() : undefined), 5_000);
  return { env, child, latest, scanLands, said };
}

describe('the scan folder removed and created again at once', () => {
  it('the same bridge run watches the new folder: no crash, no restart, its scans land within 5 s', async () => {
    const { env, child, latest, scanLands, said } = await bridgeThatPushedScan1();
    const config = resolveConfig(env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    try {
      const before = await activeBridge(env, [child]);
      rmSync(env.ARROW_DIR!, { recursive: true });
      mkdirSync(env.ARROW_DIR!);
      // Written before the bridge can have noticed: the catch-up on the new folder finds them.
      writeScanFile(env.ARROW_DIR!, 2);
      writeScanFile(env.ARROW_DIR!, 3);
      const writtenAt = Date.now();
      await scanLands(3, 'scan #3 from the new folder');
      expect(Date.now() - writtenAt).toBeLessThanOrEqual(5_000);
      const history = await hz.client.getMap<string, string>(config.hzHistoryMap);
      await eventually('scan #2 in history', async () => ((await history.containsKey('000002')) ? true : undefined), 5_000);
      const after = await activeBridge(env, [child]);
      expect(after.hb.generation).toBe(before.hb.generation);
      const out = await said('watching again', 'the line saying so');
      expect(out).toContain('was replaced by another folder');
      expect(out).not.toContain('bridge crashed');
    } finally {
      await hz.shutdown();
      await latest.close();
    }
  });

  it('removed and not made again: the bridge makes it, as at start, and the run goes on', async () => {
    const { env, child, latest, scanLands, said } = await bridgeThatPushedScan1();
    try {
      const before = await activeBridge(env, [child]);
      rmSync(env.ARROW_DIR!, { recursive: true });
      await said('watching again', 'the folder made again');
      writeScanFile(env.ARROW_DIR!, 2);
      await scanLands(2);
      expect((await activeBridge(env, [child])).hb.generation).toBe(before.hb.generation);
      expect(child.output()).toContain('is gone');
      expect(child.output()).not.toContain('bridge crashed');
    } finally {
      await latest.close();
    }
  });

  it('removed, and made again by whoever removed it after the bridge noticed: the bridge leaves them a moment to do it', async () => {
    const { env, child, latest, scanLands, said } = await bridgeThatPushedScan1();
    try {
      rmSync(env.ARROW_DIR!, { recursive: true });
      await said('is gone', 'the bridge noticing');
      // A plain mkdir, as a person or the scanner would make it: it fails if the bridge made it first.
      mkdirSync(env.ARROW_DIR!);
      writeScanFile(env.ARROW_DIR!, 2);
      await scanLands(2);
      expect(child.output()).not.toContain('bridge crashed');
    } finally {
      await latest.close();
    }
  });
});

describe('the bridge job in Bull Board', () => {
  it('carries the bridge log lines as its log and the live stats as its progress', async () => {
    const env = fastEnv();
    const child = spawnRoles(['bridge'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const queue = new Queue(QUEUES.bridge, { connection: redis, prefix: config.queuePrefix });
    try {
      await activeBridge(env, [child]);
      writeScanFile(env.ARROW_DIR!, 7);
      const job = await eventually('progress showing the push', async () => {
        const [j] = await queue.getJobs(['active']);
        return j && (j.progress as { lastScan?: number }).lastScan === 7 ? j : undefined;
      });
      expect(job.progress).toMatchObject({ pushed: 1, lastScan: 7, newestOnDisk: 7, rejected: 0, hazelcastConnected: true });
      const { logs } = await queue.getJobLogs(job.id!);
      expect(logs.some((l) => /watching .* as bridge/.test(l))).toBe(true);
      expect(logs.some((l) => /pushed scan #7 \(4 assets\) in \d+ ms/.test(l))).toBe(true);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});

describe('restart jobs', () => {
  it('confirm a new bridge generation', async () => {
    const env = fastEnv();
    spawnRoles(['worker'], env);
    const bridge = spawnRoles(['bridge'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const queue = openJobQueue('restart-bridge', redis, config, testLog);
    try {
      const before = (await activeBridge(env, [bridge])).hb.generation;
      const { id } = await enqueueRestart(queue, { reason: 'test', requestedBy: 'test' });
      const job = await finished(queue, id);
      expect((job.returnvalue as { generation: number }).generation).toBeGreaterThan(before);
      expect(Number(await redis.get(keys(config.queuePrefix).restarts))).toBe(1);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('count a restart only when a bridge ran before: the first start is not one', async () => {
    const env = fastEnv();
    spawnRoles(['worker'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const queue = openJobQueue('restart-bridge', redis, config, testLog);
    try {
      const { id } = await enqueueRestart(queue, { reason: 'test', requestedBy: 'test' });
      // The restart is under way, waiting for a bridge, before the first bridge worker starts.
      await eventually('the restart attempt running', async () => ((await (await queue.getJob(id))?.getState()) === 'active' ? true : undefined));
      spawnRoles(['bridge'], env);
      const job = await finished(queue, id);
      expect((job.returnvalue as { generation: number }).generation).toBe(1);
      expect(await redis.get(keys(config.queuePrefix).restarts)).toBeNull();
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('fail three times, 5 s apart, and then show as failed', async () => {
    const env = fastEnv({ RESTART_BACKOFF_MS: '5000', RESTART_CONFIRM_MS: '500', RESTART_ATTEMPTS: '3' });
    spawnRoles(['worker'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const queue = openJobQueue('restart-bridge', redis, config, testLog);
    try {
      // No bridge worker runs anywhere: no restart can be confirmed.
      const { id } = await enqueueRestart(queue, { reason: 'test', requestedBy: 'test' });
      const job = await failedForGood(queue, id);
      expect(job.attemptsMade).toBe(3);
      const { logs } = await queue.getJobLogs(id);
      const starts = logs.filter((l) => / started at /.test(l)).map((l) => Date.parse(/started at ([\d\-T:.]+Z)/.exec(l)![1]!));
      const ends = logs.filter((l) => / failed at /.test(l)).map((l) => Date.parse(/failed at ([\d\-T:.]+Z)/.exec(l)![1]!));
      expect(starts).toHaveLength(3);
      expect(ends).toHaveLength(3);
      for (let i = 1; i < 3; i++) {
        expect(starts[i]! - ends[i - 1]!).toBeGreaterThanOrEqual(4900);
        expect(starts[i]! - ends[i - 1]!).toBeLessThan(8000);
      }
      // The worker records the failure once BullMQ has marked the job failed: a moment after.
      const last = await eventually(
        'the last restart recorded as failed',
        async () => {
          const v = await redis.get(keys(config.queuePrefix).lastRestart);
          const parsed = v === null ? null : (JSON.parse(v) as { state: string; jobId: string });
          return parsed?.state === 'failed' ? parsed : undefined;
        },
        5_000,
      );
      expect(last).toMatchObject({ state: 'failed', jobId: id });
      // And the status says so: down because the restart failed, an alert rather than another restart.
      const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
      try {
        const health = await runHealthCheck({ config, redis, hazelcast: hz, log: testLog });
        expect(health).toMatchObject({ status: 'down', cause: 'restart_failed', action: 'alert' });
      } finally {
        await hz.shutdown();
      }
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});
