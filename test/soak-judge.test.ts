import { describe, expect, it } from 'vitest';
import { factsFromReport, growthAfterWarmup, judge, linesPerDay, redisBound, type Point, type ProcessSeries, type SoakFacts } from '../bench/soak-judge.js';

const MIN = 60_000;

/** A sample a minute, `v(i)` at minute i. */
function series(minutes: number, v: (i: number) => number): Point[] {
  return Array.from({ length: minutes }, (_, i) => ({ t: i * MIN, v: v(i) }));
}

function proc(over: Partial<ProcessSeries> = {}): ProcessSeries {
  const flat = series(30, () => 100);
  return { name: 'bridge-a', pid: 1, judged: true, rssMb: flat, heapMb: series(30, () => 40), fds: series(30, () => 30), ...over };
}

function facts(over: Partial<SoakFacts> = {}): SoakFacts {
  return {
    processes: [proc()],
    lost: 0,
    backwards: 0,
    redis: { maxUsedMemoryBytes: 5e6, maxKeys: 100, bound: { usedMemoryBytes: 6e6, keys: 200 } },
    hazelcast: [{ map: 'history', max: 1000, bound: 1200 }],
    unplannedExits: 0,
    ...over,
  };
}

const LIMITS = { warmupMs: 5 * MIN, steadyFromMs: 0, memoryMb: 20, fds: 5 };

describe('growth after the warm-up', () => {
  it('ignores the warm-up and one outlier sample: the medians of the first and last thirds after it', () => {
    // 50 MB during the warm-up, then 100, one GC spike at minute 12, and 130 at the end.
    const s = series(30, (i) => (i < 5 ? 50 : i === 12 ? 400 : i >= 25 ? 130 : 100));
    expect(growthAfterWarmup(s, LIMITS)).toEqual({ from: 100, to: 130, growth: 30 });
  });

  it('counts the warm-up from the process’s own first sample (a process started again later)', () => {
    const late = series(30, (i) => (i < 5 ? 10 : 20)).map((p) => ({ ...p, t: p.t + 60 * MIN }));
    expect(growthAfterWarmup(late, LIMITS)).toEqual({ from: 20, to: 20, growth: 0 });
  });

  it('compares nothing from before the system is steady (a structure still filling), whatever the process’s age', () => {
    // Grows while the day folder fills (to minute 10), then flat: growth 0 once steady.
    const s = series(30, (i) => 100 + Math.min(i, 10) * 20);
    expect(growthAfterWarmup(s, LIMITS)!.growth).toBeGreaterThan(20);
    expect(growthAfterWarmup(s, { ...LIMITS, steadyFromMs: 10 * MIN })).toEqual({ from: 300, to: 300, growth: 0 });
  });

  it('says nothing of a process that did not live two windows of samples past its warm-up', () => {
    expect(
      growthAfterWarmup(
        series(14, () => 1),
        LIMITS,
      ),
    ).toBeNull();
    expect(
      growthAfterWarmup(
        series(15, () => 1),
        LIMITS,
      ),
    ).not.toBeNull();
  });
});

describe('the Redis bound', () => {
  it('adds to the end figure the room each cap leaves, at what one entry may take', () => {
    const bound = redisBound({ usedMemoryBytes: 1_000_000, keys: 500 }, [
      // 100 of 3,000 jobs kept: 2,900 more jobs of at most 1,000 bytes, two keys each.
      { name: 'jobs', capBy: 'count', entries: 100, cap: 3000, bytes: 50_000, perEntryBytes: 1000, keysPerEntry: 2 },
      // A full list adds nothing.
      { name: 'history', capBy: 'max', entries: 10, cap: 10, bytes: 900, perEntryBytes: 90, keysPerEntry: 0 },
      // Entries of a list add bytes, no keys; an over-full one (trimmed lazily) no room.
      { name: 'timeline', capBy: 'max', entries: 20, cap: 40, bytes: 2000, perEntryBytes: 100, keysPerEntry: 0 },
      { name: 'events', capBy: 'maxLen', entries: 10_050, cap: 10_000, bytes: 1e6, perEntryBytes: 100, keysPerEntry: 0 },
    ]);
    expect(bound).toEqual({ usedMemoryBytes: 1_000_000 + 2_900_000 + 2000, keys: 500 + 5800 });
  });
});

describe('log lines per simulated day', () => {
  it('buckets lines by day from the start, lines before it in day 0, by level and in total', () => {
    const day = 1000;
    const lines = [
      { time: -5, level: 'info' },
      { time: 10, level: 'info' },
      { time: 999, level: 'warn' },
      { time: 2500, level: 'info' },
    ];
    expect(linesPerDay(lines, 0, day)).toEqual([{ total: 3, info: 2, warn: 1 }, { total: 0 }, { total: 1, info: 1 }]);
  });
});

describe('the verdict', () => {
  it('passes a flat run', () => {
    expect(judge(facts(), LIMITS)).toEqual([]);
  });

  it('fails on lost scans, latest moving backwards, and processes that exited by themselves', () => {
    const f = judge(facts({ lost: 3, backwards: 1, unplannedExits: 2 }), LIMITS);
    expect(f).toEqual(['3 scans never reached history', 'latest_eigen_scan moved backwards 1 times', '2 processes exited that the run did not stop']);
  });

  it('fails when a role’s memory, heap or descriptors grow after its warm-up, naming which', () => {
    const growing = proc({ rssMb: series(30, (i) => 100 + i * 2), heapMb: series(30, (i) => 40 + i * 1.5), fds: series(30, (i) => 30 + (i > 20 ? 10 : 0)) });
    const f = judge(facts({ processes: [growing] }), LIMITS);
    expect(f).toHaveLength(3);
    expect(f[0]).toMatch(/^bridge-a \(pid 1\): resident memory grew by 34 after its warm-up \(117 → 151; at most 20\)$/);
    expect(f[1]).toMatch(/^bridge-a \(pid 1\): heap grew by 25.5 /);
    expect(f[2]).toMatch(/^bridge-a \(pid 1\): open descriptors grew by 10 /);
  });

  it('reports a server’s growth without failing on it', () => {
    expect(judge(facts({ processes: [proc({ judged: false, rssMb: series(30, (i) => i * 10) })] }), LIMITS)).toEqual([]);
  });

  it('fails when Redis or a Hazelcast map goes above its bound, and not for a map without one', () => {
    const f = judge(
      facts({
        redis: { maxUsedMemoryBytes: 7e6, maxKeys: 201, bound: { usedMemoryBytes: 6e6, keys: 200 } },
        hazelcast: [
          { map: 'history', max: 1201, bound: 1200 },
          { map: 'other', max: 1e9, bound: null },
        ],
      }),
      LIMITS,
    );
    expect(f).toEqual([
      'Redis used_memory reached 7000000 bytes, above its bound of 6000000',
      'Redis held 201 keys, above its bound of 200',
      'Hazelcast map history held 1201 entries, above its bound of 1200',
    ]);
  });
});

describe('a saved run judged again', () => {
  it('rebuilds each process’s series from the samples, judging the roles only, and the totals', () => {
    const facts = factsFromReport({
      processes: [
        { name: 'bridge-a (active)', pid: 7, judged: true },
        { name: 'redis:6400', pid: 9, judged: false },
      ],
      samples: [
        { t_s: 0, procs: { 'bridge-a (active):7': [200, 60, 38], 'redis:6400:9': [12, null, 15] } },
        { t_s: 15, procs: { 'bridge-a (active):7': [201, null, 38] } },
      ],
      redis: { used_memory_max: 1, keys_max: 2, bound: { usedMemoryBytes: 3, keys: 4 } },
      hazelcast: { maps: [{ map: 'm', max: 5, bound: 6 }] },
      totals: { lost: 0, latest_backwards: 1, unplanned_exits: [{}], not_shut_down_by_sigterm: [] },
    });
    expect(facts.processes).toEqual([
      {
        name: 'bridge-a (active)',
        pid: 7,
        judged: true,
        rssMb: [
          { t: 0, v: 200 },
          { t: 15_000, v: 201 },
        ],
        heapMb: [{ t: 0, v: 60 }],
        fds: [
          { t: 0, v: 38 },
          { t: 15_000, v: 38 },
        ],
      },
      { name: 'redis:6400', pid: 9, judged: false, rssMb: [{ t: 0, v: 12 }], heapMb: [], fds: [{ t: 0, v: 15 }] },
    ]);
    expect(facts).toMatchObject({
      lost: 0,
      backwards: 1,
      unplannedExits: 1,
      redis: { maxUsedMemoryBytes: 1, maxKeys: 2 },
      hazelcast: [{ map: 'm', max: 5, bound: 6 }],
    });
  });
});
