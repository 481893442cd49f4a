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
    expect(week.ratio).toBeCloseTo(2 / 7, 10);
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
