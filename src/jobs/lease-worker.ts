/**
 * The bridge worker's side of the bridge lock: who hears of each renewal, taking back a lock that
 * lapsed while nobody else took the job (a Redis failover outlasting BRIDGE_LOCK_MS), and
 * re-creating a job that Redis lost altogether (restarted empty) while its holder ran on.
 */
import { optsEncodeMap, Worker, type Job } from 'bullmq';
import type { RedisConnection } from '../connections.js';

/** What a reclaim did: 0 the lock is not ours; 1 still ours, extended; 2 lapsed and taken back; 3 the job was gone from Redis and is re-created as ours. */
export type Reclaimed = 0 | 1 | 2 | 3;

/** A job this worker holds, as the processor running it registered it. */
interface Held {
  /** As the worker took it: its attemptsStarted says who took it last, and it is what a reclaim writes back. */
  job: Job;
  renewed(until: number, reclaimed: Reclaimed): void;
}

/**
 * Takes the lock back if it is still this token's, or if it lapsed and nobody took the job since:
 * the job is still in the active list and was not started again (its `ats`, BullMQ's count of
 * starts, is the one we took it with). Either way the lock is set to this token for ARGV[2] ms
 * and the job leaves the stalled set, as BullMQ's own extendLock does.
 *
 * If Redis lost the job with its lock (restarted empty) and holds no other job of the queue
 * (waiting, paused, active, delayed or prioritized: a job another worker took, or a standby
 * added, would be there), the job is written back as this worker's active one: its hash (the
 * fields from ARGV[6] on), its place in the active list, its lock, its deduplication key (ARGV[5]
 * says whether it has one) and the queue's id counter at least its id, as BullMQ numbers new jobs
 * from that counter without checking that the id is free.
 * 1: extended; 2: taken back; 3: re-created; 0: not ours.
 * KEYS: lock, active, stalled, job hash, wait, paused, delayed, prioritized, id counter, deduplication key.
 * ARGV: token, duration, job id, attemptsStarted, has deduplication ('1' or ''), hash fields and values.
 */
const RECLAIM = `
local lock = redis.call('GET', KEYS[1])
local held = lock == ARGV[1]
if held or (not lock and redis.call('LPOS', KEYS[2], ARGV[3]) and redis.call('HGET', KEYS[4], 'ats') == ARGV[4]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('SREM', KEYS[3], ARGV[3])
  if held then return 1 end
  return 2
end
if lock or #ARGV < 7 or redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if redis.call('LLEN', KEYS[2]) + redis.call('LLEN', KEYS[5]) + redis.call('LLEN', KEYS[6]) + redis.call('ZCARD', KEYS[7]) + redis.call('ZCARD', KEYS[8]) > 0 then return 0 end
redis.call('HSET', KEYS[4], unpack(ARGV, 6))
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if string.match(ARGV[3], '^%d+$') and tonumber(redis.call('GET', KEYS[9]) or '0') < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[9], ARGV[3])
end
if ARGV[5] == '1' then redis.call('SET', KEYS[10], ARGV[3]) end
return 3`;

/**
 * The job's hash as BullMQ's scripts write it (storeJob when it is added, prepareJobForProcessing
 * when a worker takes it), from this process's copy of the job: its data as last updated here
 * (the bridge's live stats, a heartbeat old at most), and not the parts BullMQ keeps beside the
 * hash (its log). Jobs with a parent or a deduplication ttl are not written back (reclaimLock:
 * the bridge job has neither).
 */
function jobHash(job: Job): string[] {
  const opts = Object.fromEntries(Object.entries(job.opts).map(([k, v]) => [(optsEncodeMap as Record<string, string>)[k] ?? k, v as unknown]));
  const fields: Record<string, string | number | undefined> = {
    name: job.name,
    data: JSON.stringify(job.data ?? {}),
    opts: JSON.stringify(opts),
    timestamp: job.timestamp,
    delay: job.delay,
    priority: job.priority,
    deid: job.deduplicationId,
    rjk: job.repeatJobKey,
    processedOn: job.processedOn,
    pb: job.processedBy,
    ats: job.attemptsStarted,
    // Written by BullMQ only once they are not zero.
    atm: job.attemptsMade || undefined,
    stc: job.stalledCounter || undefined,
    progress: job.progress === 0 ? undefined : JSON.stringify(job.progress),
  };
  return Object.entries(fields).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
}

/** Who wants to hear of the renewals of which job's lock (one listener per job), and how to take a lock back. */
export class LockRenewals {
  private readonly held = new Map<string, Held>();
  private reclaimer: ((job: Job, token: string, durationMs: number) => Promise<Reclaimed>) | undefined;

  /**
   * Tells `renewed` of every renewal of `job`'s lock that succeeds (1, or how it was reclaimed);
   * returns the unsubscribe. The job, as the worker took it, is what a reclaim writes back if Redis lost it.
   */
  follow(job: Job, renewed: (until: number, reclaimed: Reclaimed) => void): () => void {
    const id = job.id!;
    const h: Held = { job, renewed };
    this.held.set(id, h);
    return () => {
      if (this.held.get(id) === h) this.held.delete(id);
    };
  }

  renewed(jobId: string, until: number, reclaimed: Reclaimed = 1): void {
    this.held.get(jobId)?.renewed(until, reclaimed);
  }

  /** A followed job whose renewal failed: its lock is lost, and no renewal of it is to come. */
  lost(jobId: string): void {
    this.held.delete(jobId);
  }

  /** Whether this worker runs a job whose lock has not been found lost. */
  holding(): boolean {
    return this.held.size > 0;
  }

  /** Extends the lock if it is `token`'s (1), takes it back if it lapsed and nobody took the job since (2), re-creates the job if Redis lost it (3); 0: not ours. */
  reclaim(job: Job, token: string, durationMs: number): Promise<Reclaimed> {
    if (!this.reclaimer) return Promise.reject(new Error('no bridge worker is running to reach Redis'));
    return this.reclaimer(job, token, durationMs);
  }

  /** {@link reclaim} for a followed job, by its id; 0 if this worker does not follow it. */
  reclaimFollowed(jobId: string, token: string, durationMs: number): Promise<Reclaimed> {
    const h = this.held.get(jobId);
    return h ? this.reclaim(h.job, token, durationMs) : Promise.resolve(0);
  }

  /** Set by the LeaseWorker: its connection and BullMQ's key names. */
  useReclaimer(r: (job: Job, token: string, durationMs: number) => Promise<Reclaimed>): void {
    this.reclaimer = r;
  }
}

/**
 * A BullMQ worker that notes when each lock renewal was sent. Redis sets the lock's expiry when
 * the renewal arrives, so a lock renewed by a call sent at `t` is this worker's until at least
 * `t + duration`, however long the answer takes to be read (an event loop blocked meanwhile).
 * A renewal BullMQ finds failed is tried once more as a reclaim: a lock that lapsed while Redis
 * failed over, on a job nobody took since, is taken back rather than given up, and a job Redis
 * lost altogether is written back.
 */
export class LeaseWorker<D> extends Worker<D> {
  constructor(
    private readonly renewals: LockRenewals,
    /** For reclaims: a connection of ours (BullMQ's own client is not ioredis's API). */
    private readonly redis: RedisConnection,
    ...args: ConstructorParameters<typeof Worker<D>>
  ) {
    super(...args);
    renewals.useReclaimer((job, token, durationMs) => this.reclaimLock(job, token, durationMs));
  }

  override async extendJobLocks(jobIds: string[], tokens: string[], duration: number): Promise<string[]> {
    const sentAt = performance.now();
    const failed = await super.extendJobLocks(jobIds, tokens, duration);
    const lost: string[] = [];
    for (const [i, id] of jobIds.entries()) {
      if (!failed.includes(id)) {
        this.renewals.renewed(id, sentAt + duration);
        continue;
      }
      const again = performance.now();
      const reclaimed = await this.renewals.reclaimFollowed(id, tokens[i]!, duration);
      if (reclaimed > 0) this.renewals.renewed(id, again + duration, reclaimed);
      else {
        this.renewals.lost(id);
        lost.push(id);
      }
    }
    return lost;
  }

  private async reclaimLock(job: Job, token: string, durationMs: number): Promise<Reclaimed> {
    const id = job.id!;
    // BullMQ's key names, from BullMQ: the lock key is the job's key with ':lock', as its extendLock has it;
    // the deduplication key is `de` with ':' and the id, as its Job.addJob has it.
    const k = this.keys;
    const keys = [
      `${this.toKey(id)}:lock`,
      k.active!,
      k.stalled!,
      this.toKey(id),
      k.wait!,
      k.paused!,
      k.delayed!,
      k.prioritized!,
      k.id!,
      `${k.de!}:${job.deduplicationId ?? ''}`,
    ];
    const dedup = job.deduplicationId === undefined ? '' : '1';
    const hash = job.parentKey || job.opts.deduplication?.ttl ? [] : jobHash(job);
    return Number(await this.redis.eval(RECLAIM, keys.length, ...keys, token, durationMs, id, job.attemptsStarted, dedup, ...hash)) as Reclaimed;
  }
}
