/**
 * Incidents and fresh-data availability from the health timeline, as pure functions: the caller
 * reads the points and passes the clock in.
 *
 * Each check speaks for the time until the next one, but for no longer than `maxGapMs`: past
 * that, nobody was checking, and that time is `unmonitored`. Unmonitored time after the first
 * check counts against availability (a silent monitor must not look like fresh data); time before
 * the first scan does not count at all (the install is younger than the window, or had no data yet).
 *
 * Between two checks the data age is known from the scan each saw (check time − age = the scan's
 * time stamp), so a threshold is crossed when the data says, not at the check that noticed
 * ({@link ageLine}): the same scan at both checks ages one second a second and crosses a threshold
 * at its time stamp + the threshold; a newer scan at the later check replaced the older one when
 * it was stamped. Scans between two checks are unseen, so where both checks saw fresh data the
 * data is taken as fresh throughout, and a newer scan stamped before the earlier check (it came
 * late, nobody knows when) counts from the check that saw it.
 */
import type { HealthStatus } from './health.js';
import type { TimelinePoint } from './health-timeline.js';

export type IncidentStatus = Exclude<HealthStatus, 'healthy'> | 'unmonitored';

export interface Incident {
  status: IncidentStatus;
  /** The cause the checks named; null for unmonitored time or a status without one. */
  cause: string | null;
  /**
   * Epoch ms it began: when the data age crossed its threshold (warning, stale), else the first
   * check that saw it; unmonitored, when the last check's span ran out.
   */
  start: number;
  /** When the next state began (the data age dropped with a new scan, or the next check); null while it lasts. */
  end: number | null;
  durationMs: number;
  /** Checks that saw it (0 for unmonitored time). */
  checks: number;
}

export interface Availability {
  windowMs: number;
  /** Time inside the window since the first check and the first scan: what the ratio is over. */
  observedMs: number;
  /** Time the data was younger than DATA_WARNING_S. */
  freshMs: number;
  /** Time no check was recorded, after the first one. */
  unmonitoredMs: number;
  /** freshMs / observedMs; null with nothing observed. */
  ratio: number | null;
}

export interface TimelineOptions {
  now: number;
  /** Longest time one check speaks for: about three health intervals. */
  maxGapMs: number;
}

export interface Thresholds {
  warningS: number;
  staleS: number;
}

/** The status the data age alone gives, as the health check judges it (health.ts): healthy, warning up to and at `staleS`, then stale. */
export function ageStatus(ageS: number, t: { warningS: number; staleS: number }): 'healthy' | 'warning' | 'stale' {
  if (ageS < t.warningS) return 'healthy';
  return ageS <= t.staleS ? 'warning' : 'stale';
}

/** Two checks' scans apart by less than this are the same scan (ages are kept to 0.1 s). */
const SAME_SCAN_MS = 200;

/**
 * The data age between two checks `p` and `q` (q within the gap one check speaks for): up to
 * `drop` it is the age of p's scan (stamped `s1`), from `drop` that of q's (`s2`); `drop` null: one
 * scan throughout, or q's age is unknown.
 */
export interface AgeLine {
  s1: number | null;
  s2: number | null;
  drop: number | null;
}

export function ageLine(p: TimelinePoint, q: TimelinePoint, warningS: number): AgeLine {
  const s1 = p.a === null ? null : p.t - p.a * 1000;
  const s2 = q.a === null ? null : q.t - q.a * 1000;
  if (s2 === null || (s1 !== null && s2 <= s1 + SAME_SCAN_MS)) return { s1, s2, drop: null };
  // Fresh at both checks: unseen scans between them kept it fresh.
  if (p.a !== null && p.a < warningS && q.a! < warningS) return { s1, s2, drop: p.t };
  // A server unreachable at p: nobody knows when it came back, so q's scan counts from q.
  if (p.a === null && p.s === 'error') return { s1, s2, drop: q.t };
  return { s1, s2, drop: s2 > p.t ? s2 : q.t };
}

/** Milliseconds of [lo, hi) ⊆ [p.t, q.t) when the data was younger than `warningS`, by the age line. */
function freshBetween(p: TimelinePoint, q: TimelinePoint, lo: number, hi: number, warningS: number): number {
  const w = warningS * 1000;
  const line = ageLine(p, q, warningS);
  const overlap = (a: number, b: number) => Math.max(0, Math.min(b, hi) - Math.max(a, lo));
  const drop = line.drop ?? q.t;
  const before = line.s1 === null ? 0 : overlap(p.t, Math.min(drop, line.s1 + w));
  const after = line.drop === null ? 0 : overlap(drop, Math.min(q.t, line.s2! + w));
  return before + after;
}

const AGE_CAUSES = new Set(['bridge_behind', 'scanner_silent']);

/** 0 healthy, 1 warning, 2 stale for a status the data age alone gives; null for any other. */
function ageLevel(p: TimelinePoint): 0 | 1 | 2 | null {
  if (p.s === 'healthy') return 0;
  if (p.s === 'warning' && p.c === undefined) return 1;
  if (p.s === 'stale' && p.c !== undefined && AGE_CAUSES.has(p.c)) return 2;
  return null;
}

/** When the status changed from p's to q's: where the data age crossed the threshold between them, else at q. */
function boundary(p: TimelinePoint, q: TimelinePoint, t: Thresholds | undefined): number {
  const from = ageLevel(p);
  const to = ageLevel(q);
  if (t === undefined || from === null || to === null || from === to || p.a === null || q.a === null) return q.t;
  const line = ageLine(p, q, t.warningS);
  if (to < from) return line.drop ?? q.t;
  const thr = (to === 2 ? t.staleS : t.warningS) * 1000;
  const { s1, s2, drop } = line;
  let at: number;
  if (drop === null) at = s1! + thr;
  else if (drop - s2! >= thr) at = s1! + thr < drop ? s1! + thr : drop;
  else at = s2! + thr;
  return Math.min(q.t, Math.max(p.t, at));
}

interface Segment {
  start: number;
  end: number;
  status: HealthStatus | 'unmonitored';
  cause: string | null;
  /** Whether a check starts this segment. */
  checked: boolean;
}

/** Each check with the next one, when that is within the gap one check speaks for. */
function pairs(points: readonly TimelinePoint[], o: TimelineOptions) {
  const sorted = [...points].filter((p) => p.t <= o.now).sort((a, b) => a.t - b.t);
  return sorted.map((p, i) => {
    const next = sorted[i + 1]?.t ?? o.now;
    const spoken = Math.min(next, p.t + o.maxGapMs);
    const q = sorted[i + 1] !== undefined && next - p.t <= o.maxGapMs ? sorted[i + 1] : undefined;
    return { p, q, next, spoken };
  });
}

/** Consecutive spans of time, each with the status of the check it belongs to. Points oldest first. */
function segments(points: readonly TimelinePoint[], o: TimelineOptions & { thresholds?: Thresholds }): Segment[] {
  const out: Segment[] = [];
  let start: number | undefined;
  for (const { p, q, next, spoken } of pairs(points, o)) {
    const end = q ? boundary(p, q, o.thresholds) : spoken;
    out.push({ start: start ?? p.t, end, status: p.s, cause: p.c ?? null, checked: true });
    if (next > spoken) out.push({ start: spoken, end: next, status: 'unmonitored', cause: null, checked: false });
    start = q ? end : undefined;
  }
  return out;
}

/** Share of the last `windowMs`, since the first scan, when the data was younger than `warningS`. */
export function availability(points: readonly TimelinePoint[], o: TimelineOptions & { windowMs: number; warningS: number }): Availability {
  const all = pairs(points, o);
  const first = all.find(({ p }) => p.a !== null)?.p;
  const from = Math.max(o.now - o.windowMs, first ? first.t - first.a! * 1000 : o.now);
  let observedMs = 0;
  let freshMs = 0;
  let unmonitoredMs = 0;
  for (const { p, q, next, spoken } of all) {
    const lo = Math.max(p.t, from);
    const hi = Math.min(spoken, o.now);
    if (hi > lo) {
      observedMs += hi - lo;
      // Without the next check's age, this check's speaks for the span as it was.
      if (q && q.a !== null) freshMs += freshBetween(p, q, lo, hi, o.warningS);
      else if (p.a !== null && p.a < o.warningS) freshMs += hi - lo;
    }
    const gap = Math.max(0, Math.min(next, o.now) - Math.max(spoken, from));
    observedMs += gap;
    unmonitoredMs += gap;
  }
  return { windowMs: o.windowMs, observedMs, freshMs, unmonitoredMs, ratio: observedMs > 0 ? freshMs / observedMs : null };
}

/**
 * Every span of a status other than healthy, newest first: one per change of status or cause,
 * that overlaps the time since `since`. With `thresholds`, a change the data age alone explains
 * begins where the age crossed the threshold; without, at the check.
 */
export function incidents(points: readonly TimelinePoint[], o: TimelineOptions & { since: number; thresholds?: Thresholds }): Incident[] {
  const out: Incident[] = [];
  let open: Incident | undefined;
  for (const s of segments(points, o)) {
    const same = open !== undefined && open.status === s.status && open.cause === s.cause;
    if (!same) {
      if (open !== undefined) open.end = s.start;
      open = undefined;
      if (s.status !== 'healthy') {
        open = { status: s.status, cause: s.cause, start: s.start, end: null, durationMs: 0, checks: 0 };
        out.push(open);
      }
    }
    if (open !== undefined && s.checked) open.checks++;
  }
  for (const inc of out) inc.durationMs = (inc.end ?? o.now) - inc.start;
  return out.filter((inc) => (inc.end ?? o.now) > o.since).reverse();
}
