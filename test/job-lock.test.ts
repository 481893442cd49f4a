import { describe, expect, it } from 'vitest';
import { JobLock } from '../src/jobs/bridge-lock.js';
import { WriteRefusedError } from '../src/bridge/store.js';

/**
 * The bridge lock's write gate, decided without Redis: `extendLock` stands for BullMQ's call, and
 * its answer is given by the test. (The lock against a real Redis and real processes is
 * test/bridge-lock.test.ts.)
 */
function lockWith(answer: () => Promise<number>) {
  const said: string[] = [];
  const lock = new JobLock({
    job: { extendLock: answer },
    token: 't',
    lockMs: 4000,
    follow: () => () => undefined,
    say: (level, message) => said.push(`${level}: ${message}`),
  });
  return { lock, said };
}

const never = () => new Promise<number>(() => undefined);

describe('the bridge lock gate', () => {
  it('with Redis silent, a write past the lease waits for the confirmation, at most a quarter of the lock', async () => {
    const { lock, said } = lockWith(never);
    const t0 = performance.now();
    const wait = lock.gate();
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(said).toEqual([
      'warn: Redis did not answer within 1000 ms: the bridge lock cannot be confirmed; writing on, and stopping if Redis then says the lock is lost',
    ]);
  });

  it('a confirmed lock lets writes through without asking again until the lease runs out', async () => {
    let asked = 0;
    const { lock } = lockWith(() => (asked++, Promise.resolve(1)));
    await lock.gate();
    expect(lock.gate()).toBeUndefined();
    expect(asked).toBe(1);
  });

  it('a lock Redis says is gone refuses this write and every later one', async () => {
    const { lock, said } = lockWith(() => Promise.resolve(0));
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    await expect(lock.gate()).rejects.toBeInstanceOf(WriteRefusedError);
    expect(said).toEqual([
      'error: the bridge lock expired or another worker holds it now: this bridge writes nothing more and stops; the job is taken again from the queue',
    ]);
  });
});
