import { WriteRefusedError, type WriteGate } from '../bridge/hazelcast/store.js';
import { sleep } from '../time.js';
import { FreezeWatch } from './freeze-watch.js';
import type { LeaseAnswer } from './bridge-lease.js';

export interface JobLockOptions {
  /** Renews the lease for `lockMs` if it is still ours, or takes it back (BridgeLease.renew). */
  extend(): Promise<LeaseAnswer>;
  lockMs: number;
  /** How often the lease is renewed (bridge-lease.ts bridgeTimings: lockMs/4). */
  renewEveryMs: number;
  /** performance.now() when the call that took the lease was sent: it is ours until that plus lockMs. */
  heldSince: number;
  /** Said once when the lease is found lost, and once when Redis does not answer a confirmation. */
  say(level: 'info' | 'warn' | 'error', message: string): void;
}

/** What Redis said to a confirmation: the lock is ours, it is lost, or nothing (down, failing over, refused). */
type Answer = 'ours' | 'lost' | 'silent';

/** How long a frozen process's write waits between confirmations Redis does not answer. */
const CONFIRM_AGAIN_MS = 250;

/**
 * The bridge lease (bridge-lease.ts) as the bridge's write gate. It is renewed every
 * `renewEveryMs`; writes go on while the last renewal that succeeded says the lease is still
 * this process's (a renewal sent at `t` keeps it until `t + lockMs` at least, however late its
 * answer is read). Past that, a write asks Redis to confirm the lease: one that is gone or
 * another's is lost for good, and every write is refused from then on.
 *
 * What a write does while that answer is pending depends on whether this process ran throughout
 * (FreezeWatch). If it did, its renewals went out on time, so the lease ran out because Redis
 * did not answer them: a Redis outage, which must not stop the data. The write goes on at once,
 * and the answer, when Redis gives one, decides. If the process was frozen (SIGSTOP, a blocked
 * event loop) for longer than a quarter of the lease since its last renewal, a standby may hold
 * the lease now: the write waits for Redis's answer, however long that takes. So a process that
 * wakes from a freeze writes nothing until Redis says the lease is still its own.
 */
export class JobLock {
  /** performance.now() until which the lease is surely ours. */
  private until = 0;
  /** performance.now() when the last renewal that succeeded was sent. */
  private renewedAt: number;
  private lostWhy: string | null = null;
  private readonly lostListeners: Array<(why: string) => void> = [];
  /** A confirmation sent and not answered yet. */
  private pending: Promise<Answer> | undefined;
  /** Writes go on unconfirmed (said once until Redis answers again). */
  private writingOn = false;
  private readonly renewals: NodeJS.Timeout;
  private readonly freeze: FreezeWatch;

  constructor(private readonly o: JobLockOptions) {
    this.freeze = new FreezeWatch(Math.max(100, Math.floor(o.lockMs / 4)));
    this.renewedAt = o.heldSince;
    this.until = o.heldSince + o.lockMs;
    // A renewal is a confirmation: one at a time, however long Redis takes to answer.
    this.renewals = setInterval(() => void this.confirm(), o.renewEveryMs);
    this.renewals.unref();
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
          'Redis has not renewed the bridge lease in time and this process ran throughout: writing on, and stopping if Redis then says the lease is lost',
        );
      }
      return undefined;
    }
    return this.answered(answer);
  };

  /** Asks Redis whether the lease is still ours, renewing it if so. Resolves when answered, or on an error. */
  confirm(): Promise<Answer> {
    if (this.lostWhy !== null) return Promise.resolve('lost');
    this.pending ??= (async (): Promise<Answer> => {
      const sentAt = performance.now();
      try {
        const ok = await this.o.extend();
        this.tookBack(ok);
        if (ok === 0) {
          this.lose('the bridge lease lapsed and another process took it, or holds it now');
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
      if (answer === 'lost' || this.lostWhy !== null) throw new WriteRefusedError(this.lostWhy ?? 'the bridge lease is lost');
      if (!said) {
        said = true;
        this.o.say(
          'warn',
          'this process was frozen past its bridge lease and Redis does not answer: writes wait until Redis says whether the lease is still ours',
        );
      }
      await sleep(CONFIRM_AGAIN_MS);
    }
  }

  /** Says how a lease was taken back, if it was. */
  private tookBack(how: LeaseAnswer): void {
    if (how === 2) this.o.say('warn', "the bridge lease had lapsed, and nobody had taken a newer generation since: it is this process's again");
    if (how === 3) {
      this.o.say(
        'warn',
        'Redis had lost the bridge lease and the generation counter (restarted empty?): set both back as this run’s, and the bridge goes on without stopping',
      );
    }
  }

  /** A renewal sent at `sentAt` succeeded. */
  private renewed(sentAt: number): void {
    this.until = Math.max(this.until, sentAt + this.o.lockMs);
    this.renewedAt = Math.max(this.renewedAt, sentAt);
    if (this.writingOn) {
      this.writingOn = false;
      this.o.say('info', 'Redis renewed the bridge lease again: it is still ours');
    }
  }

  /** The lease is not ours any more: refuse every write from now on. */
  lose(why: string): void {
    if (this.lostWhy !== null) return;
    this.lostWhy = why;
    this.until = 0;
    clearInterval(this.renewals);
    this.o.say('error', `${why}: this bridge writes nothing more and stops`);
    for (const l of this.lostListeners.splice(0)) l(why);
  }

  /** Null while the lease is ours. */
  get lost(): string | null {
    return this.lostWhy;
  }

  /** Calls `listener` once the lease is lost (at once if it is); returns the unsubscribe. */
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
    clearInterval(this.renewals);
    this.freeze.close();
  }
}
