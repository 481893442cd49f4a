/**
 * The Hazelcast connection wrapper (src/connections.ts): its state listeners, against a member
 * that is not there and the real one of the global setup.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { freePort } from '../scripts/servers/services.js';
import { testConfig, testLog } from './helpers.js';

const clients: Hazelcast[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
});

describe('waitConnected', () => {
  it('leaves no listener behind when it times out, however often it is called while Hazelcast is down', async () => {
    // Nothing listens on this port: the client keeps trying to connect for as long as the test runs.
    const config = testConfig({ HZ_MEMBERS: `127.0.0.1:${await freePort()}` });
    const hz = await createHazelcast(config, testLog);
    clients.push(hz);
    const before = hz.listenerCount();
    // What the backfill retry loop does while the member is down.
    for (let i = 0; i < 200; i++) expect(await hz.waitConnected(1)).toBe(false);
    await Promise.all(Array.from({ length: 50 }, () => hz.waitConnected(5)));
    expect(hz.connected()).toBe(false);
    expect(hz.listenerCount()).toBe(before);
  });

  it('resolves true once connected and removes its listener; onChange listeners stay', async () => {
    const hz = await createHazelcast(testConfig(), testLog);
    clients.push(hz);
    hz.onChange(() => undefined);
    const waits = Array.from({ length: 20 }, () => hz.waitConnected(20_000));
    expect(await Promise.all(waits)).toEqual(Array(20).fill(true));
    expect(hz.listenerCount()).toBe(1);
  });
});
