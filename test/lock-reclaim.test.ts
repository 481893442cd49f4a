/**
 * Taking back a bridge lock that lapsed (src/jobs/lease-worker.ts), on a real Redis with a real
 * BullMQ worker holding a job: a Redis failover that outlasts BRIDGE_LOCK_MS lets the lock key
 * expire while nobody could have taken the job. The lock is taken back only if nobody did.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Queue, type Job } from 'bullmq';
import { createRedis, type RedisConnection } from '../src/connections.js';
import { LeaseWorker, LockRenewals, type Reclaimed } from '../src/jobs/lease-worker.js';
import { eventually, testConfig } from './helpers.js';

const LOCK_MS = 60_000;

interface Held {
  job: Job;
  token: string;
}

let redis: RedisConnection;
let queue: Queue;
let worker: LeaseWorker<unknown>;
let renewals: LockRenewals;
let held: Held | undefined;
let release: () => void;
const renewed: Reclaimed[] = [];
const failed: string[] = [];

beforeEach(async () => {
  const config = testConfig();
  redis = createRedis(config);
  const name = `reclaim-${Math.random().toString(36).slice(2)}`;
  queue = new Queue(name, { connection: redis, prefix: config.queuePrefix });
  renewals = new LockRenewals();
  renewed.length = 0;
  failed.length = 0;
  held = undefined;
  const done = new Promise<void>((r) => (release = r));
  worker = new LeaseWorker(
    renewals,
    redis,
    name,
    async (job: Job, token?: string) => {
      const unfollow = renewals.follow(job, (_until, reclaimed) => renewed.push(reclaimed));
      held = { job, token: token! };
      await done;
      unfollow();
    },
    // No stalled checks and no renewals of BullMQ's own during a test: each step is the test's.
    { connection: createRedis(config), prefix: config.queuePrefix, lockDuration: LOCK_MS, skipStalledCheck: true, skipLockRenewal: true },
  );
  worker.on('lockRenewalFailed', (ids) => failed.push(...ids));
  await queue.add('bridge', {});
  await eventually('the job held by the worker', () => held);
});

afterEach(async () => {
  release();
  await worker.close();
  await queue.close();
});

/** BullMQ's keys of the held job (its lock: the job's key with ':lock', as BullMQ's extendLock has it). */
function keysOf(h: Held) {
  return { lock: queue.toKey(`${h.job.id}:lock`), job: queue.toKey(h.job.id!), active: queue.keys.active! };
}

describe('taking back a lapsed bridge lock', () => {
  it('a lock still ours is extended (1); a lapsed one on a job nobody took is taken back (2), and BullMQ renews it as its own', async () => {
    const h = held!;
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(1);
    await redis.del(keysOf(h).lock);
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(2);
    expect(await redis.get(keysOf(h).lock)).toBe(h.token);
    // The key is the one BullMQ locks with: its own extendLock finds it ours.
    expect(await h.job.extendLock(h.token, 5000)).toBe(1);
  });

  it('a lock another worker holds is not taken (0), nor one whose job was started again or moved off the active list', async () => {
    const h = held!;
    const k = keysOf(h);
    await redis.set(k.lock, 'another-token', 'PX', 5000);
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(0);
    expect(await redis.get(k.lock)).toBe('another-token');

    await redis.del(k.lock);
    await redis.hincrby(k.job, 'ats', 1);
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(0);
    await redis.hincrby(k.job, 'ats', -1);

    await redis.lrem(k.active, 0, h.job.id!);
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(0);
    expect(await redis.exists(k.lock)).toBe(0);
  });

  it("BullMQ's renewal of a lapsed lock takes it back instead of failing: no lockRenewalFailed, the follower hears 'taken back'", async () => {
    const h = held!;
    await redis.del(keysOf(h).lock);
    const lost = await worker.extendJobLocks([h.job.id!], [h.token], 5000);
    expect(lost).toEqual([]);
    expect(renewed).toEqual([2]);
    expect(failed).toEqual([]);
    expect(await redis.get(keysOf(h).lock)).toBe(h.token);

    // Taken by another meanwhile: the renewal fails, as BullMQ's does.
    await redis.set(keysOf(h).lock, 'another-token', 'PX', 5000);
    expect(await worker.extendJobLocks([h.job.id!], [h.token], 5000)).toEqual([h.job.id]);
  });
});
