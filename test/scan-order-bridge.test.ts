import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import type { Config } from '../src/config.js';
import { runBridge, type RunningBridge } from '../src/bridge/run.js';
import type { BridgeEvent } from '../src/bridge/bridge.js';
import { runHealthCheck } from '../src/jobs/health-check.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { EventLog, eventually, testConfig, testLog } from './helpers.js';

let hz: Hazelcast;
let redis: RedisConnection;
beforeAll(async () => {
  hz = await createHazelcast(testConfig(), testLog, { kind: 'command', timeoutMs: 10_000 });
  redis = createRedis(testConfig());
});
afterAll(async () => {
  await hz.shutdown();
  redis.disconnect();
});
const running: RunningBridge[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

async function start(config: Config) {
  const events = new EventLog<BridgeEvent>();
  const run = await runBridge(config, redis, testLog, { onEvent: events.push });
  running.push(run);
  await run.bridge.caughtUp();
  return { run, events };
}

/**
 * Writes scan `n` stamped `time` the way a good producer does (a dotted temp name, then a
 * rename into place) into the day folder of `fileTime` (the time the scanner's file name
 * says; the stamp inside may differ). Resolves with the moment of the rename.
 */
async function put(config: Config, n: number, time: Date, fileTime = time): Promise<{ rel: string; at: number }> {
  const day = join(config.arrowDir, dayFolder(fileTime));
  await mkdir(day, { recursive: true });
  const name = scanFileName(n, fileTime);
  const tmp = join(day, `.${name}.tmp`);
  await writeFile(tmp, encodeScan(makeScan({ scanNumber: n, time, assets: 3 })));
  const at = Date.now();
  await rename(tmp, join(day, name));
  return { rel: `${dayFolder(fileTime)}/${name}`, at };
}

async function getText(config: Config, map: string, key: string): Promise<string | null> {
  return (await hz.client.getMap<string, string>(map)).get(key);
}

async function latest(config: Config): Promise<{ scan_number: number; timestamp_ms: number; source_file: string } | null> {
  const v = await getText(config, config.hzMap, config.hzKey);
  return v === null ? null : (JSON.parse(v) as { scan_number: number; timestamp_ms: number; source_file: string });
}

/** Waits until `latest_eigen_scan` holds scan `n`; resolves with when it was first seen. */
async function landed(config: Config, n: number, timeoutMs = 10_000): Promise<number> {
  return eventually(`latest is #${n}`, async () => ((await latest(config))?.scan_number === n ? Date.now() : undefined), timeoutMs);
}

function cfg(): Config {
  return testConfig({ BRIDGE_HEARTBEAT_MS: '200', BRIDGE_HEARTBEAT_TTL_MS: '5000' });
}

describe('scan order: a scanner that restarts its numbering', () => {
  it('follows #1…#3 after #100…#110 at once, stays healthy, and ignores an old #105 written again', async () => {
    const config = cfg();
    const { run } = await start(config);
    const t0 = Date.now() - 40_000;
    for (let n = 100; n <= 110; n++) await put(config, n, new Date(t0 + (n - 100) * 1000));
    await landed(config, 110);

    // The scanner restarts: numbering from 1, times later than #110's.
    const t1 = Date.now();
    for (let n = 1; n <= 3; n++) {
      const { at } = await put(config, n, new Date(t1 + (n - 1) * 1000));
      const seen = await landed(config, n, 5000);
      expect(seen - at).toBeLessThan(1000);
    }
    await run.facts.beat();
    const health = await runHealthCheck({ config, redis, hazelcast: hz, log: testLog });
    expect(health).toMatchObject({ status: 'healthy', scanNumber: 3 });

    const history105 = await getText(config, config.hzHistoryMap, '000105');
    expect(JSON.parse(history105!)).toMatchObject({ scan_number: 105 });
    const pushedBefore = run.bridge.stats().pushed;
    const skippedBefore = run.bridge.stats().olderSkipped;
    // The old #105 renamed into place again (a replay): read, and changes nothing.
    await put(config, 105, new Date(t0 + 5000));
    await eventually('the replayed #105 read', () => (run.bridge.stats().olderSkipped > skippedBefore ? true : undefined));
    expect((await latest(config))!.scan_number).toBe(3);
    expect(run.bridge.stats().pushed).toBe(pushedBefore);
    expect(await getText(config, config.hzHistoryMap, '000105')).toBe(history105);
  });

  it('history: a newer scan replaces an older one under the same number, never the reverse', async () => {
    const config = cfg();
    const { run } = await start(config);
    const old = new Date(Date.now() - 100_000);
    await put(config, 2, old);
    const history = async () => JSON.parse((await getText(config, config.hzHistoryMap, '000002')) ?? 'null') as { timestamp_ms: number } | null;
    await eventually('old #2 in history', async () => ((await history())?.timestamp_ms === old.getTime() ? true : undefined));

    const fresh = new Date();
    await put(config, 2, fresh);
    await eventually('new #2 in history', async () => ((await history())?.timestamp_ms === fresh.getTime() ? true : undefined));
    // Both writes counted (the replace finishes with its TTL after the value is visible).
    await eventually('two history writes', () => (run.bridge.stats().historyWritten === 2 ? true : undefined));

    const written = run.bridge.stats().historyWritten;
    const skipped = run.bridge.stats().olderSkipped;
    // The old #2 again, under its own (older) file name: history keeps the new one.
    await put(config, 2, new Date(old.getTime() + 1000));
    await eventually('the replayed #2 read', () => (run.bridge.stats().olderSkipped > skipped ? true : undefined));
    expect((await history())!.timestamp_ms).toBe(fresh.getTime());
    expect(run.bridge.stats().historyWritten).toBe(written);
  });
});

describe('clock skew (MAX_CLOCK_SKEW_S)', () => {
  it('refuses a scan stamped a day ahead, reports it once with path and skew, and takes the next normal scan', async () => {
    const config = cfg();
    const { run, events } = await start(config);
    await put(config, 10, new Date());
    await landed(config, 10);

    const ahead = new Date(Date.now() + 86_400_000);
    const { rel } = await put(config, 11, ahead);
    const line = await events.until((e) => e.type === 'line' && e.message.includes(rel), 10_000, 'the clock-skew line');
    expect(line).toMatchObject({ level: 'warn' });
    expect((line as { message: string }).message).toMatch(/refused .* stamped 86[34]\d\d(\.\d)? s ahead/);
    expect(run.bridge.stats()).toMatchObject({ clockSkewRefused: 1, lastClockSkew: { relPath: rel, kind: 'ahead' } });
    expect(run.bridge.stats().lastClockSkew!.skewS).toBeGreaterThan(86_000);

    await put(config, 12, new Date());
    await landed(config, 12);
    expect(events.events.filter((e) => e.type === 'line' && e.message.includes(rel))).toHaveLength(1);
    expect(run.bridge.stats().clockSkewRefused).toBe(1);

    await run.facts.beat();
    const health = await runHealthCheck({ config, redis, hazelcast: hz, log: testLog });
    expect(health).toMatchObject({ cause: 'clock_skew', scanNumber: 12 });
    expect(health.message).toContain(rel);
  });

  it('reports a file written now but stamped in 2000 as clock skew, not as a silent scanner', async () => {
    const config = cfg();
    const { run } = await start(config);
    const { rel } = await put(config, 7, new Date(Date.UTC(2000, 0, 1)), new Date());
    await eventually('the refusal', () => (run.bridge.stats().clockSkewRefused === 1 ? true : undefined));
    expect(run.bridge.stats().lastClockSkew).toMatchObject({ relPath: rel, kind: 'before_mtime' });
    await run.facts.beat();
    const health = await runHealthCheck({ config, redis, hazelcast: hz, log: testLog });
    expect(health).toMatchObject({ status: 'stale', cause: 'clock_skew', action: 'alert' });
    expect(health.message).toContain(rel);
  });
});
