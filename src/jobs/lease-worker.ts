/**
 * The bridge worker's side of the bridge lock: who hears of each renewal, and taking back a lock
 * that lapsed while nobody else took the job (a Redis failover outlasting BRIDGE_LOCK_MS).
 */
import { Worker } from 'bullmq';
import type { RedisConnection } from '../connections.js';

/** A job this worker holds, as the processor running it registered it. */
interface Held {
  /** The job's attemptsStarted when this worker took it: a higher count means someone took it since. */
  attemptsStarted: number;
  renewed(until: number, reclaimed: boolean): void;
}

/**
 * Takes the lock back if it is still this token's, or if it lapsed and nobody took the job since:
 * the job is still in the active list and was not started again (its `ats`, BullMQ's count of
 * starts, is the one we took it with). Either way the lock is set to this token for ARGV[2] ms
 * and the job leaves the stalled set, as BullMQ's own extendLock does. 1: extended; 2: taken back; 0: not ours.
 * KEYS: lock, active, stalled, job hash. ARGV: token, duration, job id, attemptsStarted.
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
return 0`;

/** Who wants to hear of the renewals of which job's lock (one listener per job), and how to take a lock back. */
export class LockRenewals {
  private readonly held = new Map<string, Held>();
  private reclaimer: ((jobId: string, token: string, durationMs: number, attemptsStarted: number) => Promise<number>) | undefined;

  /** Tells `renewed` of every renewal of `jobId`'s lock that succeeds; returns the unsubscribe. */
  follow(jobId: string, attemptsStarted: number, renewed: (until: number, reclaimed: boolean) => void): () => void {
    const h: Held = { attemptsStarted, renewed };
    this.held.set(jobId, h);
    return () => {
      if (this.held.get(jobId) === h) this.held.delete(jobId);
    };
  }

  renewed(jobId: string, until: number, reclaimed = false): void {
    this.held.get(jobId)?.renewed(until, reclaimed);
  }

  attemptsStarted(jobId: string): number | undefined {
    return this.held.get(jobId)?.attemptsStarted;
  }

  /** Extends the lock if it is `token`'s (1), or takes it back if it lapsed and nobody took the job since (2); 0: not ours. */
  reclaim(jobId: string, token: string, durationMs: number, attemptsStarted: number): Promise<number> {
    if (!this.reclaimer) return Promise.reject(new Error('no bridge worker is running to reach Redis'));
    return this.reclaimer(jobId, token, durationMs, attemptsStarted);
  }

  /** Set by the LeaseWorker: its connection and BullMQ's key names. */
  useReclaimer(r: (jobId: string, token: string, durationMs: number, attemptsStarted: number) => Promise<number>): void {
    this.reclaimer = r;
  }
}

/**
 * A BullMQ worker that notes when each lock renewal was sent. Redis sets the lock's expiry when
 * the renewal arrives, so a lock renewed by a call sent at `t` is this worker's until at least
 * `t + duration`, however long the answer takes to be read (an event loop blocked meanwhile).
 * A renewal BullMQ finds failed is tried once more as a reclaim: a lock that lapsed while Redis
 * failed over, on a job nobody took since, is taken back rather than given up.
 */
export class LeaseWorker<D> extends Worker<D> {
  constructor(
    private readonly renewals: LockRenewals,
    /** For reclaims: a connection of ours (BullMQ's own client is not ioredis's API). */
    private readonly redis: RedisConnection,
    ...args: ConstructorParameters<typeof Worker<D>>
  ) {
    super(...args);
    renewals.useReclaimer((jobId, token, durationMs, attemptsStarted) => this.reclaimLock(jobId, token, durationMs, attemptsStarted));
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
      const ats = this.renewals.attemptsStarted(id);
      const again = performance.now();
      if (ats !== undefined && (await this.reclaimLock(id, tokens[i]!, duration, ats)) > 0) this.renewals.renewed(id, again + duration, true);
      else lost.push(id);
    }
    return lost;
  }

  private async reclaimLock(jobId: string, token: string, durationMs: number, attemptsStarted: number): Promise<number> {
    // BullMQ's key names, from BullMQ: the lock key is the job's key with ':lock', as its extendLock has it.
    const keys = [`${this.toKey(jobId)}:lock`, this.keys.active!, this.keys.stalled!, this.toKey(jobId)];
    return Number(await this.redis.eval(RECLAIM, keys.length, ...keys, token, durationMs, jobId, attemptsStarted));
  }
}
