import { describe, expect, it } from 'vitest';
import { JobLock } from '../src/jobs/bridge-lock.js';
import { WriteRefusedError } from '../src/bridge/hazelcast/store.js';
import type { LeaseAnswer } from '../src/jobs/bridge-lease.js';

/**
 * The bridge lease's write gate, decided without Redis: `extend` stands for the lease's renewal
 * (BridgeLease.renew), and its answer is given by the test. The lease was taken long ago (its
 * renewals, every hour here, never come during a test unless it asks). (The lease against a
 * real Redis and real processes is test/bridge-lease.test.ts and test/bridge-lock.test.ts.)
 */
const HOUR = 3600_000;

function lockWith(answer: () => Promise<LeaseAnswer>) {
  const said: string[] = [];
  const lock = new JobLock({
    extend: answer,
    lockMs: 4000,
    renewEveryMs: HOUR,
    heldSince: performance.now() - 4000,
    say: (level, message) => said.push(`${level}: ${message}`),
  });
  return { lock, said };
}

const never = () => new Promise<LeaseAnswer>(() => undefined);

/** Blocks the event loop for `ms`: what a frozen or starved process looks like from inside. */
function freezeFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* frozen */
  }
}

describe('the bridge lock gate', () => {
  it('with Redis silent and the process running throughout, a write past the lease goes on at once, said once', () => {
    const { lock, said } = lockWith(never);
    expect(lock.gate()).toBeUndefined();
    expect(lock.gate()).toBeUndefined();
    expect(said).toEqual([
      'warn: Redis has not renewed the bridge lease in time and this process ran throughout: writing on, and stopping if Redis then says the lease is lost',
    ]);
    lock.close();
  });

  it('after a freeze past a quarter of the lock, a write waits for Redis: it goes once Redis says the lock is ours', async () => {
    let answer: (n: LeaseAnswer) => void = () => undefined;
    let asked = 0;
    const { lock, said } = lockWith(() => (asked++, new Promise<LeaseAnswer>((ok) => (answer = ok))));
    freezeFor(1100);
    let through = false;
    const write = lock.gate();
    expect(write).toBeInstanceOf(Promise);
    void write!.then(() => (through = true));
    await new Promise((r) => setImmediate(r));
    expect(through).toBe(false);
    answer(1);
    await write;
    expect(asked).toBe(1);
    expect(said).toEqual([]);
    // Confirmed: later writes go through at once again.
    expect(lock.gate()).toBeUndefined();
    lock.close();
  });

  it('after a freeze, a write waits while Redis refuses the call, and is refused once Redis says the lock is lost', async () => {
    const answers: Array<() => Promise<LeaseAnswer>> = [
      () => Promise.reject(new Error('Connection is closed.')),
      () => Promise.reject(new Error('Connection is closed.')),
      () => Promise.resolve(0),
    ];
    const { lock, said } = lockWith(() => answers.shift()!());
    freezeFor(1100);
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    expect(answers).toHaveLength(0);
    expect(said).toEqual([
      'warn: this process was frozen past its bridge lease and Redis does not answer: writes wait until Redis says whether the lease is still ours',
      'error: the bridge lease lapsed and another process took it, or holds it now: this bridge writes nothing more and stops',
    ]);
    lock.close();
  });

  it('an answer to a confirmation sent before a freeze longer than the lock lets no write through: Redis is asked again', async () => {
    const answers: Array<(n: LeaseAnswer) => void> = [];
    const lock = new JobLock({
      extend: () => new Promise<LeaseAnswer>((ok) => answers.push(ok)),
      lockMs: 400,
      renewEveryMs: HOUR,
      heldSince: performance.now() - 400,
      say: () => undefined,
    });
    void lock.confirm();
    freezeFor(500);
    const write = lock.gate();
    expect(write).toBeInstanceOf(Promise);
    let through = false;
    void write!.then(() => (through = true));
    // "Ours" of the lock as it was before the freeze: its lease ran out during the freeze.
    answers[0]!(1);
    await new Promise((r) => setImmediate(r));
    expect(through).toBe(false);
    expect(answers).toHaveLength(2);
    answers[1]!(1);
    await write;
    expect(through).toBe(true);
    lock.close();
  });

  it('a confirmed lock lets writes through without asking again until the lease runs out', async () => {
    let asked = 0;
    const { lock } = lockWith(() => (asked++, Promise.resolve(1)));
    await lock.gate();
    expect(lock.gate()).toBeUndefined();
    expect(asked).toBe(1);
  });

  it('a lease Redis lost with the counter and the renewal set back (3) stays ours, and says what happened', async () => {
    const { lock, said } = lockWith(() => Promise.resolve(3));
    expect(await lock.confirm()).toBe('ours');
    expect(lock.gate()).toBeUndefined();
    expect(lock.lost).toBeNull();
    expect(said).toEqual([
      'warn: Redis had lost the bridge lease and the generation counter (restarted empty?): set both back as this run’s, and the bridge goes on without stopping',
    ]);
    lock.close();
  });

  it('renews the lease by itself every renewEveryMs, and loses it when a renewal finds it gone', async () => {
    const answers: LeaseAnswer[] = [1, 1, 0];
    let asked = 0;
    const lock = new JobLock({
      extend: () => (asked++, Promise.resolve(answers.shift() ?? 1)),
      lockMs: 4000,
      renewEveryMs: 50,
      heldSince: performance.now(),
      say: () => undefined,
    });
    // Taken just now: writes go through without asking.
    expect(lock.gate()).toBeUndefined();
    const why = await new Promise<string>((ok) => lock.onLost(ok));
    expect(asked).toBe(3);
    expect(why).toBe('the bridge lease lapsed and another process took it, or holds it now');
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    lock.close();
  });

  it('a lock Redis says is gone refuses every write from the answer on', async () => {
    const { lock, said } = lockWith(() => Promise.resolve(0));
    // Running throughout: this write goes on while the confirmation is on its way.
    expect(lock.gate()).toBeUndefined();
    expect(await lock.confirm()).toBe('lost');
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    expect(said).toEqual([
      'warn: Redis has not renewed the bridge lease in time and this process ran throughout: writing on, and stopping if Redis then says the lease is lost',
      'error: the bridge lease lapsed and another process took it, or holds it now: this bridge writes nothing more and stops',
    ]);
    lock.close();
  });
});
