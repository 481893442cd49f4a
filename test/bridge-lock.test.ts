/**
 * The bridge job follows its lock (issue 8, item 4), on real processes: a bridge process frozen
 * (SIGSTOP) past BRIDGE_LOCK_MS, its event loop and every thread with it, as a process blocked
 * by a long read or a swapped-out machine would be. When it wakes it writes nothing until Redis
 * has answered: a standby that took the job meanwhile keeps it, and the woken one writes nothing
 * more; a job nobody took is this process's again. Either way it is active with a lock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Queue, type Job } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { resolveConfig } from '../src/config.js';
import { QUEUES } from '../src/jobs/table.js';
import { JobLock } from '../src/jobs/bridge-lock.js';
import { LeaseWorker, LockRenewals } from '../src/jobs/lease-worker.js';
import { sleep } from '../src/time.js';
import { eventually, killChildren, spawnRoles, testConfig, writeScanFile } from './helpers.js';
import { activeBridge, fastEnv, latestOf, pushedByAnother } from './bridge-roles.js';

afterEach(killChildren);

const LOCK_MS = 3000;
const LOST = 'writes nothing more and stops';
const TOOK_BACK = "no other worker had taken the job since: it is this worker's again";

/** The bridge queue and what a test asks of it: the one job, its state, whether a lock holds it. */
function bridgeQueue(env: Record<string, string>) {
  const config = resolveConfig(env);
  const redis = createRedis(config);
  const queue = new Queue(QUEUES.bridge, { connection: redis, prefix: config.queuePrefix });
  return {
    redis,
    async job() {
      const [job] = await queue.getJobs(['active', 'waiting']);
      if (!job) return undefined;
      // BullMQ keeps a job's lock beside the job (`<job key>:lock`); it offers no getter for it.
      const locked = (await redis.exists(queue.toKey(`${job.id}:lock`))) === 1;
      return { id: job.id!, state: await job.getState(), locked };
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
  it('alone: on waking it writes nothing until Redis answers: it takes its lapsed lock back (nobody took the job) or the job again from the queue; the job is active with a lock again', async () => {
    const env = fastEnv({ BRIDGE_LOCK_MS: String(LOCK_MS) });
    const child = spawnRoles(['bridge'], env);
    const latest = await latestOf(env);
    const q = bridgeQueue(env);
    try {
      const first = await activeBridge(env, [child]);
      writeScanFile(env.ARROW_DIR!, 1);
      await eventually('scan #1 pushed', async () => ((await latest.get())?.scan_number === 1 ? true : undefined));
      const before = (await q.job())!;
      expect(before).toMatchObject({ state: 'active', locked: true });

      child.signal('SIGSTOP');
      await eventually('the frozen bridge’s lock to lapse', async () => ((await q.job())?.locked === false ? true : undefined), 3 * LOCK_MS);
      // Seen when it wakes: the old run must not push it, a run under the job taken again must.
      writeScanFile(env.ARROW_DIR!, 2);
      const frozenOut = child.output().length;
      child.signal('SIGCONT');

      await eventually(
        'the job active with a lock again',
        async () => {
          const j = await q.job();
          return j?.state === 'active' && j.locked ? true : undefined;
        },
        15_000,
      );
      await eventually('scan #2 pushed', async () => ((await latest.get())?.scan_number === 2 ? true : undefined), 15_000);
      // The bridge logs the push after Hazelcast answered it, so the line may come a moment after the value.
      await eventually('the line for scan #2', () => (lineAt(child.output(), 'pushed scan #2', frozenOut) > 0 ? true : undefined), 5_000);
      const out = child.output();
      const pushed2 = lineAt(out, 'pushed scan #2', frozenOut);
      // Which comes first on waking is a race of two timers: BullMQ's renewal (it takes the lapsed
      // lock back: nobody took the job while the only worker was frozen) or its stalled check (the
      // job goes back to waiting, the lock is lost, and the job is taken again).
      const tookBackAt = lineAt(out, TOOK_BACK, frozenOut);
      const lostAt = lineAt(out, LOST, frozenOut);
      expect(tookBackAt >= 0 || lostAt >= 0).toBe(true);
      const facts = await readBridgeFacts(q.redis, env.QUEUE_PREFIX!);
      if (lostAt >= 0) {
        // #2 is pushed by a new run under the job taken again, never by the run that lost the lock.
        const newRun = lineAt(out, 'watching ', lostAt);
        expect(newRun).toBeGreaterThan(lostAt);
        expect(pushed2).toBeGreaterThan(newRun);
        expect(lineAt(out.slice(frozenOut, lostAt), 'pushed scan')).toBe(-1);
        expect(facts.heartbeat?.generation).toBeGreaterThan(first.hb.generation);
      } else {
        // Nothing is written before Redis has said the lock is this run's again.
        expect(pushed2).toBeGreaterThan(tookBackAt);
        expect(lineAt(out.slice(frozenOut, tookBackAt), 'pushed scan')).toBe(-1);
        expect(facts.heartbeat?.generation).toBe(first.hb.generation);
      }

      writeScanFile(env.ARROW_DIR!, 3);
      await eventually('scan #3 pushed', async () => ((await latest.get())?.scan_number === 3 ? true : undefined), 10_000);
      expect(await q.job()).toMatchObject({ state: 'active', locked: true });
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
      expect(await q.job()).toMatchObject({ state: 'active', locked: true });
      expect((await readBridgeFacts(q.redis, env.QUEUE_PREFIX!)).heartbeat?.pid).toBe(standby.pid);
    } finally {
      await q.close();
      await latest.close();
    }
  }, 90_000);
});

describe('the lock as a lease', () => {
  it("BullMQ's renewals keep it: for three lock durations every write goes ahead, and the lock is never confirmed by hand", async () => {
    const config = testConfig();
    const lockMs = 1000;
    const redis = createRedis(config);
    const queue = new Queue('lease', { connection: redis, prefix: config.queuePrefix });
    const renewals = new LockRenewals();
    const samples: Array<'now' | 'waits'> = [];
    let confirmations = 0;
    let renewalsSeen = 0;
    const worker = new LeaseWorker(
      renewals,
      redis,
      'lease',
      async (job: Job, token?: string) => {
        const lock = new JobLock({
          extend: () => (confirmations++, renewals.reclaim(job, token!, lockMs)),
          lockMs,
          follow: (r) => renewals.follow(job, (until, reclaimed) => (renewalsSeen++, r(until, reclaimed))),
          say: () => undefined,
        });
        await lock.confirm();
        const end = performance.now() + 3 * lockMs;
        while (performance.now() < end) {
          samples.push(lock.gate() === undefined ? 'now' : 'waits');
          await sleep(50);
        }
        lock.close();
      },
      { connection: createRedis(config), prefix: config.queuePrefix, lockDuration: lockMs },
    );
    try {
      const job = await queue.add('x', {});
      await eventually('the job done', async () => ((await job.getState()) === 'completed' ? true : undefined), 15_000);
      expect(samples.length).toBeGreaterThan(40);
      expect(samples.filter((x) => x !== 'now')).toEqual([]);
      // Only the confirmation when the job was taken: every later lease came from BullMQ's renewals.
      expect(confirmations).toBe(1);
      expect(renewalsSeen).toBeGreaterThanOrEqual(4);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
