/**
 * The bridge lease in scan-bridge's own keys (src/jobs/bridge-lease.ts), on a real Redis: two
 * BridgeLease objects stand for two processes. The lease names its holder's token and
 * generation; a taker increments the generation; a holder renews only a lease that is still its
 * own, takes back one that lapsed while nobody took a newer generation, and sets back both the
 * lease and the generation counter when Redis lost them. Nothing is written outside our keys.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../src/connections.js';
import { keys } from '../src/keys.js';
import { BridgeLease } from '../src/jobs/bridge-lease.js';
import { testConfig } from './helpers.js';

const LOCK_MS = 60_000;
const redis = createRedis(testConfig());
afterAll(() => redis.disconnect());

function twoProcesses() {
  const config = testConfig();
  const k = keys(config.queuePrefix);
  return { k, prefix: config.queuePrefix, a: new BridgeLease(redis, config.queuePrefix, LOCK_MS), b: new BridgeLease(redis, config.queuePrefix, LOCK_MS) };
}

describe('the bridge lease', () => {
  it('a taker gets the next generation and its value names it; another process sees who holds it and cannot take it', async () => {
    const { k, a, b } = twoProcesses();
    await redis.set(k.generation, '41');
    const taken = await a.acquire();
    expect(taken).toMatchObject({ taken: { generation: 42, pid: process.pid } });
    expect(JSON.parse((await redis.get(k.lease))!)).toMatchObject({ generation: 42, pid: process.pid });
    expect(await redis.pttl(k.lease)).toBeGreaterThan(LOCK_MS - 5000);

    const refused = await b.acquire();
    expect(refused).toMatchObject({ heldBy: { generation: 42, pid: process.pid } });
    expect(await b.holder()).toMatchObject({ generation: 42 });
    expect(await redis.get(k.generation)).toBe('42');
    // The holder taking a new generation for its next run keeps the lease and moves the counter on.
    expect(await a.acquire()).toMatchObject({ taken: { generation: 43 } });
    expect(a.generation).toBe(43);
  });

  it('renews only its own lease: 1 while ours; 0 and left alone once another holds it', async () => {
    const { k, a, b } = twoProcesses();
    await a.acquire();
    expect(await a.renew()).toBe(1);
    await redis.del(k.lease);
    expect(await b.acquire()).toMatchObject({ taken: { generation: 2 } });
    const theirs = await redis.get(k.lease);
    expect(await a.renew()).toBe(0);
    expect(await redis.get(k.lease)).toBe(theirs);
  });

  it('a lapsed lease nobody took since is taken back (2); one lapsed after another took a newer generation is not (0)', async () => {
    const { k, a, b } = twoProcesses();
    await a.acquire();
    const value = await redis.get(k.lease);
    await redis.del(k.lease);
    expect(await a.renew()).toBe(2);
    expect(await redis.get(k.lease)).toBe(value);

    // b took it and let it go (shut down): the counter is past a's generation.
    await redis.del(k.lease);
    await b.acquire();
    await b.release();
    expect(await redis.exists(k.lease)).toBe(0);
    expect(await a.renew()).toBe(0);
    expect(await redis.exists(k.lease)).toBe(0);
  });

  it('after Redis lost everything the holder sets its lease and the generation counter back (3); numbers stay monotonic', async () => {
    const { k, prefix, a, b } = twoProcesses();
    await redis.set(k.generation, '9');
    await a.acquire();
    const value = await redis.get(k.lease);
    await redis.del(k.lease, k.generation);
    expect(await a.renew()).toBe(3);
    expect(await redis.get(k.lease)).toBe(value);
    expect(await redis.get(k.generation)).toBe('10');
    await a.release();
    expect(await b.acquire()).toMatchObject({ taken: { generation: 11 } });

    // A process that saw generation 11 and finds the counter gone takes one past it, not 1.
    await b.release();
    await redis.del(k.generation);
    expect(await b.acquire()).toMatchObject({ taken: { generation: 12 } });
    // Only our own keys were written: the lease and the counter.
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual([k.generation, k.lease].sort());
  });

  it('release deletes only its own lease', async () => {
    const { k, a, b } = twoProcesses();
    await a.acquire();
    expect(await b.release()).toBe(false);
    expect(await redis.exists(k.lease)).toBe(1);
    expect(await a.release()).toBe(true);
    expect(await redis.exists(k.lease)).toBe(0);
  });
});
