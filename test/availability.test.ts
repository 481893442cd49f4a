import { describe, expect, it } from 'vitest';
import { availability, incidents } from '../src/availability.js';
import type { TimelinePoint } from '../src/health-timeline.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

/** Checks every 30 s from `from`, each given by `at(t)`. */
function checks(from: number, to: number, at: (t: number) => Omit<TimelinePoint, 't'>): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  for (let t = from; t < to; t += 30 * S) out.push({ t, ...at(t) });
  return out;
}

const healthy = { s: 'healthy', a: 1 } as const;
const opts = { maxGapMs: 90 * S, warningS: 30 };

describe('availability', () => {
  it('is 1 when every check saw fresh data, and counts only the time since the first check', () => {
    const now = 10 * H;
    const points = checks(now - 2 * H, now, () => healthy);
    const day = availability(points, { ...opts, now, windowMs: 24 * H });
    expect(day).toEqual({ windowMs: 24 * H, observedMs: 2 * H, freshMs: 2 * H, unmonitoredMs: 0, ratio: 1 });
  });

  it('attributes each check to the time until the next one, by data age against DATA_WARNING_S', () => {
    const now = 100 * H;
    // 10 minutes of stale data in the middle of an hour.
    const points = checks(now - H, now, (t) => (t >= now - 40 * MIN && t < now - 30 * MIN ? { s: 'stale', c: 'bridge_behind', a: 75 } : healthy));
    const a = availability(points, { ...opts, now, windowMs: 24 * H });
    expect(a.observedMs).toBe(H);
    expect(a.freshMs).toBe(50 * MIN);
    expect(a.ratio).toBeCloseTo(50 / 60, 10);
    // Warning data (age ≥ DATA_WARNING_S) is not fresh either; an unknown age is not fresh.
    const warn = availability(
      [
        { t: 0, s: 'warning', a: 30 },
        { t: 30 * S, s: 'error', c: 'hazelcast_unreachable', a: null },
        { t: 60 * S, ...healthy },
      ],
      { ...opts, now: 90 * S, windowMs: H },
    );
    expect(warn).toMatchObject({ observedMs: 90 * S, freshMs: 30 * S });
  });

  it('counts a silence after the first check as unmonitored and not fresh', () => {
    const now = 10 * H;
    // Checks stop for an hour, then resume.
    const points = [...checks(now - 3 * H, now - 2 * H, () => healthy), ...checks(now - H, now, () => healthy)];
    const a = availability(points, { ...opts, now, windowMs: 24 * H });
    expect(a.observedMs).toBe(3 * H);
    expect(a.unmonitoredMs).toBe(H - 90 * S + 30 * S);
    expect(a.freshMs).toBe(3 * H - a.unmonitoredMs);
    // Nothing at all since the last check: the time after its span is unmonitored up to now.
    const silent = availability([{ t: 0, ...healthy }], { ...opts, now: H, windowMs: H });
    expect(silent).toMatchObject({ observedMs: H, freshMs: 90 * S, unmonitoredMs: H - 90 * S });
  });

  it('clips to the window: the check before the window speaks for its start', () => {
    const now = 10 * 24 * H;
    const points = checks(now - 8 * 24 * H, now, (t) => (t < now - 2 * 24 * H ? { s: 'stale', c: 'scanner_silent', a: 500 } : healthy));
    expect(availability(points, { ...opts, now, windowMs: 24 * H }).ratio).toBe(1);
    const week = availability(points, { ...opts, now, windowMs: 7 * 24 * H });
    expect(week.observedMs).toBe(7 * 24 * H);
    // The first healthy check's scan is stamped a second before it: fresh from then.
    expect(week.ratio).toBeCloseTo((2 * 24 * H + S) / (7 * 24 * H), 10);
  });

  it('counts from the first scan: the time before any scan existed is not held against the data', () => {
    // A fresh start: the first check finds no scan yet; the scanner's first is stamped 1.5 s before the second check.
    const points: TimelinePoint[] = [
      { t: 0, s: 'warning', c: 'starting', a: null },
      { t: 30 * S, s: 'healthy', a: 1.5 },
    ];
    const a = availability(points, { ...opts, now: 31 * S, windowMs: H });
    expect(a).toEqual({ windowMs: H, observedMs: 2.5 * S, freshMs: 2.5 * S, unmonitoredMs: 0, ratio: 1 });
    // No scan ever: nothing to measure yet.
    expect(availability([{ t: 0, s: 'stale', c: 'scanner_silent', a: null }], { ...opts, now: 60 * S, windowMs: H }).ratio).toBeNull();
    // After the first scan, a check that cannot read the data is not fresh.
    const later = availability([...points, { t: 60 * S, s: 'error', c: 'hazelcast_unreachable', a: null }], { ...opts, now: 90 * S, windowMs: H });
    expect(later).toMatchObject({ observedMs: 61.5 * S, freshMs: 31.5 * S });
  });

  it('is not fresh from when the data age crossed DATA_WARNING_S, by the scan times, not from the check that saw it', () => {
    // The scanner's last scan is stamped at 25 s; it speaks again at 130 s, a scan a second.
    const ages: Array<[number, TimelinePoint['s'], number, string?]> = [
      [0, 'healthy', 1],
      [30, 'healthy', 5],
      [60, 'warning', 35],
      [90, 'stale', 65, 'scanner_silent'],
      [120, 'stale', 95, 'scanner_silent'],
      [150, 'healthy', 1],
    ];
    const points = ages.map(([t, s, a, c]): TimelinePoint => ({ t: t * S, s, a, ...(c ? { c } : {}) }));
    const a = availability(points, { ...opts, now: 180 * S, windowMs: H });
    // Fresh until 25 + 30 s, and again from the scan stamped 149 s.
    expect(a).toMatchObject({ observedMs: 180 * S, freshMs: 55 * S + 31 * S });
  });

  it('is null with no checks', () => {
    expect(availability([], { ...opts, now: H, windowMs: H }).ratio).toBeNull();
  });
});

describe('incidents', () => {
  it('lists each change of status or cause with start, end, duration and cause, newest first', () => {
    const now = 10 * H;
    const base = now - H;
    const state = (t: number): Omit<TimelinePoint, 't'> => {
      const m = (t - base) / MIN;
      if (m >= 10 && m < 12) return { s: 'warning', a: 40 };
      if (m >= 12 && m < 15) return { s: 'stale', c: 'bridge_behind', a: 70 };
      if (m >= 15 && m < 16) return { s: 'down', c: 'no_heartbeat', a: 80 };
      return healthy;
    };
    const list = incidents(checks(base, now, state), { now, since: now - 24 * H, maxGapMs: 90 * S });
    expect(list).toEqual([
      { status: 'down', cause: 'no_heartbeat', start: base + 15 * MIN, end: base + 16 * MIN, durationMs: MIN, checks: 2 },
      { status: 'stale', cause: 'bridge_behind', start: base + 12 * MIN, end: base + 15 * MIN, durationMs: 3 * MIN, checks: 6 },
      { status: 'warning', cause: null, start: base + 10 * MIN, end: base + 12 * MIN, durationMs: 2 * MIN, checks: 4 },
    ]);
  });

  it('a change of cause within one status is a new incident; an incident still open has no end', () => {
    const now = H;
    const points: TimelinePoint[] = [
      { t: 0, ...healthy },
      { t: 30 * S, s: 'stale', c: 'bridge_behind', a: 70 },
      { t: 60 * S, s: 'stale', c: 'scanner_silent', a: 100 },
      ...checks(90 * S, now, () => ({ s: 'stale', c: 'scanner_silent', a: 130 })),
    ];
    const list = incidents(points, { now, since: 0, maxGapMs: 90 * S });
    expect(list).toHaveLength(2);
    expect(list[0]).toEqual({ status: 'stale', cause: 'scanner_silent', start: 60 * S, end: null, durationMs: now - 60 * S, checks: points.length - 2 });
    expect(list[1]).toMatchObject({ cause: 'bridge_behind', start: 30 * S, end: 60 * S, durationMs: 30 * S });
  });

  it('start and end where the data age crossed the thresholds, by the scan times, not at the checks', () => {
    // As above: the last scan stamped at 25 s, the scanner back at 130 s (the scan seen at 150 s is stamped 149 s).
    const points: TimelinePoint[] = [
      { t: 0, s: 'healthy', a: 1 },
      { t: 30 * S, s: 'healthy', a: 5 },
      { t: 60 * S, s: 'warning', a: 35 },
      { t: 90 * S, s: 'stale', c: 'scanner_silent', a: 65 },
      { t: 120 * S, s: 'stale', c: 'scanner_silent', a: 95 },
      { t: 150 * S, s: 'healthy', a: 1 },
    ];
    const list = incidents(points, { now: 180 * S, since: 0, maxGapMs: 90 * S, thresholds: { warningS: 30, staleS: 60 } });
    expect(list).toEqual([
      { status: 'stale', cause: 'scanner_silent', start: 85 * S, end: 149 * S, durationMs: 64 * S, checks: 2 },
      { status: 'warning', cause: null, start: 55 * S, end: 85 * S, durationMs: 30 * S, checks: 1 },
    ]);
    // A scan stamped before the check that saw the data stale arrived late, at a time unknown: the check that saw it counts.
    const late = incidents(
      [
        { t: 10 * S, s: 'stale', c: 'bridge_behind', a: 70 },
        { t: 30 * S, s: 'healthy', a: 29 },
      ],
      { now: 60 * S, since: 0, maxGapMs: 90 * S, thresholds: { warningS: 30, staleS: 60 } },
    );
    expect(late).toEqual([{ status: 'stale', cause: 'bridge_behind', start: 10 * S, end: 30 * S, durationMs: 20 * S, checks: 1 }]);
  });

  it('reports a silence of the checks as unmonitored, and leaves out incidents that ended before `since`', () => {
    const points: TimelinePoint[] = [
      { t: 0, s: 'stale', c: 'bridge_behind', a: 70 },
      { t: 30 * S, ...healthy },
      { t: 10 * MIN, ...healthy },
    ];
    const all = incidents(points, { now: 11 * MIN, since: 0, maxGapMs: 90 * S });
    expect(all).toEqual([
      { status: 'unmonitored', cause: null, start: 30 * S + 90 * S, end: 10 * MIN, durationMs: 10 * MIN - 120 * S, checks: 0 },
      { status: 'stale', cause: 'bridge_behind', start: 0, end: 30 * S, durationMs: 30 * S, checks: 1 },
    ]);
    expect(incidents(points, { now: 11 * MIN, since: 10 * MIN, maxGapMs: 90 * S })).toEqual([]);
    expect(incidents([], { now: H, since: 0, maxGapMs: 90 * S })).toEqual([]);
  });
});
