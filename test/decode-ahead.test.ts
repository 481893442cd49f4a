/**
 * Decoding ahead (src/bridge/decode/ahead.ts): the pool's first thread watches the scan folder
 * and decodes a file renamed into it before the task for it comes. Real worker threads and real
 * inotify, files written by pyarrow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecodePool, type DecodeTrip } from '../src/bridge/threads/pool.js';
import { makeHostileFiles } from './hostile-fixtures.js';
import { eventually, tempDir } from './helpers.js';

const MIB = 1024 * 1024;
const DAY = '2026-11-27';
let fixtures = '';
let root = '';
let pool: DecodePool;
const trips: DecodeTrip[] = [];
const ahead: string[] = [];

beforeAll(() => {
  fixtures = makeHostileFiles();
}, 180_000);
afterAll(() => rmSync(fixtures, { recursive: true, force: true }));
afterEach(async () => {
  await pool?.close();
  rmSync(root, { recursive: true, force: true });
});

async function startPool(timeoutMs = 2000): Promise<void> {
  root = tempDir('scan-ahead-');
  mkdirSync(join(root, DAY));
  trips.length = 0;
  ahead.length = 0;
  pool = new DecodePool({
    timeoutMs,
    maxScanBytes: 256 * MIB,
    maxFileBytes: 256 * MIB,
    onTrip: (t) => trips.push(t),
    onAhead: (path, state) => ahead.push(`${state} ${path}`),
  });
  expect(await pool.ready()).toBe(true);
  pool.decodeAhead(root);
}

/** Renames a copy of the fixture into the day folder as scan `n`, as a scanner does; returns its path and relative path. */
function land(fixture: string, n: number): { path: string; rel: string } {
  const rel = `${DAY}/scan_${String(n).padStart(6, '0')}_000000.arrow`;
  const tmp = join(root, `${rel}.tmp`);
  copyFileSync(join(fixtures, fixture), tmp);
  renameSync(tmp, join(root, rel));
  return { path: join(root, rel), rel };
}

/** Lands files until the thread is seen decoding one ahead: the watch is in place from then on. */
async function watchInPlace(): Promise<void> {
  let n = 900;
  await eventually('the first thread decoding ahead', () => {
    land('two_batches.arrow', ++n);
    return ahead.some((a) => a.startsWith('done')) ? true : undefined;
  });
  ahead.length = 0;
}

describe('decoding ahead', () => {
  it('a file renamed into a day folder is decoded on its event; the task for it is answered from that decode, the same as a fresh one', async () => {
    await startPool();
    await watchInPlace();
    const f = land('two_batches.arrow', 7);
    await eventually('the decode ahead done', () => (ahead.includes(`done ${f.path}`) ? true : undefined));
    expect(ahead.filter((a) => a.endsWith(f.path))).toEqual([`started ${f.path}`, `done ${f.path}`]);
    const got = await pool.decode(f.path, f.rel);
    expect(trips.at(-1)?.ahead).toBe(true);
    expect(got).toMatchObject({ kind: 'ok', scan: { scanNumber: 7, assetCount: 50 } });
    // Each decode ahead answers one task: asked again, the file is read again, with the same answer.
    const again = await pool.decode(f.path, f.rel);
    expect(trips.at(-1)?.ahead).toBe(false);
    expect({ ...again, decodeMs: 0 }).toEqual({ ...got, decodeMs: 0 });
  });

  it('a file changed after its decode ahead is read again: the answer is what the path holds now', async () => {
    await startPool();
    await watchInPlace();
    const f = land('two_batches.arrow', 8);
    await eventually('the decode ahead done', () => (ahead.includes(`done ${f.path}`) ? true : undefined));
    // Written over in place (no rename, so no new decode ahead): half of it.
    const bytes = readFileSync(f.path);
    writeFileSync(f.path, bytes.subarray(0, bytes.length >> 1));
    const got = await pool.decode(f.path, f.rel);
    expect(trips.at(-1)?.ahead).toBe(false);
    expect(got.kind).not.toBe('ok');
  });

  it('a file that hangs the decoder ahead of any task: the thread is replaced, a task for another file meanwhile is not blamed, and the hanging file is caught by its own task', async () => {
    await startPool(1000);
    await watchInPlace();
    const hang = land('hanging.arrow', 9);
    await eventually('the hanging file decoded ahead', () => (ahead.includes(`started ${hang.path}`) ? true : undefined));
    // The first thread is busy with it: a good file's task goes to the other.
    const good = join(fixtures, 'two_batches.arrow');
    expect(await pool.decode(good, 'good.arrow')).toMatchObject({ kind: 'ok', scan: { scanNumber: 7 } });
    expect(trips.at(-1)?.ahead).toBe(false);
    await eventually('the hanging thread replaced', () => (pool.replaced === 1 ? true : undefined), 5000);
    // Its task now, as the main thread sends it: the file is read again and stopped at the limit.
    expect(await pool.decode(hang.path, hang.rel)).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
    expect(pool.replaced).toBe(2);
    expect(await pool.decode(good, 'good.arrow')).toMatchObject({ kind: 'ok' });
  });

  it('the task for a file that hangs while decoded ahead gets the limit, in DECODE_TIMEOUT_MS from the start of that decode', async () => {
    await startPool(1000);
    await watchInPlace();
    const hang = land('hanging.arrow', 10);
    await eventually('the hanging file decoded ahead', () => (ahead.includes(`started ${hang.path}`) ? true : undefined));
    const t0 = performance.now();
    expect(await pool.decode(hang.path, hang.rel)).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
    expect(performance.now() - t0).toBeLessThan(1000 + 500);
    expect(pool.replaced).toBe(1);
  });
});
