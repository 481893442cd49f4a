import { WriteRefusedError, type WriteGate } from '../bridge/hazelcast/store.js';
import { sleep } from '../time.js';
import { FreezeWatch } from './freeze-watch.js';
import type { Reclaimed } from './lease-worker.js';

export interface JobLockOptions {
  /** Extends the lock for `lockMs` if it is still ours, or takes it back (LockRenewals.reclaim): 1 extended, 2 taken back, 3 the job re-created, 0 not ours. */
  extend(): Promise<Reclaimed>;
  lockMs: number;
  /** Tells of each renewal of this lock that succeeded, and how (LockRenewals.follow, fed by a LeaseWorker). */
  follow(renewed: (until: number, reclaimed: Reclaimed) => void): () => void;
  /** Said once when the lock is found lost, and once when Redis does not answer a confirmation. */
  say(level: 'info' | 'warn' | 'error', message: string): void;
}

/** What Redis said to a confirmation: the lock is ours, it is lost, or nothing (down, failing over, refused). */
type Answer = 'ours' | 'lost' | 'silent';

/** How long a frozen process's write waits between confirmations Redis does not answer. */
const CONFIRM_AGAIN_MS = 250;

/**
 * The bridge job's lock as a lease. Writes go on while the last renewal (BullMQ's, or a
 * confirmation of ours) says the lock is still this worker's. Past that, a write asks Redis to
 * confirm the lock (`extendLock`): a lock that is gone or another worker's is lost for good, and
 * every write is refused from then on.
 *
 * What a write does while that answer is pending depends on whether this process ran throughout
 * (FreezeWatch). If it did, BullMQ sent its renewals on time, so the lease ran out because Redis
 * did not answer them: a Redis outage, which must not stop the data. The write goes on at once,
 * and the answer, when Redis gives one, decides. If the process was frozen (SIGSTOP, a blocked
 * event loop) for longer than a quarter of the lock since its last renewal, a standby may hold the
 * job now: the write waits for Redis's answer, however long that takes. So a process that wakes
 * from a freeze writes nothing until Redis says the lock is still its own.
 */
export class JobLock {
  /** performance.now() until which the lock is surely ours. */
  private until = 0;
  /** performance.now() when the last renewal that succeeded was sent (the job was just taken: its lock is fresh). */
  private renewedAt = performance.now();
  private lostWhy: string | null = null;
  private readonly lostListeners: Array<(why: string) => void> = [];
  /** A confirmation sent and not answered yet. */
  private pending: Promise<Answer> | undefined;
  /** Writes go on unconfirmed (said once until Redis answers again). */
  private writingOn = false;
  private readonly unfollow: () => void;
  private readonly freeze: FreezeWatch;

  constructor(private readonly o: JobLockOptions) {
    this.freeze = new FreezeWatch(Math.max(100, Math.floor(o.lockMs / 4)));
    this.unfollow = o.follow((until, reclaimed) => {
      if (this.lostWhy !== null) return;
      this.tookBack(reclaimed);
      this.renewed(until - o.lockMs);
    });
  }

  /** The gate the bridge's stores ask before each write (store.ts). */
  readonly gate: WriteGate = () => {
    if (this.lostWhy !== null) return Promise.reject(new WriteRefusedError(this.lostWhy));
    if (performance.now() < this.until) return undefined;
    const answer = this.confirm();
    if (!this.freeze.frozenSince(this.renewedAt)) {
      if (!this.writingOn) {
        this.writingOn = true;
        this.o.say(
          'warn',
          'Redis has not renewed the bridge lock in time and this process ran throughout: writing on, and stopping if Redis then says the lock is lost',
        );
      }
      return undefined;
    }
    return this.answered(answer);
  };

  /** Asks Redis whether the lock is still ours, extending it if so. Resolves when answered, or on an error. */
  confirm(): Promise<Answer> {
    if (this.lostWhy !== null) return Promise.resolve('lost');
    this.pending ??= (async (): Promise<Answer> => {
      const sentAt = performance.now();
      try {
        const ok = await this.o.extend();
        this.tookBack(ok);
        if (ok === 0) {
          this.lose('the bridge lock expired or another worker holds it now');
          return 'lost';
        }
        this.renewed(sentAt);
        return 'ours';
      } catch {
        // Redis refused the call (it is down or failing over): as good as no answer.
        return 'silent';
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  /**
   * After a freeze: resolves once Redis says the lock is ours for long enough, rejects once it
   * says it is lost. An answer to a confirmation sent before the freeze may say "ours" of a lock
   * that lapsed since: it counts only while the lease it gives still runs, else Redis is asked again.
   */
  private async answered(first: Promise<Answer>): Promise<void> {
    let said = false;
    for (let answer = await first; ; answer = await this.confirm()) {
      if (answer === 'ours' && performance.now() < this.until) return;
      if (answer === 'ours') continue;
      if (answer === 'lost' || this.lostWhy !== null) throw new WriteRefusedError(this.lostWhy ?? 'the bridge lock is lost');
      if (!said) {
        said = true;
        this.o.say(
          'warn',
          'this process was frozen past its bridge lock and Redis does not answer: writes wait until Redis says whether the lock is still ours',
        );
      }
      await sleep(CONFIRM_AGAIN_MS);
    }
  }

  /** Says how a lock was reclaimed, if it was. */
  private tookBack(how: Reclaimed): void {
    if (how === 2) this.o.say('warn', "the bridge lock had lapsed, and no other worker had taken the job since: it is this worker's again");
    if (how === 3) {
      this.o.say(
        'warn',
        "Redis had lost the bridge job and its lock (restarted empty?), and held no other bridge job: re-created the job, same id, as this run's, and the bridge goes on without stopping",
      );
    }
  }

  /** A renewal sent at `sentAt` succeeded. */
  private renewed(sentAt: number): void {
    this.until = Math.max(this.until, sentAt + this.o.lockMs);
    this.renewedAt = Math.max(this.renewedAt, sentAt);
    if (this.writingOn) {
      this.writingOn = false;
      this.o.say('info', 'Redis renewed the bridge lock again: it is still ours');
    }
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
    this.freeze.close();
  }
}
