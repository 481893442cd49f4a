import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { openQueues } from '../src/ops.js';
import { keys } from '../src/keys.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import { QUEUES, type JobQueues } from '../src/jobs/table.js';
import { STATUSES } from '../src/health.js';
import { createApp } from '../src/server/app.js';
import { testConfig, testLog } from './helpers.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every sample must belong to a family
 * declared once by TYPE before it, label sets must be well formed, values must be numbers.
 */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        expect(types.has(name), `second TYPE for ${name}`).toBe(false);
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        types.set(name, rest);
      } else {
        expect(helps.has(name), `second HELP for ${name}`).toBe(false);
        helps.add(name);
      }
      continue;
    }
    expect(line.startsWith('#'), `unexpected comment: ${line}`).toBe(false);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const [, name, , rawLabels, rawValue] = m as unknown as [string, string, string | undefined, string | undefined, string];
    const labels: Record<string, string> = {};
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (let lm = re.exec(rawLabels); lm; lm = re.exec(rawLabels)) {
        labels[lm[1]!] = lm[2]!;
        consumed = re.lastIndex;
      }
      expect(consumed, `bad labels in ${line}`).toBe(rawLabels.length);
    }
    // Prometheus reads values with Go's ParseFloat: NaN in any case, ±Inf.
    const nan = /^nan$/i.test(rawValue);
    const value = nan ? NaN : rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    expect(nan || !Number.isNaN(value), `bad value in ${line}`).toBe(true);
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    expect(family, `sample ${name} has no TYPE before it`).toBeDefined();
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

function value(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const USER = 'metrics';
const PASSWORD = 'scrape-me-please';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

describe('/metrics', () => {
  let config: Config;
  let redis: RedisConnection;
  let hazelcast: Hazelcast;
  let queues: JobQueues;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    config = testConfig({ BOARD_USER: USER, BOARD_PASSWORD: PASSWORD });
    redis = createRedis(config);
    hazelcast = await createHazelcast(config, testLog);
    queues = openQueues(config, redis, testLog);
    const app = createApp({ config, redis, hazelcast, queues, log: testLog });
    server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    for (const q of Object.values(queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await (await hazelcast.client.getMap(config.hzMap)).destroy();
    redis.disconnect();
    await hazelcast.shutdown();
  });

  async function scrape(): Promise<Exposition> {
    const res = await fetch(url, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  }

  it('with nothing known yet: bridge down, unknowns as NaN, counters at zero', async () => {
    const e = await scrape();
    expect(value(e, 'scan_bridge_up')).toBe(0);
    expect(value(e, 'scan_bridge_uptime_seconds')).toBe(0);
    expect(value(e, 'scan_bridge_data_age_seconds')).toBeNaN();
    expect(value(e, 'scan_bridge_latest_scan_number')).toBeNaN();
    expect(value(e, 'scan_bridge_scans_pushed_total')).toBe(0);
    expect(value(e, 'scan_bridge_restarts_total')).toBe(0);
    for (const s of STATUSES) expect(value(e, 'scan_bridge_health_status', { status: s })).toBe(0);
    expect(e.types.get('scan_bridge_scans_pushed_total')).toBe('counter');
    // No histogram from a bridge yet: the family is declared, with no samples.
    expect(e.samples.filter((x) => x.name.startsWith('scan_bridge_push_latency_seconds'))).toEqual([]);
    for (const q of ['health-check', 'restart-bridge', 'bridge']) expect(value(e, 'bullmq_job_failed_total', { queue: q })).toBe(0);
  });

  it('scrapes at the same time each answer in full, from one read of the state each', async () => {
    const [a, b] = await Promise.all([scrape(), scrape()]);
    expect(a.samples.map((x) => x.name)).toEqual(b.samples.map((x) => x.name));
    expect(value(a, 'scan_bridge_restarts_total')).toBe(value(b, 'scan_bridge_restarts_total'));
  });

  it('numbers match the state in Redis and Hazelcast, with BullMQ queue metrics per queue', async () => {
    const k = keys(config.queuePrefix);
    const bk = bridgeKeys(config.queuePrefix);
    const before = Date.now();
    const startedAt = before - 90_000;
    const heartbeat: Heartbeat = { id: 'host:1', host: 'host', pid: 1, startedAt, generation: 3, beatAt: before, watching: true };
    const stats = {
      bridgeId: 'host:1',
      startedAt,
      pushed: 17,
      historyWritten: 17,
      olderSkipped: 0,
      rejected: 2,
      retried: 1,
      hazelcastErrors: 0,
      lastPushedScan: 42,
      lastPushedAt: before,
      lastPushLatencyMs: 35,
      newestSeenOnDisk: 42,
      pendingLatest: null,
      historyBacklog: 0,
      hazelcastConnected: true,
      watching: true,
      generation: 3,
      updatedAt: before,
      clockSkewRefused: 4,
      stampedBeforeWrite: 2,
      watchMode: { mode: 'poll', setting: 'auto', filesystem: 'nfs', reason: 'WATCH_MODE=auto and the scan folder is on nfs' },
      pushLatency: { bucketsMs: [10, 50, 100], cumulative: [4, 15, 17], sumMs: 510, count: 17 },
    };
    await redis
      .multi()
      .set(bk.heartbeat, JSON.stringify(heartbeat), 'PX', 60_000)
      .set(bk.stats, JSON.stringify(stats))
      .set(k.restarts, '5')
      .set(k.healthLatest, JSON.stringify({ status: 'warning', checkedAt: before, message: 'data is 40 s old' }))
      .exec();
    const map = await hazelcast.client.getMap<string, string>(config.hzMap);
    await map.set(
      config.hzKey,
      JSON.stringify({ scan_number: 42, timestamp_ms: before - 40_000, asset_count: 400, timestamp: new Date(before - 40_000).toISOString() }),
    );
    await queues[QUEUES.healthCheck].add('health-check', { trigger: 'manual' });
    await queues[QUEUES.healthCheck].add('health-check', { trigger: 'manual' });
    await queues[QUEUES.restartBridge].add('restart-bridge', { reason: 'test', requestedBy: 'test' }, { delay: 60_000 });

    const e = await scrape();
    const after = Date.now();
    expect(value(e, 'scan_bridge_up')).toBe(1);
    const uptime = value(e, 'scan_bridge_uptime_seconds')!;
    expect(uptime).toBeGreaterThanOrEqual(90);
    expect(uptime).toBeLessThanOrEqual((after - startedAt) / 1000);
    const age = value(e, 'scan_bridge_data_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(40);
    expect(age).toBeLessThanOrEqual((after - before + 40_000) / 1000);
    expect(value(e, 'scan_bridge_latest_scan_number')).toBe(42);
    expect(value(e, 'scan_bridge_asset_count')).toBe(400);
    expect(value(e, 'scan_bridge_hazelcast_up')).toBe(1);
    expect(value(e, 'scan_bridge_scans_pushed_total')).toBe(17);
    expect(value(e, 'scan_bridge_scans_rejected_total')).toBe(2);
    expect(value(e, 'scan_bridge_restarts_total')).toBe(5);
    expect(value(e, 'scan_bridge_scans_refused_clock_skew_total')).toBe(4);
    expect(value(e, 'scan_bridge_scans_stamped_before_write_total')).toBe(2);
    expect(value(e, 'scan_bridge_watch_mode', { mode: 'poll', setting: 'auto', filesystem: 'nfs' })).toBe(1);
    expect(value(e, 'scan_bridge_last_push_latency_seconds')).toBe(0.035);
    expect(value(e, 'scan_bridge_health_status', { status: 'warning' })).toBe(1);
    for (const s of STATUSES.filter((s) => s !== 'warning')) expect(value(e, 'scan_bridge_health_status', { status: s })).toBe(0);
    expect(value(e, 'scan_bridge_health_checked_timestamp_seconds')).toBe(before / 1000);

    expect(e.types.get('scan_bridge_push_latency_seconds')).toBe('histogram');
    expect(value(e, 'scan_bridge_push_latency_seconds_bucket', { le: '0.05' })).toBe(15);
    expect(value(e, 'scan_bridge_push_latency_seconds_bucket', { le: '+Inf' })).toBe(17);
    expect(value(e, 'scan_bridge_push_latency_seconds_sum')).toBe(0.51);
    expect(value(e, 'scan_bridge_push_latency_seconds_count')).toBe(17);

    expect(value(e, 'bullmq_job_count', { queue: 'health-check', state: 'waiting' })).toBe(2);
    expect(value(e, 'bullmq_job_count', { queue: 'restart-bridge', state: 'delayed' })).toBe(1);
    expect(value(e, 'bullmq_job_count', { queue: 'bridge', state: 'waiting' })).toBe(0);
    for (const q of ['health-check', 'restart-bridge', 'bridge']) expect(value(e, 'bullmq_job_completed_total', { queue: q })).toBe(0);

    // Every series the Grafana dashboard queries is one this endpoint exports.
    const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboards/scan-bridge.json', 'utf8')) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>;
    };
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => t.expr.match(/\b(scan_bridge|bullmq)_[a-z_]+/g) ?? []));
    expect(queried.size).toBeGreaterThan(5);
    const exported = new Set(e.samples.map((x) => x.name));
    for (const name of queried) expect(exported.has(name), `dashboard queries ${name}`).toBe(true);
  });

  it('an expired heartbeat is a bridge that is not up', async () => {
    const bk = bridgeKeys(config.queuePrefix);
    const old = Date.now() - config.bridgeHeartbeatTtlMs - 1000;
    const heartbeat: Heartbeat = { id: 'host:1', host: 'host', pid: 1, startedAt: old - 1000, generation: 3, beatAt: old, watching: true };
    await redis.set(bk.heartbeat, JSON.stringify(heartbeat));
    const e = await scrape();
    expect(value(e, 'scan_bridge_up')).toBe(0);
    expect(value(e, 'scan_bridge_uptime_seconds')).toBe(0);
  });

  it('a value in Hazelcast that is no scan has no data age, and Hazelcast is still up (issue 20)', async () => {
    const map = await hazelcast.client.getMap<string, string>(config.hzMap);
    for (const v of ['not json', JSON.stringify({ scan_number: 999999, timestamp_ms: 4070908800000, asset_count: 3 })]) {
      await map.set(config.hzKey, v);
      const e = await scrape();
      expect(value(e, 'scan_bridge_hazelcast_up'), v).toBe(1);
      expect(value(e, 'scan_bridge_data_age_seconds'), v).toBeNaN();
      expect(value(e, 'scan_bridge_latest_scan_number'), v).toBeNaN();
    }
    await map.delete(config.hzKey);
  });

  it('asks for credentials', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(401);
  });
});
