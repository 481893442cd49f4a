/**
 * Writing back a bridge job that Redis lost (src/jobs/lease-worker.ts), on a Redis of this test's
 * own (it is flushed, as a Redis restarted empty is) with a real BullMQ worker holding a job of
 * the bridge queue's options: the holder's next renewal re-creates the job as its own, unless the
 * queue holds another job by then.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Job } from 'bullmq';
import { createRedis, type RedisConnection } from '../src/connections.js';
import { LeaseWorker, LockRenewals, type Reclaimed } from '../src/jobs/lease-worker.js';
import { JOBS, openJobQueue, type JobQueue } from '../src/jobs/table.js';
import { ensureBridgeJob } from '../src/jobs/restart-bridge.js';
import type { BridgeJobData } from '../src/jobs/bridge-job.js';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, testConfig, testLog } from './helpers.js';

const LOCK_MS = 60_000;

let server: Started;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server?.stop());

let redis: RedisConnection;
let queue: JobQueue<'bridge'>;
let worker: LeaseWorker<BridgeJobData>;
let renewals: LockRenewals;
let held: { job: Job<BridgeJobData>; token: string } | undefined;
let release: () => void;
const renewed: Reclaimed[] = [];

beforeEach(async () => {
  const config = testConfig({ REDIS_URL: server.address });
  redis = createRedis(config);
  queue = openJobQueue('bridge', redis, config, testLog);
  renewals = new LockRenewals();
  renewed.length = 0;
  held = undefined;
  const done = new Promise<void>((r) => (release = r));
  worker = new LeaseWorker<BridgeJobData>(
    renewals,
    redis,
    JOBS.bridge.queue,
    async (job: Job<BridgeJobData>, token?: string) => {
      const unfollow = renewals.follow(job, (_until, reclaimed) => renewed.push(reclaimed));
      held = { job, token: token! };
      await done;
      unfollow();
    },
    // No stalled checks and no renewals of BullMQ's own during a test: each step is the test's.
    { connection: createRedis(config), prefix: config.queuePrefix, lockDuration: LOCK_MS, skipStalledCheck: true, skipLockRenewal: true },
  );
  await ensureBridgeJob(queue, 'test');
  await eventually('the job held by the worker', () => held);
});

afterEach(async () => {
  release();
  await worker.close();
  await queue.close();
  redis.disconnect();
});

describe('a bridge job Redis lost', () => {
  it('is written back by the next renewal as it was: same id, active, locked by the same token; BullMQ then finishes it', async () => {
    const h = held!;
    const id = h.job.id!;
    // The live stats the bridge adds to the data are written back as last updated.
    await h.job.updateData({ requestedBy: 'test', live: { pushed: 7 } as BridgeJobData['live'] });
    const before = await redis.hgetall(queue.toKey(id));
    await redis.flushall();

    expect(await worker.extendJobLocks([id], [h.token], 5000)).toEqual([]);
    expect(renewed).toEqual([3]);
    expect(await redis.lrange(queue.keys.active!, 0, -1)).toEqual([id]);
    expect(await redis.get(queue.toKey(`${id}:lock`))).toBe(h.token);
    const after = await redis.hgetall(queue.toKey(id));
    const { opts: optsBefore, ...restBefore } = before;
    const { opts: optsAfter, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
    expect(JSON.parse(optsAfter!)).toEqual(JSON.parse(optsBefore!));
    const read = (await Job.fromId(queue, id))!;
    expect([read.name, read.data, read.opts, read.attemptsStarted]).toEqual([h.job.name, h.job.data, h.job.opts, h.job.attemptsStarted]);
    expect(await queue.getJobState(id)).toBe('active');

    // The bridge queue's adds are deduplicated to it again, as before Redis lost it.
    await ensureBridgeJob(queue, 'a standby');
    expect(await queue.getJobCounts('active', 'waiting')).toMatchObject({ active: 1, waiting: 0 });
    // A job numbered by BullMQ gets another id: the counter is at least this job's.
    expect(Number(await redis.get(queue.keys.id!))).toBeGreaterThanOrEqual(Number(id));
    const other = await queue.add('bridge', { requestedBy: 'test' }, { deduplication: undefined });
    expect(other.id).not.toBe(id);
    expect((await Job.fromId(queue, id))!.data).toEqual(h.job.data);

    // BullMQ's own renewal finds the lock ours, and its worker completes the job.
    expect(await h.job.extendLock(h.token, 5000)).toBe(1);
    release();
    await eventually('the job completed', async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined));
  });

  it('is not written back once another job waits (a standby added one first): the renewal fails, as before', async () => {
    const h = held!;
    const id = h.job.id!;
    await redis.flushall();
    await ensureBridgeJob(queue, 'a standby');

    expect(await worker.extendJobLocks([id], [h.token], 5000)).toEqual([id]);
    expect(renewed).toEqual([]);
    expect(renewals.holding()).toBe(false);
    expect(await redis.exists(queue.toKey(`${id}:lock`))).toBe(0);
    expect(await queue.getJobCounts('active', 'waiting')).toMatchObject({ active: 0, waiting: 1 });
  });

  it('is not written back while another worker holds a job of the queue', async () => {
    const h = held!;
    await redis.flushall();
    await redis.lpush(queue.keys.active!, 'another');
    expect(await renewals.reclaim(h.job, h.token, 5000)).toBe(0);
    expect(await redis.exists(queue.toKey(h.job.id!))).toBe(0);
  });
});
