import type { Hazelcast } from '../../connections.js';
import { coerceError } from '../../errors.js';

export interface OutageRetryOptions {
  hazelcast: Pick<Hazelcast, 'onChange'>;
  /** Tries every pending write again. */
  kick(): void;
  /** Whether anything waits to be written (for the reconnect line). */
  hasPending(): boolean;
  say(level: 'info' | 'warn', message: string): void;
  /** @defaultValue 500 */
  retryMs?: number;
}

/**
 * The outage retry: a failed Hazelcast write is counted, logged once per outage, and retried on
 * reconnect and on a timer (in case the failure was not a disconnect); the first success after
 * an outage says so.
 */
export class OutageRetry {
  /** Hazelcast calls that failed (each retried). */
  errors = 0;
  private logged = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly o: OutageRetryOptions) {}

  /** From now on, a reconnect retries what is pending. */
  start(): void {
    this.unsubscribe = this.o.hazelcast.onChange((up) => {
      if (up && !this.stopped) {
        this.o.say('info', this.o.hasPending() ? 'connected to Hazelcast: writing what is pending' : 'connected to Hazelcast');
        this.o.kick();
      }
    });
  }

  /** A write failed; `plan` says what happens to it. */
  failed(err: unknown, plan: string): void {
    this.errors++;
    if (!this.logged) {
      this.logged = true;
      this.o.say('warn', `Hazelcast write failed (${coerceError(err).message}): ${plan}`);
    }
    if (!this.timer && !this.stopped) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.o.kick();
      }, this.o.retryMs ?? 500);
    }
  }

  /** A write succeeded. */
  recovered(): void {
    if (this.logged) {
      this.logged = false;
      this.o.say('info', 'Hazelcast writes succeed again');
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe();
  }
}
