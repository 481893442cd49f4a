import { Worker, type Job } from 'bullmq';
import { WriteRefusedError, type WriteGate } from '../bridge/store.js';

/** Who wants to hear of the renewals of which job's lock (one listener per job). */
export class LockRenewals {
  private readonly listeners = new Map<string, (until: number) => void>();

  /** Tells `renewed` of every renewal of `jobId`'s lock that succeeds; returns the unsubscribe. */
  follow(jobId: string, renewed: (until: number) => void): () => void {
    this.listeners.set(jobId, renewed);
    return () => {
      if (this.listeners.get(jobId) === renewed) this.listeners.delete(jobId);
    };
  }

  renewed(jobId: string, until: number): void {
    this.listeners.get(jobId)?.(until);
  }
}

/**
 * A BullMQ worker that notes when each lock renewal was sent. Redis sets the lock's expiry when
 * the renewal arrives, so a lock renewed by a call sent at `t` is this worker's until at least
 * `t + duration`, however long the answer takes to be read (an event loop blocked meanwhile).
 */
export class LeaseWorker<D> extends Worker<D> {
  constructor(
    private readonly renewals: LockRenewals,
    ...args: ConstructorParameters<typeof Worker<D>>
  ) {
    super(...args);
  }

  override async extendJobLocks(jobIds: string[], tokens: string[], duration: number): Promise<string[]> {
    const sentAt = performance.now();
    const failed = await super.extendJobLocks(jobIds, tokens, duration);
    for (const id of jobIds) if (!failed.includes(id)) this.renewals.renewed(id, sentAt + duration);
    return failed;
  }
}

export interface JobLockOptions {
  job: Pick<Job, 'extendLock'>;
  token: string;
  lockMs: number;
  /** Tells of each renewal of this lock that succeeded (LockRenewals.follow, fed by a LeaseWorker). */
  follow(renewed: (until: number) => void): () => void;
  /** Said once when the lock is found lost, and once when Redis does not answer a confirmation. */
  say(level: 'warn' | 'error', message: string): void;
}

/**
 * The bridge job's lock as a lease. Writes go on while the last renewal (BullMQ's, or a
 * confirmation of ours) says the lock is still this worker's. Past that, a write first confirms
 * the lock in Redis (`extendLock`): a confirmed lock writes on; a lock that is gone or another
 * worker's is lost for good, and every write is refused from then on. So a process that was
 * frozen past BRIDGE_LOCK_MS, whose job a standby may hold now, writes nothing when it wakes.
 *
 * Redis not answering a confirmation within a quarter of the lock is an outage, not a loss:
 * writes go on (a Redis outage must not stop the data), and the confirmation still pending
 * decides when Redis answers. Not sooner, even when the connection is down: a process that wakes
 * from a freeze finds its connection reconnecting, and writing on at once would put it beside the
 * standby that took its job.
 */
export class JobLock {
  /** performance.now() until which the lock is surely ours. */
  private until = 0;
  private lostWhy: string | null = null;
  private readonly lostListeners: Array<(why: string) => void> = [];
  /** A confirmation sent and not answered yet. */
  private pending: Promise<void> | undefined;
  /** Redis did not answer the last confirmation in time: writes go on without one. */
  private redisSilent = false;
  private readonly unfollow: () => void;
  private readonly confirmWaitMs: number;

  constructor(private readonly o: JobLockOptions) {
    this.confirmWaitMs = Math.max(100, Math.floor(o.lockMs / 4));
    this.unfollow = o.follow((until) => {
      if (this.lostWhy === null) this.until = Math.max(this.until, until);
    });
  }

  /** The gate the bridge's stores ask before each write (store.ts). */
  readonly gate: WriteGate = () => {
    if (this.lostWhy !== null) return Promise.reject(new WriteRefusedError(this.lostWhy));
    if (performance.now() < this.until) return undefined;
    const answer = this.confirm();
    if (this.redisSilent) return undefined;
    return new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => {
        if (this.lostWhy !== null) return fail(new WriteRefusedError(this.lostWhy));
        this.silent(`did not answer within ${this.confirmWaitMs} ms`);
        ok();
      }, this.confirmWaitMs);
      void answer.then(() => {
        clearTimeout(timer);
        if (this.lostWhy !== null) fail(new WriteRefusedError(this.lostWhy));
        else ok();
      });
    });
  };

  /** Asks Redis whether the lock is still ours, extending it if so. Resolves when answered. */
  confirm(): Promise<void> {
    if (this.lostWhy !== null) return Promise.resolve();
    this.pending ??= (async () => {
      const sentAt = performance.now();
      try {
        const ok = await this.o.job.extendLock(this.o.token, this.o.lockMs);
        this.redisSilent = false;
        if (ok === 1) this.until = Math.max(this.until, sentAt + this.o.lockMs);
        else this.lose('the bridge lock expired or another worker holds it now');
      } catch (err) {
        // Redis refused the call (it is down or failing over): as good as no answer.
        this.silent(`refused the call (${err instanceof Error ? err.message : String(err)})`);
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  /** Redis gives no answer: writes go on without one; said once until Redis answers again. */
  private silent(how: string): void {
    if (this.redisSilent) return;
    this.redisSilent = true;
    this.o.say('warn', `Redis ${how}: the bridge lock cannot be confirmed; writing on, and stopping if Redis then says the lock is lost`);
  }

  /** The lock is not ours any more: refuse every write from now on. */
  lose(why: string): void {
    if (this.lostWhy !== null) return;
    this.lostWhy = why;
    this.until = 0;
    this.o.say('error', `${why}: this bridge writes nothing more and stops; the job is taken again from the queue`);
    for (const l of this.lostListeners.splice(0)) l(why);
  }

  /** Null while the lock is ours. */
  get lost(): string | null {
    return this.lostWhy;
  }

  /** Calls `listener` once the lock is lost (at once if it is); returns the unsubscribe. */
  onLost(listener: (why: string) => void): () => void {
    if (this.lostWhy !== null) {
      listener(this.lostWhy);
      return () => undefined;
    }
    this.lostListeners.push(listener);
    return () => {
      const i = this.lostListeners.indexOf(listener);
      if (i >= 0) this.lostListeners.splice(i, 1);
    };
  }

  close(): void {
    this.unfollow();
  }
}
