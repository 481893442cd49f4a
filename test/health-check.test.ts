import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Queue } from 'bullmq';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { enqueueRestart, runHealthCheck, type HealthCheckDeps } from '../src/jobs/health-check.js';
import { HEALTH_KEY } from '../src/ready/decide.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import { keys } from '../src/keys.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { openJobQueue } from '../src/jobs/table.js';
import type { Config } from '../src/config.js';
import { eventually, testConfig, testLog } from './helpers.js';

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

/** A world of its own: fresh names, a payload of a given age, a heartbeat, files on disk. */
async function world(opts: { ageS?: number; heartbeat?: boolean; onDisk?: number[]; scan?: number }) {
  const config = testConfig();
  const now = Date.now();
  if (opts.ageS !== undefined) {
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(config.hzKey, JSON.stringify({ scan_number: opts.scan ?? 100, timestamp_ms: now - opts.ageS * 1000, asset_count: 400 }));
  }
  // A bridge has run under this prefix before (generation 3): a missing heartbeat is a dead bridge.
  await redis.set(keys(config.queuePrefix).generation, '3');
  if (opts.heartbeat !== false) {
    const hb: Heartbeat = { id: 'h:1', host: 'h', pid: 1, startedAt: now - 120_000, generation: 3, beatAt: now, watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 60_000);
  }
  // Files on disk one second apart per scan number around the payload's scan, as a scanner
  // writes them: "newer on disk" follows scan time first (scan-format.md § Ordering).
  const scanAt = now - (opts.ageS ?? 0) * 1000;
  for (const n of opts.onDisk ?? []) {
    const at = new Date(scanAt + (n - (opts.scan ?? 100)) * 1000);
    mkdirSync(join(config.arrowDir, dayFolder(at)), { recursive: true });
    writeFileSync(join(config.arrowDir, dayFolder(at), scanFileName(n, at)), '');
  }
  const restartQueue = openJobQueue('restart-bridge', redis, config, testLog);
  const deps: HealthCheckDeps = { config, redis, hazelcast: hz, log: testLog, restartQueue };
  return { config, deps, restartQueue };
}

async function restartJobs(q: Queue): Promise<number> {
  const c = await q.getJobCounts('waiting', 'delayed', 'active');
  return c.waiting! + c.delayed! + c.active!;
}

describe('health check on real Redis and Hazelcast', () => {
  it('healthy: fresh data, live bridge; the result is kept and written to Hazelcast', async () => {
    const { config, deps, restartQueue } = await world({ ageS: 2, onDisk: [100] });
    const r = await runHealthCheck(deps);
    expect(r).toMatchObject({ status: 'healthy', scanNumber: 100, assetCount: 400, action: 'none', bridge: { id: 'h:1', generation: 3 } });
    expect(r.dataAgeS).toBeGreaterThanOrEqual(2);
    const k = keys(config.queuePrefix);
    expect(JSON.parse((await redis.get(k.healthLatest))!)).toMatchObject({ status: 'healthy', checkedAt: r.checkedAt });
    expect(await redis.llen(k.healthHistory)).toBe(1);
    const stored = await (await hz.client.getMap<string, string>(config.hzMap)).get(HEALTH_KEY);
    expect(JSON.parse(stored)).toMatchObject({ status: 'healthy', scanNumber: 100 });
    expect(config.hzHealthKey).toBe(HEALTH_KEY);
    expect(await restartJobs(restartQueue)).toBe(0);
  });

  it('a value that is no scan (not JSON, a non-numeric scan_number, stamped in 2099): stale unusable_value, alert, no restart (issue 20)', async () => {
    const forged = JSON.stringify({ scan_number: 999999, timestamp_ms: 4070908800000, asset_count: 3, bridge_id: 'elsewhere' });
    for (const [value, why] of [
      ['not json', 'it is not JSON ("not json")'],
      [JSON.stringify({ scan_number: 'abc', timestamp_ms: Date.now(), asset_count: 3 }), 'its scan_number is not a whole number ("abc")'],
      [forged, 'scan #999999 of 2099-01-01T00:00:00.000Z, written by "elsewhere", is stamped'],
    ] as const) {
      const { config, deps, restartQueue } = await world({ onDisk: [100] });
      await (await hz.client.getMap<string, string>(config.hzMap)).set(config.hzKey, value);
      const r = await runHealthCheck(deps);
      expect(r).toMatchObject({ status: 'stale', cause: 'unusable_value', action: 'alert', scanNumber: null });
      expect(r.message).toContain(why);
      expect(await restartJobs(restartQueue)).toBe(0);
    }
  });

  it('a deployment with its own HZ_KEY writes its own health entry, not scan_bridge_health (issue 20)', async () => {
    const { config, deps } = await world({ ageS: 2 });
    const own = { ...config, hzKey: 'latest_eigen_scan_b', hzHealthKey: 'scan_bridge_health:latest_eigen_scan_b' };
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(own.hzKey, JSON.stringify({ scan_number: 5, timestamp_ms: Date.now(), asset_count: 1 }));
    const r = await runHealthCheck({ ...deps, config: own });
    expect(JSON.parse(await map.get(own.hzHealthKey))).toMatchObject({ status: r.status, scanNumber: 5 });
    expect(await map.get(HEALTH_KEY)).toBeNull();
  });

  it('the Hazelcast health entry carries validUntil and expires after 3 health intervals', async () => {
    const { config, deps } = await world({ ageS: 2 });
    const interval = 400;
    const r = await runHealthCheck({ ...deps, config: { ...config, healthIntervalMs: interval } });
    const map = await hz.client.getMap<string, string>(config.hzMap);
    const stored = JSON.parse(await map.get(HEALTH_KEY)) as { checkedAt: number; validUntil: number };
    expect(stored.checkedAt).toBe(r.checkedAt);
    expect(stored.validUntil).toBe(r.checkedAt + 3 * interval);
    const gone = await eventually('the health entry to expire', async () => ((await map.get(HEALTH_KEY)) === null ? Date.now() : undefined), 10_000);
    // Hazelcast keeps expiry to the second: the entry lasts until validUntil, and goes soon after.
    expect(gone).toBeGreaterThanOrEqual(stored.validUntil);
    expect(gone - stored.validUntil).toBeLessThan(3000);
  });

  it('warning between DATA_WARNING_S and DATA_STALE_S', async () => {
    const { deps } = await world({ ageS: 45 });
    expect((await runHealthCheck(deps)).status).toBe('warning');
  });

  it('stale with a newer scan on disk is bridge_behind: a restart is queued', async () => {
    const { deps, restartQueue } = await world({ ageS: 90, scan: 100, onDisk: [99, 100, 101] });
    const r = await runHealthCheck(deps);
    expect(r).toMatchObject({ status: 'stale', cause: 'bridge_behind', action: 'restart', newestOnDisk: 101 });
    expect(r.restartJobId).toBeDefined();
    expect(await restartJobs(restartQueue)).toBe(1);
  });

  it('stale with a newer scan on disk that the bridge pushes a moment later: it looks again, and queues no restart', async () => {
    const { config: base, deps: baseDeps, restartQueue } = await world({ ageS: 90, scan: 100, onDisk: [100, 101] });
    const config = { ...base, bridgeHeartbeatMs: 300 };
    const deps = { ...baseDeps, config };
    const map = await hz.client.getMap<string, string>(config.hzMap);
    const lines: string[] = [];
    let pushed: Promise<unknown> | undefined;
    const r = await runHealthCheck(deps, (line) => {
      lines.push(line);
      // The bridge pushes scan #101 while the check waits to look again.
      if (line.includes('looking again')) pushed = map.set(config.hzKey, JSON.stringify({ scan_number: 101, timestamp_ms: Date.now(), asset_count: 400 }));
    });
    await pushed;
    expect(lines[0]).toBe('data is stale and a newer scan #101 is on disk: looking again in 1000 ms before restarting the bridge');
    expect(r).toMatchObject({ status: 'healthy', scanNumber: 101, action: 'none' });
    expect(await restartJobs(restartQueue)).toBe(0);
  });

  it('stale with nothing newer on disk is scanner_silent: alert, no restart', async () => {
    const { deps, restartQueue } = await world({ ageS: 90, scan: 100, onDisk: [99, 100] });
    const r = await runHealthCheck(deps);
    expect(r).toMatchObject({ status: 'stale', cause: 'scanner_silent', action: 'alert' });
    expect(await restartJobs(restartQueue)).toBe(0);
  });

  it('down without a heartbeat: restart queued', async () => {
    const { deps, restartQueue } = await world({ ageS: 1, heartbeat: false });
    const r = await runHealthCheck(deps);
    expect(r).toMatchObject({ status: 'down', action: 'restart' });
    expect(await restartJobs(restartQueue)).toBe(1);
  });

  it('restarts are deduplicated: a flapping check never queues a second one', async () => {
    const { deps, restartQueue } = await world({ ageS: 1, heartbeat: false });
    const a = await runHealthCheck(deps);
    const b = await runHealthCheck(deps);
    const c = await enqueueRestart(restartQueue, { reason: 'by hand', requestedBy: 'test' });
    expect(b.restartJobId).toBe(a.restartJobId);
    expect(c.id).toBe(a.restartJobId);
    // Each says truly whether it added a job or reused the pending one.
    expect([a.restartReused, b.restartReused, c.reused]).toEqual([false, true, true]);
    expect(await restartJobs(restartQueue)).toBe(1);
  });

  it('error when Hazelcast is unreachable, within a bounded time', async () => {
    const config: Config = testConfig({ HZ_MEMBERS: '127.0.0.1:1' });
    const dead = await createHazelcast(config, testLog, { kind: 'service' });
    try {
      const t0 = Date.now();
      const r = await runHealthCheck({ config, redis, hazelcast: dead, log: testLog });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r).toMatchObject({ status: 'error', cause: 'hazelcast_unreachable', action: 'alert' });
    } finally {
      await dead.shutdown();
    }
  });

  it('error when Redis is unreachable, within a bounded time', async () => {
    const config: Config = testConfig({ REDIS_URL: 'redis://127.0.0.1:1' });
    const deadRedis = createRedis(config, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    try {
      const t0 = Date.now();
      const r = await runHealthCheck({ config, redis: deadRedis, hazelcast: hz, log: testLog });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(r).toMatchObject({ status: 'error', cause: 'redis_unreachable' });
    } finally {
      deadRedis.disconnect();
    }
  });
});

describe('a newer file on disk the bridge has just found bad (issue 20)', () => {
  it('is looked at again after a bridge heartbeat at least: the verdict the bridge publishes then is heeded, no restart', async () => {
    const { config, deps, restartQueue } = await world({ ageS: 90, scan: 100, onDisk: [100, 101] });
    expect(config.bridgeHeartbeatMs).toBe(2000);
    const rel = (await readdir(config.arrowDir, { recursive: true }))
      .map(String)
      .find((p) => p.includes('scan_000101_'))!
      .split(sep)
      .join('/');
    const lines: string[] = [];
    let published: Promise<unknown> | undefined;
    const t0 = Date.now();
    const r = await runHealthCheck(deps, (line) => {
      lines.push(line);
      // The bridge found #101 half written a moment ago; its stats reach Redis with its next heartbeat, 1.5 s on.
      if (line.includes('looking again'))
        published = new Promise((ok) => setTimeout(ok, 1500)).then(() =>
          redis.set(
            bridgeKeys(config.queuePrefix).stats,
            JSON.stringify({
              newestSeenOnDisk: 100,
              newestSeenOnDiskAtMs: null,
              badFiles: [{ relPath: rel, scanNumber: 101, timestampMs: null, kind: 'incomplete', reason: 'no Arrow footer yet', at: Date.now() }],
            }),
          ),
        );
    });
    await published;
    expect(lines[0]).toBe('data is stale and a newer scan #101 is on disk: looking again in 2000 ms before restarting the bridge');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(r).toMatchObject({ status: 'stale', cause: 'bad_newest_file', action: 'alert', file: { relPath: rel } });
    expect(await restartJobs(restartQueue)).toBe(0);
  });
});
