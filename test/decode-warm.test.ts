/**
 * Warming up before an expected scan (src/bridge/decode/cadence.ts, ahead.ts): when files land
 * on a regular clock, the thread that decodes ahead decodes the last file again just before the
 * next is due; never for irregular arrivals, and never in place of a file's own decode. The
 * decode ahead runs here on the test's thread (the same class the pool's first thread runs), with
 * real inotify and files written by pyarrow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { Cadence } from '../src/bridge/threads/cadence.js';
import { DecodeAhead, type AheadNotice } from '../src/bridge/threads/ahead.js';
import { fileIdentity } from '../src/bridge/threads/read-file.js';
import { makeHostileFiles } from './hostile-fixtures.js';
import { eventually, tempDir } from './helpers.js';

describe('the cadence of arrivals', () => {
  const feed = (c: Cadence, times: number[]) => times.map((t) => c.arrive(t));

  it('guesses the next arrival only after nine regular ones: the last plus the period', () => {
    const got = feed(new Cadence(), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(got.slice(0, 8)).toEqual(Array(8).fill(undefined));
    expect(got[8]).toBe(900);
    expect(got[9]).toBe(1000);
  });

  it('follows two writers taking turns at uneven offsets (0, 115, 200, 315, ...)', () => {
    const times = Array.from({ length: 10 }, (_, i) => i * 100 + (i % 2 === 1 ? 15 : 0));
    // The last is 915; two back is 800, and every other arrival is 200 ms apart: 1000.
    expect(feed(new Cadence(), times).at(-1)).toBe(1000);
  });

  it('allows timer jitter of 2 ms or 5 % of the gap', () => {
    const jitter = [0, 1, -1, 2, -2, 1, 0, -1, 2];
    const times = jitter.map((j, i) => i * 100 + j);
    expect(feed(new Cadence(), times).at(-1)).toBeDefined();
  });

  it('guesses nothing for irregular arrivals, a burst, or one arrival far off the clock', () => {
    expect(feed(new Cadence(), [0, 100, 250, 300, 470, 500, 610, 700, 950]).at(-1)).toBeUndefined();
    expect(
      feed(
        new Cadence(),
        Array.from({ length: 12 }, (_, i) => i * 0.2),
      ).at(-1),
    ).toBeUndefined();
    const late = [0, 100, 200, 300, 400, 500, 600, 700, 800, 940];
    expect(feed(new Cadence(), late).at(-1)).toBeUndefined();
  });

  it('starts over when the clock goes back, and after reset', () => {
    const c = new Cadence();
    feed(c, [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800]);
    expect(c.arrive(50)).toBeUndefined();
    expect(feed(c, [150, 250, 350, 400 + 50, 550, 650, 750, 850]).at(-1)).toBe(950);
    c.reset();
    expect(c.arrive(1950)).toBeUndefined();
  });
});

describe('warming up before an expected scan', () => {
  const DAY = '2026-11-27';
  let fixtures = '';
  let root = '';
  let ahead: DecodeAhead | undefined;
  let notices: AheadNotice[] = [];
  beforeAll(() => {
    fixtures = makeHostileFiles({ seedsOnly: true });
  }, 60_000);
  afterAll(() => rmSync(fixtures, { recursive: true, force: true }));
  afterEach(async () => {
    await ahead?.watch({ root: null, maxScanBytes: 0, maxFileBytes: 0 });
    rmSync(root, { recursive: true, force: true });
  });

  async function start(warmMaxBytes?: number): Promise<DecodeAhead> {
    root = tempDir('scan-warm-');
    mkdirSync(join(root, DAY));
    notices = [];
    const a = new DecodeAhead(
      (n) => notices.push(n),
      () => undefined,
      warmMaxBytes,
    );
    await a.watch({ root, maxScanBytes: 64 * 1024 * 1024, maxFileBytes: 64 * 1024 * 1024 });
    ahead = a;
    return a;
  }

  function land(n: number): { path: string; relPath: string } {
    const relPath = `${DAY}/scan_${String(n).padStart(6, '0')}_000000.arrow`;
    const tmp = join(root, DAY, `.scan_${n}.tmp`);
    copyFileSync(join(fixtures, 'seed_file_lz4.arrow'), tmp);
    renameSync(tmp, join(root, relPath));
    return { path: join(root, relPath), relPath };
  }

  const task = (f: { path: string; relPath: string }) => ({ ...f, maxScanBytes: 64 * 1024 * 1024, maxFileBytes: 64 * 1024 * 1024 });
  const decodedAhead = (path: string) => notices.some((x) => 'aheadDone' in x && x.aheadDone === path);

  /**
   * Lands files `from`..`to`, the `k`-th `gap(k)` ms after the one before, on a fixed schedule
   * (timer delays do not add up), once the first is decoded ahead, or fewer if `enough` says so
   * first; returns the last, decoded ahead.
   */
  async function landEvery(from: number, to: number, gap: (k: number) => number, enough = () => false) {
    let last = land(from);
    await eventually('the first decode ahead', () => (decodedAhead(last.path) ? true : undefined));
    let at = performance.now();
    for (let n = from + 1; n <= to && !enough(); n++) {
      // The time between files is what is under test: the scanner's clock.
      at += gap(n - from);
      await sleep(Math.max(0, at - performance.now()));
      last = land(n);
    }
    await eventually(`${last.relPath} decoded ahead`, () => (decodedAhead(last.path) ? true : undefined));
    return last;
  }

  it('files every 200 ms: the thread decodes the last one again before each next one, and still answers each task with its own file', async () => {
    const a = await start();
    // From the ninth file on the cadence is known: a warm-up before each next one. On a loaded
    // machine a timer may fire past the slack of 10 ms and the cadence is learnt again: up to 40 files.
    const last = await landEvery(
      1,
      40,
      () => 200,
      () => a.warmUps >= 4,
    );
    expect(a.warmUps).toBeGreaterThanOrEqual(4);
    expect(a.warmSkips).toBe(0);
    // The result is the last file's own read (its inode), not the warmed one's.
    const got = a.take(task(last));
    expect(got).toMatchObject({ kind: 'ok', scan: { scanNumber: 7 }, identity: fileIdentity(statSync(last.path)) });
    // A warm-up decodes for nothing: it sends no notice and keeps no result.
    expect(notices.filter((x) => 'aheadStarted' in x)).toHaveLength(Number(/scan_0*(\d+)_/.exec(last.relPath)![1]));
    expect(a.take(task(last))).toBeUndefined();
  });

  it('files larger than the size kept for warming up: no warm-up, on the same clock', async () => {
    const a = await start(1024);
    await landEvery(
      1,
      40,
      () => 200,
      () => a.warmSkips >= 4,
    );
    // The warm-ups were due (the cadence was known), and found no file to decode.
    expect(a.warmUps).toBe(0);
    expect(a.warmSkips).toBeGreaterThanOrEqual(4);
  });

  it('files at irregular times: no warm-up', async () => {
    const a = await start();
    const gaps = [40, 130, 70, 160, 55, 120, 90, 200, 45, 150, 80, 110];
    await landEvery(1, 13, (k) => gaps[(k - 1) % gaps.length]!);
    await sleep(250);
    expect(a.warmUps + a.warmSkips).toBe(0);
  });
});
