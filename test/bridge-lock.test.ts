/**
 * The bridge follows its lease (issue 8, item 4; the lease in our own key since issue 23), on
 * real processes: a bridge process frozen (SIGSTOP) past BRIDGE_LOCK_MS, its event loop and every
 * thread with it, as a process blocked by a long read or a swapped-out machine would be. When it
 * wakes it writes nothing until Redis has answered: a standby that took the lease meanwhile keeps
 * it, and the woken one writes nothing more; a lease nobody took is this process's again, the
 * same run goes on, and the job shows it again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { resolveConfig } from '../src/config.js';
import { QUEUES } from '../src/jobs/table.js';
import { JobLock } from '../src/jobs/bridge-lock.js';
import { BridgeLease } from '../src/jobs/bridge-lease.js';
import type { BridgeJobData } from '../src/jobs/bridge-job.js';
import { keys } from '../src/keys.js';
import { sleep } from '../src/time.js';
import { eventually, killChildren, spawnRoles, testConfig, writeScanFile } from './helpers.js';
import { activeBridge, fastEnv, latestOf, pushedByAnother } from './bridge-roles.js';

afterEach(killChildren);

const LOCK_MS = 3000;
const LOST = 'writes nothing more and stops';
const TOOK_BACK = "nobody had taken a newer generation since: it is this process's again";

/** The bridge queue and the lease, as a test asks of them: the one job, its state and data; who holds the lease. */
function bridgeQueue(env: Record<string, string>) {
  const config = resolveConfig(env);
  const redis = createRedis(config);
  const queue = new Queue<BridgeJobData>(QUEUES.bridge, { connection: redis, prefix: config.queuePrefix });
  return {
    redis,
    async job() {
      const [job] = await queue.getJobs(['active', 'waiting']);
      if (!job) return undefined;
      return { id: job.id!, state: await job.getState(), data: job.data };
    },
    async lease() {
      const v = await redis.get(keys(config.queuePrefix).lease);
      return v === null ? null : (JSON.parse(v) as { pid: number; generation: number });
    },
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Position of the first line of `out` at or after `from` that contains `text`; -1 if none. */
function lineAt(out: string, text: string, from = 0): number {
  return out.indexOf(text, from);
}

describe('a bridge process frozen past BRIDGE_LOCK_MS', () => {
  it('alone: on waking it writes nothing until Redis answers, takes its lapsed lease back (nobody took a newer generation), and the same run goes on; the job shows it again', async () => {
    const env = fastEnv({ BRIDGE_LOCK_MS: String(LOCK_MS) });
    const child = spawnRoles(['bridge'], env);
    const latest = await latestOf(env);
    const q = bridgeQueue(env);
    try {
      const first = await activeBridge(env, [child]);
      writeScanFile(env.ARROW_DIR!, 1);
      await eventually('scan #1 pushed', async () => ((await latest.get())?.scan_number === 1 ? true : undefined));
      expect(await q.job()).toMatchObject({ state: 'active' });
      expect(await q.lease()).toMatchObject({ pid: child.pid, generation: first.hb.generation });

      child.signal('SIGSTOP');
      await eventually('the frozen bridge’s lease to lapse', async () => ((await q.lease()) === null ? true : undefined), 3 * LOCK_MS);
      // Seen when it wakes: pushed only once Redis said the lease is this run's again.
      writeScanFile(env.ARROW_DIR!, 2);
      const frozenOut = child.output().length;
      child.signal('SIGCONT');

      await eventually('scan #2 pushed', async () => ((await latest.get())?.scan_number === 2 ? true : undefined), 15_000);
      // The bridge logs the push after Hazelcast answered it, so the line may come a moment after the value.
      await eventually('the line for scan #2', () => (lineAt(child.output(), 'pushed scan #2', frozenOut) > 0 ? true : undefined), 5_000);
      const out = child.output();
      const tookBackAt = lineAt(out, TOOK_BACK, frozenOut);
      expect(tookBackAt).toBeGreaterThan(0);
      expect(lineAt(out.slice(frozenOut, tookBackAt), 'pushed scan')).toBe(-1);
      expect(lineAt(out, 'pushed scan #2', frozenOut)).toBeGreaterThan(tookBackAt);
      expect(lineAt(out, LOST, frozenOut)).toBe(-1);
      // The same run: same generation in the lease and the heartbeat.
      expect(await q.lease()).toMatchObject({ pid: child.pid, generation: first.hb.generation });
      expect((await readBridgeFacts(q.redis, env.QUEUE_PREFIX!)).heartbeat).toMatchObject({ generation: first.hb.generation, startedAt: first.hb.startedAt });

      writeScanFile(env.ARROW_DIR!, 3);
      await eventually('scan #3 pushed', async () => ((await latest.get())?.scan_number === 3 ? true : undefined), 10_000);
      // Its job lock lapsed with the freeze: the job went back to the queue, and the worker took it again to show the same run.
      await eventually(
        'the job active and showing the run',
        async () => {
          const j = await q.job();
          return j?.state === 'active' && j.data.live?.generation === first.hb.generation ? true : undefined;
        },
        15_000,
      );
    } finally {
      await q.close();
      await latest.close();
    }
  }, 60_000);

  it('with a standby: the standby takes over; the woken bridge writes nothing and stays a standby; one bridge writes', async () => {
    const env = fastEnv({ BRIDGE_LOCK_MS: String(LOCK_MS) });
    const children = [spawnRoles(['bridge'], env), spawnRoles(['bridge'], env)];
    const latest = await latestOf(env);
    const q = bridgeQueue(env);
    try {
      const first = await activeBridge(env, children);
      const standby = first.others[0]!;
      writeScanFile(env.ARROW_DIR!, 1);
      await eventually('scan #1 pushed', async () => ((await latest.get())?.scan_number === 1 ? true : undefined));
      // Its log line follows the value: wait for it, so it is not taken for a push after the freeze.
      await eventually('the line for scan #1', () => (lineAt(first.child.output(), 'pushed scan #1', 0) >= 0 ? true : undefined), 5_000);

      first.child.signal('SIGSTOP');
      const frozenOut = first.child.output().length;
      const taken = await pushedByAnother(latest, env, first.hb.id, 30_000);
      expect(taken.bridge_id).toContain(String(standby.pid));
      // Files keep arriving while it is frozen: it finds them waiting when it wakes.
      for (let n = 2000; n < 2005; n++) writeScanFile(env.ARROW_DIR!, n);
      first.child.signal('SIGCONT');
      // Scans go on: every one is pushed by the standby, none by the woken bridge.
      for (let n = 3000; n < 3010; n++) {
        writeScanFile(env.ARROW_DIR!, n);
        await eventually(
          `scan #${n} pushed`,
          async () => {
            const v = await latest.get();
            return v?.scan_number === n ? v : undefined;
          },
          10_000,
        ).then((v) => expect(v.bridge_id).toBe(taken.bridge_id));
      }
      expect(
        first.child
          .output()
          .slice(frozenOut)
          .match(/pushed scan #\d+/g) ?? [],
      ).toEqual([]);
      expect(lineAt(first.child.output(), LOST, frozenOut)).toBeGreaterThan(0);
      expect(first.child.proc.exitCode).toBeNull();
      expect(await q.job()).toMatchObject({ state: 'active' });
      const lease = await q.lease();
      expect(lease?.pid).toBe(standby.pid);
      expect(lease?.generation).toBeGreaterThan(first.hb.generation);
      expect((await readBridgeFacts(q.redis, env.QUEUE_PREFIX!)).heartbeat).toMatchObject({ pid: standby.pid, generation: lease?.generation });
    } finally {
      await q.close();
      await latest.close();
    }
  }, 90_000);
});

describe('the lease renews itself', () => {
  it('for three lease durations every write goes ahead, on its own renewals, and the lease stays in Redis', async () => {
    const config = testConfig();
    const lockMs = 1000;
    const redis = createRedis(config);
    const lease = new BridgeLease(redis, config.queuePrefix, lockMs);
    let renewals = 0;
    try {
      expect(await lease.acquire()).toMatchObject({ taken: { pid: process.pid } });
      const lock = new JobLock({
        extend: () => (renewals++, lease.renew()),
        lockMs,
        renewEveryMs: lockMs / 4,
        heldSince: lease.takenAt,
        say: () => undefined,
      });
      const samples: Array<'now' | 'waits'> = [];
      const end = performance.now() + 3 * lockMs;
      while (performance.now() < end) {
        samples.push(lock.gate() === undefined ? 'now' : 'waits');
        await sleep(50);
      }
      lock.close();
      expect(samples.length).toBeGreaterThan(40);
      expect(samples.filter((x) => x !== 'now')).toEqual([]);
      expect(renewals).toBeGreaterThanOrEqual(8);
      expect(await redis.pttl(keys(config.queuePrefix).lease)).toBeGreaterThan(0);
    } finally {
      await lease.release();
      redis.disconnect();
    }
  });
});
