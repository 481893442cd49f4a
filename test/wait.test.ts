import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { HEALTH_KEY } from '../src/ready/decide.js';
import { testEnv, testLog } from './helpers.js';
import { waitCli } from './consumers.js';

let hz: Hazelcast;
beforeAll(async () => {
  hz = await createHazelcast(resolveConfig(testEnv()), testLog, { kind: 'command', timeoutMs: 10_000 });
});
afterAll(async () => {
  await hz.shutdown();
});

const scan = (n: number, ageS: number) =>
  JSON.stringify({ scan_number: n, timestamp: new Date().toISOString(), timestamp_ms: Date.now() - ageS * 1000, asset_count: 400 });
const health = (status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ status, checkedAt: Date.now(), validUntil: Date.now() + 60_000, message: status, ...extra });

async function world(opts: { ageS?: number; health?: string | null }) {
  const env = testEnv();
  const config = resolveConfig(env);
  const map = await hz.client.getMap<string, string>(config.hzMap);
  if (opts.ageS !== undefined) await map.set(config.hzKey, scan(41, opts.ageS));
  if (opts.health) await map.set(config.hzHealthKey, opts.health);
  return { env, config, map };
}

describe('scan-bridge wait', () => {
  it('exits 0 within 200 ms of a fresh scan landing, while the earlier scan was too old', async () => {
    const { env, config, map } = await world({ ageS: 60, health: health('stale', { cause: 'scanner_silent' }) });
    const w = waitCli(env, '--max-age', '5', '--timeout', '60');
    const waiting = await w.lines.until((l) => l.startsWith('waiting'), 30_000, 'the waiting line');
    expect(waiting).toMatch(/data is 6\d\.\d s old \(scan #41\), over the 5 s limit/);
    const wrote = Date.now();
    await map.set(config.hzKey, scan(42, 0));
    const { code, at } = await w.exited;
    expect(code).toBe(0);
    expect(at - wrote, 'ms from the write to the exit').toBeLessThan(200);
    expect(w.out()).toMatch(/^ready: data is 0\.\d s old \(scan #42\), health stale as of/);
  });

  it('a health entry arriving makes fresh data ready; --json gives the facts', async () => {
    const { env, map } = await world({ ageS: 0 });
    const w = waitCli(env, '--max-age', '30', '--timeout', '60', '--json');
    await w.lines.until((l) => l.includes('no health entry'), 30_000, 'the waiting line');
    await map.set(HEALTH_KEY, health('healthy'));
    expect((await w.exited).code).toBe(0);
    expect(JSON.parse(w.out())).toMatchObject({ ready: true, missing: [], maxAgeS: 30, scanNumber: 41, health: { status: 'healthy', cause: null } });
  });

  it('exits 1 after --timeout with a stopped scanner, one line naming the data age', async () => {
    const { env } = await world({ ageS: 90, health: health('stale', { cause: 'scanner_silent' }) });
    const started = Date.now();
    const w = waitCli(env, '--timeout', '1.5');
    const { code, at } = await w.exited;
    expect(code).toBe(1);
    expect(at - started).toBeGreaterThanOrEqual(1500);
    expect(w.out().trim().split('\n')).toEqual([expect.stringMatching(/^not ready after 1\.5 s: data is 9\d\.\d s old \(scan #41\), over the 30 s limit$/)]);
  });

  it('names a missing health entry and an unusable status', async () => {
    const none = waitCli((await world({ ageS: 1 })).env, '--timeout', '0');
    expect((await none.exited).code).toBe(1);
    expect(none.out()).toMatch(/^not ready after 0 s: no health entry \(no health check within 3 intervals: nobody is checking\)\n$/);

    const expired = waitCli((await world({ ageS: 1, health: health('healthy', { validUntil: Date.now() - 1 }) })).env, '--timeout', '0');
    expect((await expired.exited).code).toBe(1);
    expect(expired.out()).toContain('no health entry');

    const down = waitCli((await world({ ageS: 1, health: health('down', { cause: 'no_heartbeat' }) })).env, '--timeout', '0', '--json');
    expect((await down.exited).code).toBe(1);
    expect(JSON.parse(down.out())).toMatchObject({ ready: false, missing: ['the last health check says down (no_heartbeat)'] });

    const nothing = waitCli((await world({})).env, '--timeout', '0');
    expect((await nothing.exited).code).toBe(1);
    expect(nothing.out()).toMatch(/: no scan in Hazelcast; no health entry/);
  });

  it('a value another client stamped in 2099 is not ready, however healthy the entry says it is (issue 20)', async () => {
    const { env, config, map } = await world({ health: health('healthy') });
    const forged = { scan_number: 999999, timestamp: '2099-01-01T00:00:00.000Z', timestamp_ms: 4070908800000, asset_count: 3, bridge_id: 'elsewhere' };
    await map.set(config.hzKey, JSON.stringify(forged));
    const w = waitCli(env, '--max-age', '30', '--timeout', '0');
    expect((await w.exited).code).toBe(1);
    expect(w.out()).toMatch(
      /^not ready after 0 s: the value in Hazelcast is no usable scan: scan #999999 of 2099-01-01T00:00:00\.000Z, written by "elsewhere", is stamped \d+(\.\d)? s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=300\n$/,
    );
    await map.set(config.hzKey, 'not json');
    const notJson = waitCli(env, '--timeout', '0');
    expect((await notJson.exited).code).toBe(1);
    expect(notJson.out()).toBe('not ready after 0 s: the value in Hazelcast is no usable scan: it is not JSON ("not json")\n');
  });

  it("two deployments on one map with different HZ_KEY never read each other's health (issue 20)", async () => {
    const { env, config, map } = await world({ ageS: 1 });
    // Deployment A (default HZ_KEY) is healthy; deployment B (its own HZ_KEY) has no health check running.
    await map.set(config.hzHealthKey, health('healthy'));
    const b = { ...env, HZ_KEY: 'latest_eigen_scan_b' };
    await map.set(resolveConfig(b).hzKey, scan(7, 1));
    const w = waitCli(b, '--timeout', '0');
    expect((await w.exited).code).toBe(1);
    expect(w.out()).toMatch(/: no health entry/);
    // B's own entry is its own; A still sees its own healthy one.
    await map.set(resolveConfig(b).hzHealthKey, health('down', { cause: 'no_heartbeat' }));
    const wb = waitCli(b, '--timeout', '0');
    expect((await wb.exited).code).toBe(1);
    expect(wb.out()).toMatch(/the last health check says down \(no_heartbeat\)/);
    const wa = waitCli(env, '--timeout', '0');
    expect((await wa.exited).code).toBe(0);
  });

  it('exits 2 with one line when Hazelcast is unreachable, and one naming the servers it tried (issue 22)', async () => {
    const { env } = await world({});
    const w = waitCli({ ...env, HZ_MEMBERS: '127.0.0.1:1' }, '--timeout', '2');
    expect((await w.exited).code).toBe(2);
    expect(w.err().trim().split('\n'), w.err()).toEqual([
      expect.stringMatching(/^scan-bridge wait: hazelcast at 127\.0\.0\.1:1 is unreachable/),
      expect.stringMatching(/^ *settings used: .*Hazelcast 127\.0\.0\.1:1 \(HZ_MEMBERS from the environment\)/),
    ]);
    expect(w.out()).toBe('');
  });

  it('waits up to 300 s for data no older than 30 s unless told otherwise', async () => {
    const { env } = await world({ ageS: 45, health: health('healthy') });
    const w = waitCli(env);
    try {
      const waiting = await w.lines.until((l) => l.startsWith('waiting'), 30_000, 'the waiting line');
      expect(waiting).toMatch(/^waiting up to 300 s for: data is 4\d\.\d s old \(scan #41\), over the 30 s limit$/);
    } finally {
      w.kill();
    }
    expect((await w.exited).code).not.toBe(0);
  });

  it('exits 64 on a bad option', async () => {
    const w = waitCli(testEnv(), '--max-age', 'soon');
    expect((await w.exited).code).toBe(64);
    expect(w.err()).toMatch(/--max-age must be a number of seconds ≥ 0, got "soon"/);
  });
});
