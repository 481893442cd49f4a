/**
 * Incidents and fresh-data availability from the health timeline, as pure functions: the caller
 * reads the points and passes the clock in.
 *
 * Each check speaks for the time until the next one, but for no longer than `maxGapMs`: past
 * that, nobody was checking, and that time is `unmonitored`. Unmonitored time after the first
 * check counts against availability (a silent monitor must not look like fresh data); time before
 * the first check does not count at all (the install is younger than the window).
 */
import type { HealthStatus } from './health.js';
import type { TimelinePoint } from './health-timeline.js';

export type IncidentStatus = Exclude<HealthStatus, 'healthy'> | 'unmonitored';

export interface Incident {
  status: IncidentStatus;
  /** The cause the checks named; null for unmonitored time or a status without one. */
  cause: string | null;
  /** Epoch ms of the first check that saw it (or, unmonitored, when the last check's span ran out). */
  start: number;
  /** When the next, different state was first seen; null while it lasts. */
  end: number | null;
  durationMs: number;
  /** Checks that saw it (0 for unmonitored time). */
  checks: number;
}

export interface Availability {
  windowMs: number;
  /** Time inside the window since the first check: what the ratio is over. */
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

/** The status the data age alone gives, as the health check judges it (health.ts): healthy, warning up to and at `staleS`, then stale. */
export function ageStatus(ageS: number, t: { warningS: number; staleS: number }): 'healthy' | 'warning' | 'stale' {
  if (ageS < t.warningS) return 'healthy';
  return ageS <= t.staleS ? 'warning' : 'stale';
}

interface Segment {
  start: number;
  end: number;
  status: HealthStatus | 'unmonitored';
  cause: string | null;
  ageS: number | null;
  /** Whether a check starts this segment. */
  checked: boolean;
}

/** Consecutive spans of time, each with what the check at its start saw. Points oldest first. */
function segments(points: readonly TimelinePoint[], o: TimelineOptions): Segment[] {
  const sorted = [...points].filter((p) => p.t <= o.now).sort((a, b) => a.t - b.t);
  const out: Segment[] = [];
  sorted.forEach((p, i) => {
    const next = sorted[i + 1]?.t ?? o.now;
    const spoken = Math.min(next, p.t + o.maxGapMs);
    out.push({ start: p.t, end: spoken, status: p.s, cause: p.c ?? null, ageS: p.a, checked: true });
    if (next > spoken) out.push({ start: spoken, end: next, status: 'unmonitored', cause: null, ageS: null, checked: false });
  });
  return out;
}

/** Share of the last `windowMs` when the data was younger than `warningS`. */
export function availability(points: readonly TimelinePoint[], o: TimelineOptions & { windowMs: number; warningS: number }): Availability {
  const from = o.now - o.windowMs;
  let observedMs = 0;
  let freshMs = 0;
  let unmonitoredMs = 0;
  for (const s of segments(points, o)) {
    const len = Math.max(0, Math.min(s.end, o.now) - Math.max(s.start, from));
    if (len === 0) continue;
    observedMs += len;
    if (s.status === 'unmonitored') unmonitoredMs += len;
    else if (s.ageS !== null && s.ageS < o.warningS) freshMs += len;
  }
  return { windowMs: o.windowMs, observedMs, freshMs, unmonitoredMs, ratio: observedMs > 0 ? freshMs / observedMs : null };
}

/**
 * Every span of a status other than healthy, newest first: one per change of status or cause,
 * that overlaps the time since `since`.
 */
export function incidents(points: readonly TimelinePoint[], o: TimelineOptions & { since: number }): Incident[] {
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
