import { Counter, Gauge, Registry } from 'prom-client';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import { keys } from '../keys.js';
import { readBridgeFacts } from '../bridge/facts.js';
import { quarantineSize } from '../bridge/quarantine.js';
import type { PushLatencyHistogram } from '../bridge/stats.js';
import { STATUSES, type HealthResult, type LatestScan } from '../health.js';
import type { JobQueues } from '../jobs/table.js';
import { withTimeout } from '../time.js';

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

export function createMetrics(deps: MetricsDeps): Metrics {
  const { config, redis, hazelcast, queues } = deps;
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const c = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  const up = g('scan_bridge_up', '1 when a bridge heartbeat is live, 0 otherwise');
  const uptime = g('scan_bridge_uptime_seconds', 'Seconds since the live bridge run started (0 when none is live)');
  const dataAge = g('scan_bridge_data_age_seconds', 'Now minus timestamp_ms of latest_eigen_scan in Hazelcast (NaN: unknown)');
  const scanNumber = g('scan_bridge_latest_scan_number', 'scan_number of latest_eigen_scan in Hazelcast (NaN: unknown)');
  const assets = g('scan_bridge_asset_count', 'asset_count of latest_eigen_scan in Hazelcast (NaN: unknown)');
  const hzUp = g('scan_bridge_hazelcast_up', '1 when latest_eigen_scan could be read from Hazelcast');
  const lastLatency = g('scan_bridge_last_push_latency_seconds', 'File event to value stored, for the last push of the current bridge run');
  const pushed = c('scan_bridge_scans_pushed_total', 'Scans that moved latest_eigen_scan forward, in the current bridge run');
  const rejected = c('scan_bridge_scans_rejected_total', 'Scan files that stayed broken and were skipped, in the current bridge run');
  const restarts = c('scan_bridge_restarts_total', 'Bridge restarts ever (restart jobs confirmed and crash restarts)');
  const skewRefused = c('scan_bridge_scans_refused_clock_skew_total', 'Scans refused because their stamp is off by more than MAX_CLOCK_SKEW_S, in the current bridge run');
  const watchMode = g('scan_bridge_watch_mode', 'How the live bridge run watches the scan folder: 1 for its mode (events or poll), with the WATCH_MODE setting and the filesystem found', ['mode', 'setting', 'filesystem']);
  const health = g('scan_bridge_health_status', 'The latest health status: 1 for the current one, 0 for the others', ['status']);
  const checked = g('scan_bridge_health_checked_timestamp_seconds', 'When the latest health check ran (NaN: never)');
  const quarantined = g('scan_bridge_quarantined_files', 'Scan files in quarantine: they broke a decoding limit and every bridge skips them until they change');

  async function latestScan(): Promise<LatestScan | null | 'unreachable'> {
    if (!hazelcast.connected()) return 'unreachable';
    try {
      const v = await withTimeout((async () => (await hazelcast.client.getMap<string, string>(config.hzMap)).get(config.hzKey))(), HZ_TIMEOUT_MS, 'Hazelcast');
      return v === null ? null : (JSON.parse(v) as LatestScan);
    } catch {
      return 'unreachable';
    }
  }

  async function scrapeOnce(): Promise<string> {
    const k = keys(config.queuePrefix);
    const now = Date.now();
    const [facts, [restartCount, latestHealth], scan, queueText, quarantinedFiles] = await Promise.all([
      readBridgeFacts(redis, config.queuePrefix),
      redis.mget(k.restarts, k.healthLatest),
      latestScan(),
      Promise.all(Object.values(queues).map((q) => q.exportPrometheusMetrics())),
      quarantineSize(redis, config.queuePrefix),
    ]);
    quarantined.set(quarantinedFiles);
    const hb = facts.heartbeat;
    const live = hb !== null && now - hb.beatAt <= config.bridgeHeartbeatTtlMs;
    up.set(live ? 1 : 0);
    uptime.set(live ? Math.max(0, now - hb.startedAt) / 1000 : 0);
    hzUp.set(scan === 'unreachable' ? 0 : 1);
    const payload = scan === 'unreachable' ? null : scan;
    dataAge.set(payload ? Math.max(0, now - payload.timestamp_ms) / 1000 : NaN);
    scanNumber.set(payload ? payload.scan_number : NaN);
    assets.set(payload ? payload.asset_count : NaN);
    const st = facts.stats;
    lastLatency.set(st?.lastPushLatencyMs != null ? st.lastPushLatencyMs / 1000 : NaN);
    for (const [counter, v] of [
      [pushed, st?.pushed ?? 0],
      [rejected, st?.rejected ?? 0],
      [restarts, Number(restartCount ?? 0)],
      [skewRefused, st?.clockSkewRefused ?? 0],
    ] as const) {
      counter.reset();
      counter.inc(v);
    }
    watchMode.reset();
    if (live && st?.watchMode) watchMode.set({ mode: st.watchMode.mode, setting: st.watchMode.setting, filesystem: st.watchMode.filesystem ?? 'unknown' }, 1);
    const h = latestHealth ? (JSON.parse(latestHealth) as HealthResult) : null;
    for (const s of STATUSES) health.set({ status: s }, h?.status === s ? 1 : 0);
    checked.set(h ? h.checkedAt / 1000 : NaN);

    // Stats written by an older bridge may lack the histogram.
    const histogram: PushLatencyHistogram | undefined = st?.pushLatency;
    return [await registry.metrics(), histogram ? histogramText(histogram) : '', mergeFamilies(queueText)].filter((s) => s.trim() !== '').map((s) => s.trimEnd()).join('\n') + '\n';
  }

  // One scrape at a time: the gauges are shared state between setting and rendering.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    contentType: registry.contentType,
    scrape() {
      const next = chain.then(scrapeOnce, scrapeOnce);
      chain = next.catch(() => undefined);
      return next;
    },
  };
}

function histogramText(h: PushLatencyHistogram): string {
  const name = 'scan_bridge_push_latency_seconds';
  const lines = [`# HELP ${name} File event to value stored, per push, in the current bridge run`, `# TYPE ${name} histogram`];
  h.bucketsMs.forEach((le, i) => lines.push(`${name}_bucket{le="${le / 1000}"} ${h.cumulative[i] ?? 0}`));
  lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sumMs / 1000}`, `${name}_count ${h.count}`);
  return lines.join('\n');
}

/**
 * BullMQ's exports, one per queue, repeat the HELP and TYPE lines of each family; the text
 * format allows them once, so the samples are regrouped under a single header per family.
 */
export function mergeFamilies(texts: string[]): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const line of texts.flatMap((t) => t.split('\n'))) {
    const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
    const name = meta ? meta[2]! : /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line)?.[1];
    if (!name) continue;
    const f = families.get(name) ?? { header: [], samples: [] };
    families.set(name, f);
    if (meta) {
      if (!f.header.some((h) => h.startsWith(`# ${meta[1]} `))) f.header.push(line);
    } else {
      // `{queue="x", state="y"}`: drop the space after the comma, which strict parsers refuse.
      f.samples.push(line.replace(/",\s+/g, '",'));
    }
  }
  return [...families.values()].flatMap((f) => [...f.header, ...f.samples]).join('\n');
}
