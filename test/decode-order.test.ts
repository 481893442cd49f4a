/**
 * The decode pool sends the newest scan first (src/bridge/decode/newest-first.ts): queued behind
 * a busy thread, the scan that becomes the latest value does not wait for older ones. Real
 * worker threads, files written by pyarrow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { NewestFirst } from '../src/bridge/threads/newest-first.js';
import { makeHostileFiles } from './hostile-fixtures.js';
import { tempDir } from './helpers.js';

describe('newest scan first', () => {
  it('orders by time, then number; first come among equals; files whose names say nothing last', () => {
    const q = new NewestFirst<string>();
    q.add('t1#5', { timestampMs: 1000, scanNumber: 5 });
    q.add('unnamed', { timestampMs: -Infinity, scanNumber: -1 });
    q.add('t2#1', { timestampMs: 2000, scanNumber: 1 });
    q.add('t1#6', { timestampMs: 1000, scanNumber: 6 });
    q.add('t1#6 again', { timestampMs: 1000, scanNumber: 6 });
    expect(q.size).toBe(5);
    expect(q.peek()).toBe('t2#1');
    expect([q.take(), q.take()]).toEqual(['t2#1', 't1#6']);
    expect(q.drain()).toEqual(['t1#6 again', 't1#5', 'unnamed']);
    expect(q.size).toBe(0);
  });

  describe('in the decode pool', () => {
    let fixtures = '';
    let root = '';
    let pool: DecodePool | undefined;
    beforeAll(() => {
      fixtures = makeHostileFiles({ seedsOnly: true });
    }, 60_000);
    afterAll(() => rmSync(fixtures, { recursive: true, force: true }));
    afterEach(async () => {
      await pool?.close();
      rmSync(root, { recursive: true, force: true });
    });

    it('a thread busy, five tasks queued oldest first: they are decoded newest first', async () => {
      root = tempDir('scan-order-pool-');
      mkdirSync(join(root, '2026-11-27'));
      pool = new DecodePool({ size: 1, timeoutMs: 5000, maxScanBytes: 64 * 1024 * 1024, maxFileBytes: 64 * 1024 * 1024 });
      expect(await pool.ready()).toBe(true);
      const done: number[] = [];
      const tasks = [1, 2, 3, 4, 5, 6].map((n) => {
        const rel = `2026-11-27/scan_${String(n).padStart(6, '0')}_000000.arrow`;
        copyFileSync(join(fixtures, 'seed_file_lz4.arrow'), join(root, rel));
        return pool!.decode(join(root, rel), rel).then((r) => {
          expect(r.kind).toBe('ok');
          done.push(n);
        });
      });
      await Promise.all(tasks);
      // #1 went to the free thread at once; the others waited, and the newest went next.
      expect(done).toEqual([1, 6, 5, 4, 3, 2]);
    });
  });
});
