/**
 * The latency phase's comparisons and issue 24's targets, all against the Python peer (the old
 * design) measured in the same run: p50 at least 1.3 × faster; p99 below the peer's; CPU per scan
 * (all threads, idle time between scans included) no more than the peer's; idle CPU at most 1 % of
 * a core; resident memory at idle at most 1.5 × the peer's. And the mechanism table: what taking
 * each data-path mechanism away (variants.ts) does to p50, p99 and CPU per scan.
 */
import { r2, type Summary } from './harness.js';

type Lat = Summary & { missing: number };
interface Cost {
  while_scanning: { cpu_ms_per_scan: number | null };
  idle: { percent_of_a_core: number; cpu_s_per_minute: number | null };
  rss_mb_idle_end: number;
  threads: number;
}
interface Entry {
  latency_ms: Lat;
  cost: Cost;
}

export const TARGETS_24 = { p50FasterBy: 1.3, idlePercentOfCore: 1, rssTimesPeer: 1.5 };

export function compare(bridge: Entry, peer: Entry, floor: Lat) {
  const b = bridge.latency_ms;
  const p = peer.latency_ms;
  const ok = (x: number | null, y: number | null, f: (a: number, c: number) => boolean) => x !== null && y !== null && b.missing === 0 && f(x, y);
  const ratio = (x: number | null, y: number | null) => (x !== null && y !== null && y > 0 ? r2(x / y) : null);
  const bc = bridge.cost;
  const pc = peer.cost;
  return {
    table: [
      {
        who: 'scan-bridge',
        p50_ms: b.p50,
        p99_ms: b.p99,
        cpu_ms_per_scan: bc.while_scanning.cpu_ms_per_scan,
        idle_cpu_s_per_min: bc.idle.cpu_s_per_minute,
        idle_rss_mb: bc.rss_mb_idle_end,
        threads: bc.threads,
      },
      {
        who: 'python peer (old design)',
        p50_ms: p.p50,
        p99_ms: p.p99,
        cpu_ms_per_scan: pc.while_scanning.cpu_ms_per_scan,
        idle_cpu_s_per_min: pc.idle.cpu_s_per_minute,
        idle_rss_mb: pc.rss_mb_idle_end,
        threads: pc.threads,
      },
      { who: 'floor (map.set of the same JSON)', p50_ms: floor.p50, p99_ms: floor.p99 },
    ],
    targets: [
      {
        name: `p50 at least ${TARGETS_24.p50FasterBy} x faster than the python peer`,
        value: b.p50,
        target: `<= ${r2(p.p50 === null ? null : p.p50 / TARGETS_24.p50FasterBy)} ms`,
        ratio: ratio(p.p50, b.p50),
        met: ok(b.p50, p.p50, (x, y) => x * TARGETS_24.p50FasterBy <= y),
      },
      { name: 'p99 below the python peer p99', value: b.p99, target: `< ${p.p99} ms`, ratio: ratio(b.p99, p.p99), met: ok(b.p99, p.p99, (x, y) => x < y) },
      {
        name: 'CPU per scan (all threads, idle included) no more than the python peer',
        value: bc.while_scanning.cpu_ms_per_scan,
        target: `<= ${pc.while_scanning.cpu_ms_per_scan} ms`,
        ratio: ratio(bc.while_scanning.cpu_ms_per_scan, pc.while_scanning.cpu_ms_per_scan),
        met: ok(bc.while_scanning.cpu_ms_per_scan, pc.while_scanning.cpu_ms_per_scan, (x, y) => x <= y),
      },
      {
        name: `idle CPU at most ${TARGETS_24.idlePercentOfCore} % of a core`,
        value: bc.idle.percent_of_a_core,
        target: `<= ${TARGETS_24.idlePercentOfCore} %`,
        ratio: null,
        met: bc.idle.percent_of_a_core <= TARGETS_24.idlePercentOfCore,
      },
      {
        name: `resident memory at idle at most ${TARGETS_24.rssTimesPeer} x the python peer`,
        value: bc.rss_mb_idle_end,
        target: `<= ${r2(pc.rss_mb_idle_end * TARGETS_24.rssTimesPeer)} MB`,
        ratio: ratio(bc.rss_mb_idle_end, pc.rss_mb_idle_end),
        met: bc.rss_mb_idle_end <= pc.rss_mb_idle_end * TARGETS_24.rssTimesPeer,
      },
    ],
  };
}

const EFFECT: Record<string, string> = {
  'main-thread': 'decode threads (without them: each file decoded on the main thread)',
  fifo: 'newest-first decode queue (without it: arrival order)',
};

/** What each mechanism does, as the product minus the variant without it: negative = the mechanism makes it faster or cheaper. */
export function mechanisms(entries: Record<string, Entry>) {
  const product = entries.product;
  if (!product) return [];
  const d = (a: number | null, b: number | null) => (a !== null && b !== null ? r2(a - b) : null);
  return Object.entries(entries)
    .filter(([name]) => name in EFFECT)
    .map(([name, e]) => ({
      mechanism: EFFECT[name],
      variant: name,
      p50_ms: { with: product.latency_ms.p50, without: e.latency_ms.p50, effect: d(product.latency_ms.p50, e.latency_ms.p50) },
      p99_ms: { with: product.latency_ms.p99, without: e.latency_ms.p99, effect: d(product.latency_ms.p99, e.latency_ms.p99) },
      cpu_ms_per_scan: {
        with: product.cost.while_scanning.cpu_ms_per_scan,
        without: e.cost.while_scanning.cpu_ms_per_scan,
        effect: d(product.cost.while_scanning.cpu_ms_per_scan, e.cost.while_scanning.cpu_ms_per_scan),
      },
      idle_rss_mb: { with: product.cost.rss_mb_idle_end, without: e.cost.rss_mb_idle_end },
    }));
}
