import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { HEALTH_KEY, type HealthEntry } from '../src/ready/decide.js';
import { EventLog, eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';
import { runPython, waitCli } from './consumers.js';

let hz: Hazelcast;
beforeAll(async () => {
  hz = await createHazelcast(resolveConfig(testEnv()), testLog, { kind: 'command', timeoutMs: 10_000 });
});
afterEach(killChildren);
afterAll(async () => {
  await hz.shutdown();
});

describe('with every role stopped, nobody is checking, and consumers say so', () => {
  it('the health entry is gone 3 intervals after the last check; wait and the Python client name it', async () => {
    const interval = 500;
    const env = testEnv({ HEALTH_INTERVAL_MS: String(interval), BRIDGE_HEARTBEAT_MS: '300', BRIDGE_HEARTBEAT_TTL_MS: '1500' });
    const config = resolveConfig(env);
    const map = await hz.client.getMap<string, string>(config.hzMap);
    // Every entry written, as it is written: the last one may expire before a read after the stop.
    const written = new EventLog<HealthEntry>();
    const listener = await map.addEntryListener(
      { added: (e) => written.push(JSON.parse(e.value) as HealthEntry), updated: (e) => written.push(JSON.parse(e.value) as HealthEntry) },
      HEALTH_KEY,
      true,
    );
    writeScanFile(config.arrowDir, 1);
    const roles = spawnRoles(['scheduler', 'worker', 'bridge'], env);
    // A check that saw scan #1 in Hazelcast: the first checks of a cold start may run before the
    // bridge has pushed it, and a stop then would leave "no scan in Hazelcast" missing as well.
    await written.until((e) => e.scanNumber === 1, 40_000, 'a health entry of the running system that saw scan #1');

    // Watched from the stop on: while the system runs, each check renews the entry well before it expires.
    const gone = eventually('the health entry to expire', async () => ((await map.get(HEALTH_KEY)) === null ? Date.now() : undefined), 30_000);
    roles.signal('SIGTERM');
    await roles.exited;
    const goneAt = await gone;
    await map.removeEntryListener(listener);
    const last = written.events.at(-1)!;
    expect(last.validUntil - last.checkedAt).toBe(3 * interval);
    // Hazelcast keeps expiry to the second: gone after validUntil, within about a second more.
    expect(goneAt).toBeGreaterThanOrEqual(last.validUntil);
    expect(goneAt - last.validUntil).toBeLessThan(3000);

    const w = waitCli(env, '--timeout', '0.5');
    expect((await w.exited).code).toBe(1);
    // Scan #1 is fresh and in Hazelcast: the health entry is the one thing missing, and both consumers say only that.
    expect(w.out()).toMatch(/^not ready after 0\.5 s: no health entry \(no health check within 3 intervals: nobody is checking\)\n$/);

    const py = runPython(
      `
import scan_bridge_client as c
with c.ScanBridgeClient() as b:
    print(b.health())
    try:
        b.wait_until_fresh(max_age_s=3600, timeout_s=0.5)
    except TimeoutError as e:
        print(e)
`,
      env,
    );
    expect((await py.exited).code, py.err()).toBe(0);
    expect(py.out()).toBe('None\nnot ready after 0.5 s: no health entry (no health check within 3 intervals: nobody is checking)\n');
  });
});
