import { Gauge, Registry, type Metric } from 'prom-client';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import { keys } from '../keys.js';
import { readBridgeFacts, type BridgeFactsView } from '../bridge/facts.js';
import { quarantineSize } from '../bridge/guards/quarantine.js';
import { STATUSES, type HealthResult, type LatestScan } from '../health.js';
import { CONTENT_RULES } from '../content/rules.js';
import { JOB_NAMES, type JobQueues } from '../jobs/table.js';
import { withTimeout } from '../time.js';
import { readDeliveries, type DeliveryRecord } from '../alerts/delivery-record.js';
import { judgeStoredScan } from '../bridge/guards/stored-value.js';

export interface MetricsDeps {
  config: Config;
  redis: RedisConnection;
  hazelcast: Hazelcast;
  queues: JobQueues;
}

export interface Metrics {
  contentType: string;
  /** The whole exposition, read fresh from Redis and Hazelcast. */
  scrape(): Promise<string>;
}

const HZ_TIMEOUT_MS = 2000;

/** What one scrape reads: every metric is set from it. */
interface Snapshot {
  now: number;
  facts: BridgeFactsView;
  restarts: number;
  health: HealthResult | null;
  /** `undefined`: Hazelcast did not answer. */
  scan: LatestScan | null | undefined;
  quarantined: number;
  queues: Array<{ name: string; counts: Record<string, number>; completed: number; failed: number }>;
  alertDeliveries: DeliveryRecord[];
}

type Sample = { value: number; labels?: Record<string, string | number>; metricName?: string };

/**
 * A metric family whose samples are read at each scrape, not counted here: the bridge keeps its
 * counters and latency histogram in Redis, BullMQ its job counts. prom-client renders it like its
 * own types.
 */
function readFamily(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', read: () => Promise<Sample[]>): void {
  const family = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await read() }),
    reset: () => undefined,
  };
  registry.registerMetric(family as unknown as Metric);
}

export function createMetrics(deps: MetricsDeps): Metrics {
  const { config, redis, hazelcast, queues } = deps;
  const registry = new Registry();

  async function latestScan(): Promise<LatestScan | null | undefined> {
    if (!hazelcast.connected()) return undefined;
    try {
      const v = await withTimeout((async () => (await hazelcast.client.getMap<string, string>(config.hzMap)).get(config.hzKey))(), HZ_TIMEOUT_MS, 'Hazelcast');
      // A value that is no scan, or is stamped far ahead, has no data age (bridge/guards/stored-value.ts).
      const judged = v === null ? null : judgeStoredScan(v, { nowMs: Date.now(), maxSkewS: config.maxClockSkewS });
      return judged?.kind === 'scan' ? judged.value : null;
    } catch {
      return undefined;
    }
  }

  async function read(): Promise<Snapshot> {
    const k = keys(config.queuePrefix);
    const [facts, [restarts, health], scan, quarantined, perQueue, alertDeliveries] = await Promise.all([
      readBridgeFacts(redis, config.queuePrefix),
      redis.mget(k.restarts, k.healthLatest),
      latestScan(),
      quarantineSize(redis, config.queuePrefix),
      Promise.all(
        JOB_NAMES.map(async (name) => {
          const q = queues[name];
          const [counts, completed, failed] = await Promise.all([q.getJobCounts(), q.getMetrics('completed'), q.getMetrics('failed')]);
          return { name: q.name, counts, completed: completed.meta.count, failed: failed.meta.count };
        }),
      ),
      readDeliveries(redis, config.queuePrefix),
    ]);
    return {
      now: Date.now(),
      facts,
      restarts: Number(restarts ?? 0),
      health: health ? (JSON.parse(health) as HealthResult) : null,
      scan,
      quarantined,
      queues: perQueue,
      alertDeliveries,
    };
  }

  // One read per scrape, shared by every metric's collect(): they all start in the same tick.
  let reading: Promise<Snapshot> | null = null;
  const snapshot = () => (reading ??= read().finally(() => (reading = null)));
  /** The live heartbeat, or null. */
  const liveBeat = (s: Snapshot) => (s.facts.heartbeat !== null && s.now - s.facts.heartbeat.beatAt <= config.bridgeHeartbeatTtlMs ? s.facts.heartbeat : null);

  const gauge = (name: string, help: string, value: (s: Snapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await snapshot()));
      },
    });

  gauge('scan_bridge_up', '1 when a bridge heartbeat is live, 0 otherwise', (s) => (liveBeat(s) ? 1 : 0));
  gauge('scan_bridge_uptime_seconds', 'Seconds since the live bridge run started (0 when none is live)', (s) => {
    const hb = liveBeat(s);
    return hb ? Math.max(0, s.now - hb.startedAt) / 1000 : 0;
  });
  gauge('scan_bridge_data_age_seconds', 'Now minus timestamp_ms of latest_eigen_scan in Hazelcast (NaN: unknown)', (s) =>
    s.scan ? Math.max(0, s.now - s.scan.timestamp_ms) / 1000 : NaN,
  );
  gauge('scan_bridge_latest_scan_number', 'scan_number of latest_eigen_scan in Hazelcast (NaN: unknown)', (s) => (s.scan ? s.scan.scan_number : NaN));
  gauge('scan_bridge_asset_count', 'asset_count of latest_eigen_scan in Hazelcast (NaN: unknown)', (s) => (s.scan ? s.scan.asset_count : NaN));
  gauge('scan_bridge_hazelcast_up', '1 when latest_eigen_scan could be read from Hazelcast', (s) => (s.scan === undefined ? 0 : 1));
  gauge('scan_bridge_last_push_latency_seconds', 'File event to value stored, for the last push of the current bridge run', (s) => {
    const ms = s.facts.stats?.lastPushLatencyMs;
    return ms === null || ms === undefined ? NaN : ms / 1000;
  });
  gauge('scan_bridge_health_checked_timestamp_seconds', 'When the latest health check ran (NaN: never)', (s) => (s.health ? s.health.checkedAt / 1000 : NaN));
  gauge(
    'scan_bridge_quarantined_files',
    'Scan files in quarantine: they broke a decoding limit and every bridge skips them until they change',
    (s) => s.quarantined,
  );

  new Gauge({
    name: 'scan_bridge_health_status',
    help: 'The latest health status: 1 for the current one, 0 for the others',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { health } = await snapshot();
      for (const status of STATUSES) this.set({ status }, health?.status === status ? 1 : 0);
    },
  });
  new Gauge({
    name: 'scan_bridge_content_warning',
    help: 'Content checks of the latest health check: 1 while the rule warns (frozen, asset_count, schema, nulls), 0 otherwise',
    labelNames: ['rule'],
    registers: [registry],
    async collect() {
      const { health } = await snapshot();
      for (const rule of CONTENT_RULES) this.set({ rule }, health?.content?.some((w) => w.rule === rule) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'scan_bridge_watch_mode',
    help: 'How the live bridge run watches the scan folder: 1 for its mode (events or poll), with the WATCH_MODE setting and the filesystem found',
    labelNames: ['mode', 'setting', 'filesystem'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      const mode = liveBeat(s) ? s.facts.stats?.watchMode : undefined;
      // One sample, for the live run's mode: a mode of an earlier run is not reported.
      this.reset();
      if (mode) this.set({ mode: mode.mode, setting: mode.setting, filesystem: mode.filesystem ?? 'unknown' }, 1);
    },
  });

  const storedCounter = (name: string, help: string, value: (s: Snapshot) => number) =>
    readFamily(registry, name, help, 'counter', async () => [{ value: value(await snapshot()) }]);
  storedCounter('scan_bridge_scans_pushed_total', 'Scans that moved latest_eigen_scan forward, in the current bridge run', (s) => s.facts.stats?.pushed ?? 0);
  storedCounter(
    'scan_bridge_scans_rejected_total',
    'Scan files that stayed broken and were skipped, in the current bridge run',
    (s) => s.facts.stats?.rejected ?? 0,
  );
  storedCounter('scan_bridge_restarts_total', 'Bridge restarts ever (restart jobs confirmed and crash restarts)', (s) => s.restarts);
  storedCounter(
    'scan_bridge_scans_refused_clock_skew_total',
    'Scans refused because they are stamped more than MAX_CLOCK_SKEW_S ahead of the bridge clock, in the current bridge run',
    (s) => s.facts.stats?.clockSkewRefused ?? 0,
  );
  storedCounter(
    'scan_bridge_scans_stamped_before_write_total',
    'Scans delivered although stamped more than MAX_CLOCK_SKEW_S before their file was written (copied or restored folders), in the current bridge run',
    (s) => s.facts.stats?.stampedBeforeWrite ?? 0,
  );

  readFamily(
    registry,
    'scan_bridge_alert_deliveries_failed_total',
    'Alerts given up on (after their tries, refused, or dropped), by destination: its role and host',
    'counter',
    async () => (await snapshot()).alertDeliveries.map((d) => ({ labels: { destination: d.destination }, value: d.failed })),
  );

  const latency = 'scan_bridge_push_latency_seconds';
  readFamily(registry, latency, 'File event to value stored, per push, in the current bridge run', 'histogram', async () => {
    // Stats written by an older bridge may lack the histogram: then the family has no samples.
    const h = (await snapshot()).facts.stats?.pushLatency;
    if (!h) return [];
    return [
      ...h.bucketsMs.map((le, i) => ({ metricName: `${latency}_bucket`, labels: { le: le / 1000 }, value: h.cumulative[i] ?? 0 })),
      { metricName: `${latency}_bucket`, labels: { le: '+Inf' }, value: h.count },
      { metricName: `${latency}_sum`, value: h.sumMs / 1000 },
      { metricName: `${latency}_count`, value: h.count },
    ];
  });

  // BullMQ's queue metrics, with its names and help, from its API (job counts, completed and failed totals).
  new Gauge({
    name: 'bullmq_job_count',
    help: 'Number of jobs in the queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const q of (await snapshot()).queues) for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.name, state }, n);
    },
  });
  const perQueue = (name: string, help: string, value: (q: Snapshot['queues'][number]) => number) =>
    readFamily(registry, name, help, 'counter', async () => (await snapshot()).queues.map((q) => ({ labels: { queue: q.name }, value: value(q) })));
  perQueue('bullmq_job_completed_total', 'Total number of completed jobs', (q) => q.completed);
  perQueue('bullmq_job_failed_total', 'Total number of failed jobs', (q) => q.failed);

  return { contentType: registry.contentType, scrape: () => registry.metrics() };
}
