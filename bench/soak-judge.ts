/**
 * The soak's verdict (soak.ts), pure: growth of a process's memory and descriptors after its
 * warm-up, the Redis bound computed from the job retention's caps, log lines per simulated day,
 * and pass/fail. No I/O here, so test/soak-judge.test.ts checks it without servers.
 */

export interface Point {
  t: number;
  v: number;
}

/**
 * Samples each side of the comparison: a third of those after the warm-up, five at least. A
 * worker's heap swings by 80 MB between collections when checks run ten a second: the median of
 * a few samples is noise, of a third of the run a level.
 */
const MIN_WINDOW = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Growth {
  /** Median of the first third of the samples after the warm-up. */
  from: number;
  /** Median of the last third. */
  to: number;
  growth: number;
}

export interface Warmup {
  /** A process's own warm-up, from its first sample. */
  warmupMs: number;
  /**
   * When the system is steady, whatever the process: every bounded structure has reached its
   * size (the newest day folder holds a day of files, history a TTL of scans, the health-check
   * jobs their cap). Growth before it is filling, not leaking.
   */
  steadyFromMs: number;
}

/**
 * How much a series grew from just after its warm-up to its end; null when the process did not
 * live long enough after it for two windows of samples.
 */
export function growthAfterWarmup(series: Point[], w: Warmup): Growth | null {
  if (series.length === 0) return null;
  const from = Math.max(series[0]!.t + w.warmupMs, w.steadyFromMs);
  const after = series.filter((p) => p.t >= from).map((p) => p.v);
  if (after.length < 2 * MIN_WINDOW) return null;
  const window = Math.max(MIN_WINDOW, Math.floor(after.length / 3));
  const first = median(after.slice(0, window));
  const last = median(after.slice(-window));
  return { from: first, to: last, growth: last - first };
}

/** A set of Redis keys whose size a cap bounds: `entries` of at most `cap`, taking `bytes` now. */
export interface CappedClass {
  name: string;
  /** What bounds it, in words (the setting or job option). */
  capBy: string;
  entries: number;
  cap: number;
  bytes: number;
  /** What one more entry takes, at most: measured, or computed from its own caps. */
  perEntryBytes: number;
}

export interface RedisBound {
  /** `used_memory` when every cap is full, at the sizes measured per entry. */
  usedMemoryBytes: number;
  /** Keys when every cap is full. */
  keys: number;
}

/**
 * The bound: what Redis holds at the end, plus the room every cap still leaves, at `perEntryBytes`
 * an entry. `keysPerEntry`: keys one entry adds (a job is its hash and its log list: two; an entry
 * of a list or set, none).
 */
export function redisBound(end: { usedMemoryBytes: number; keys: number }, classes: Array<CappedClass & { keysPerEntry: number }>): RedisBound {
  let bytes = end.usedMemoryBytes;
  let keys = end.keys;
  for (const c of classes) {
    const room = Math.max(0, c.cap - c.entries);
    bytes += c.perEntryBytes * room;
    keys += c.keysPerEntry * room;
  }
  return { usedMemoryBytes: Math.round(bytes), keys };
}

/** Log lines by simulated day (day 0 starts at `start`), by level name. */
export function linesPerDay(lines: Array<{ time: number; level: string }>, start: number, dayMs: number): Array<Record<string, number>> {
  const days: Array<Record<string, number>> = [];
  for (const l of lines) {
    const d = Math.max(0, Math.floor((l.time - start) / dayMs));
    while (days.length <= d) days.push({ total: 0 });
    const day = days[d]!;
    day.total!++;
    day[l.level] = (day[l.level] ?? 0) + 1;
  }
  return days;
}

export interface ProcessSeries {
  name: string;
  pid: number;
  /** The scan-bridge roles are judged; the servers' figures are reported only. */
  judged: boolean;
  rssMb: Point[];
  heapMb: Point[];
  fds: Point[];
}

export interface Limits extends Warmup {
  /** Growth of resident memory or heap after the warm-up, MB. */
  memoryMb: number;
  /** Growth of open descriptors after the warm-up. */
  fds: number;
}

export interface SoakFacts {
  processes: ProcessSeries[];
  lost: number;
  backwards: number;
  redis: { maxUsedMemoryBytes: number; maxKeys: number; bound: RedisBound };
  /** Each map: the largest size seen and its bound (none: reported only). */
  hazelcast: Array<{ map: string; max: number; bound: number | null }>;
  unplannedExits: number;
}

/** Every failed check, in words; empty when the soak passed. */
export function judge(f: SoakFacts, limits: Limits): string[] {
  const failures: string[] = [];
  if (f.lost > 0) failures.push(`${f.lost} scans never reached history`);
  if (f.backwards > 0) failures.push(`latest_eigen_scan moved backwards ${f.backwards} times`);
  if (f.unplannedExits > 0) failures.push(`${f.unplannedExits} processes exited that the run did not stop`);
  for (const p of f.processes.filter((q) => q.judged)) {
    for (const [what, series, limit] of [
      ['resident memory', p.rssMb, limits.memoryMb],
      ['heap', p.heapMb, limits.memoryMb],
      ['open descriptors', p.fds, limits.fds],
    ] as const) {
      const g = growthAfterWarmup(series, limits);
      if (g && g.growth > limit)
        failures.push(`${p.name} (pid ${p.pid}): ${what} grew by ${round(g.growth)} after its warm-up (${round(g.from)} → ${round(g.to)}; at most ${limit})`);
    }
  }
  if (f.redis.maxUsedMemoryBytes > f.redis.bound.usedMemoryBytes)
    failures.push(`Redis used_memory reached ${f.redis.maxUsedMemoryBytes} bytes, above its bound of ${f.redis.bound.usedMemoryBytes}`);
  if (f.redis.maxKeys > f.redis.bound.keys) failures.push(`Redis held ${f.redis.maxKeys} keys, above its bound of ${f.redis.bound.keys}`);
  for (const m of f.hazelcast)
    if (m.bound !== null && m.max > m.bound) failures.push(`Hazelcast map ${m.map} held ${m.max} entries, above its bound of ${m.bound}`);
  return failures;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** What the verdict reads of the soak's JSON (soak.ts prints it): a run can be judged again from its file. */
export interface SoakReport {
  processes: Array<{ name: string; pid: number; judged: boolean }>;
  /** `procs`: by `<name>:<pid>`, [resident MB, heap MB or null, descriptors]. */
  samples: Array<{ t_s: number; procs: Record<string, [number, number | null, number]> }>;
  redis: { used_memory_max: number; keys_max: number; bound: RedisBound };
  hazelcast: { maps: Array<{ map: string; max: number; bound: number | null }> };
  totals: { lost: number; latest_backwards: number; unplanned_exits: unknown[]; not_shut_down_by_sigterm: unknown[] };
}

export function factsFromReport(r: SoakReport): SoakFacts {
  const judged = new Set(r.processes.filter((p) => p.judged).map((p) => `${p.name}:${p.pid}`));
  const by = new Map<string, ProcessSeries>();
  for (const s of r.samples)
    for (const [key, [rss, heap, fds]] of Object.entries(s.procs)) {
      const at = key.lastIndexOf(':');
      const p = by.get(key) ?? { name: key.slice(0, at), pid: Number(key.slice(at + 1)), judged: judged.has(key), rssMb: [], heapMb: [], fds: [] };
      by.set(key, p);
      const t = s.t_s * 1000;
      p.rssMb.push({ t, v: rss });
      if (heap !== null) p.heapMb.push({ t, v: heap });
      p.fds.push({ t, v: fds });
    }
  return {
    processes: [...by.values()],
    lost: r.totals.lost,
    backwards: r.totals.latest_backwards,
    redis: { maxUsedMemoryBytes: r.redis.used_memory_max, maxKeys: r.redis.keys_max, bound: r.redis.bound },
    hazelcast: r.hazelcast.maps,
    unplannedExits: r.totals.unplanned_exits.length + r.totals.not_shut_down_by_sigterm.length,
  };
}
