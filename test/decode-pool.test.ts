/**
 * The decode pool against hostile files written by pyarrow: real worker threads, no mocks.
 * Each finding of issue 8 that lives in decoding: a file that hangs apache-arrow, compression
 * bombs, files too large to read, FIFOs, and a decoder that runs out of memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { buildPayload, composePayload } from '../src/bridge/hazelcast/payload.js';
import { readScan } from '../src/bridge/arrow/reference-decoder.js';
import { readFileSync } from 'node:fs';
import { makeHostileFiles } from './hostile-fixtures.js';
import { eventually, maxLag } from './helpers.js';
import { PYTHON } from './python.js';

const MIB = 1024 * 1024;
let dir = '';
let work = '';

beforeAll(() => {
  dir = makeHostileFiles();
  work = mkdtempSync(join(tmpdir(), 'scan-pool-'));
}, 180_000);

afterAll(() => {
  for (const d of [dir, work]) if (d) rmSync(d, { recursive: true, force: true });
});

async function pool(extra: Partial<ConstructorParameters<typeof DecodePool>[0]> = {}) {
  const p = new DecodePool({ timeoutMs: 2000, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB, ...extra });
  await p.ready();
  return p;
}

const REL = '2026-11-27/scan_000007_000000.arrow';

describe('decode pool', () => {
  it('a file that hangs apache-arrow is stopped at DECODE_TIMEOUT_MS; the main thread never blocks and the next file decodes', async () => {
    const p = await pool({ timeoutMs: 1000 });
    try {
      const t0 = performance.now();
      const { value: hung, lagMs } = await maxLag(p.decode(join(dir, 'hanging.arrow'), REL));
      const took = performance.now() - t0;
      expect(hung).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
      expect((hung as { reason: string }).reason).toMatch(/DECODE_TIMEOUT_MS \(1000 ms\)/);
      expect(took).toBeLessThan(1000 + 1000);
      expect(lagMs).toBeLessThan(100);
      const good = await p.decode(join(dir, 'two_batches.arrow'), REL);
      expect(good).toMatchObject({ kind: 'ok', scan: { scanNumber: 7, assetCount: 50 } });
      expect(p.replaced).toBe(1);
    } finally {
      await p.close();
    }
  });

  it('the time limit counts from each decode: a file that hangs after good ones on the same thread is stopped at DECODE_TIMEOUT_MS, not before', async () => {
    // One thread, whose deadline timer is kept across decodes: the hanging file starts 600 ms into its first period.
    const p = await pool({ size: 1, timeoutMs: 1000 });
    try {
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
      await delay(600);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
      const t0 = performance.now();
      const hung = await p.decode(join(dir, 'hanging.arrow'), REL);
      const took = performance.now() - t0;
      expect(hung).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
      expect(took).toBeGreaterThan(950);
      expect(took).toBeLessThan(1000 + 1000);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
    } finally {
      await p.close();
    }
  });

  it('while one decoder hangs, the other decodes good files at once', async () => {
    const p = await pool({ timeoutMs: 3000 });
    try {
      const hung = p.decode(join(dir, 'hanging.arrow'), REL);
      const t0 = performance.now();
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
      // A second thread starts for it (about 60 ms on a quiet machine, up to a second under a load of 6): well before the hung file's 3 s.
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(await hung).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
    } finally {
      await p.close();
    }
  });

  it('one thread at idle; a second starts only while a file waits behind a busy one, and stops once idle', async () => {
    const p = await pool({ timeoutMs: 3000, extraIdleMs: 300 });
    try {
      expect(p.threads).toBe(1);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
      expect(p.threads).toBe(1);
      const hung = p.decode(join(dir, 'hanging.arrow'), REL);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
      expect(p.threads).toBe(2);
      expect(await hung).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
      await eventually('the second thread to stop once idle', () => (p.threads === 1 ? true : undefined), 5000);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
    } finally {
      await p.close();
    }
  });

  it.each(['lz4_bomb', 'zstd_bomb'])('%s: refused before its 300 MB are allocated (MAX_SCAN_BYTES)', async (name) => {
    const p = await pool();
    try {
      const { value: r, lagMs } = await maxLag(p.decode(join(dir, `${name}.arrow`), REL));
      expect(r).toMatchObject({ kind: 'limit', limit: 'MAX_SCAN_BYTES' });
      expect((r as { reason: string }).reason).toMatch(/(LZ4|ZSTD) output would take 286\.1 MiB, beyond MAX_SCAN_BYTES \(256 MiB/);
      expect(lagMs).toBeLessThan(100);
    } finally {
      await p.close();
    }
  });

  it('a list of 64 million numbers: small as buffers, refused before its JS values are built (MAX_SCAN_BYTES)', async () => {
    // Unpacking its 64 MB takes a while on a busy machine: the time limit is not what is tested here.
    const p = await pool({ timeoutMs: 20_000 });
    try {
      const r = await p.decode(join(dir, 'values_bomb.arrow'), REL);
      expect(r).toMatchObject({ kind: 'limit', limit: 'MAX_SCAN_BYTES' });
      expect((r as { reason: string }).reason).toMatch(/JS values would take/);
    } finally {
      await p.close();
    }
  });

  it('a sparse 2 GB file, and a symlink to it, are refused unread (MAX_SCAN_FILE_BYTES)', async () => {
    const sparse = join(work, 'scan_000009_000000.arrow');
    execFileSync('truncate', ['-s', '2G', sparse]);
    const link = join(work, 'scan_000010_000000.arrow');
    symlinkSync(sparse, link);
    const p = await pool();
    try {
      for (const path of [sparse, link]) {
        const r = await p.decode(path, 'x');
        expect(r).toMatchObject({ kind: 'limit', limit: 'MAX_SCAN_FILE_BYTES', size: 2 * 1024 * MIB });
        expect((r as { reason: string }).reason).toBe('2048 MiB on disk, beyond MAX_SCAN_FILE_BYTES (256 MiB)');
      }
    } finally {
      await p.close();
    }
  });

  it('FIFOs, a directory and a socket are not opened; five FIFOs do not hold up a good file', async () => {
    const fifos = [1, 2, 3, 4, 5].map((i) => join(work, `fifo_${i}.arrow`));
    for (const f of fifos) execFileSync('mkfifo', [f]);
    const folder = join(work, 'folder.arrow');
    mkdirSync(folder);
    const socket = join(work, 'socket.arrow');
    execFileSync(PYTHON, ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socket)})`]);
    const good = join(work, 'good.arrow');
    copyFileSync(join(dir, 'two_batches.arrow'), good);
    const p = await pool();
    try {
      const results = await Promise.all([...fifos, folder, socket].map((f) => p.decode(f, 'x')));
      expect(results.map((r) => (r.kind === 'not-regular' ? r.what : r.kind))).toEqual([...fifos.map(() => 'a FIFO'), 'a directory', 'a socket']);
      expect(await p.decode(good, REL)).toMatchObject({ kind: 'ok' });
    } finally {
      await p.close();
    }
  });

  it('a decoder that runs out of its heap is replaced; the file counts as broken for memory', async () => {
    // A heap too small for the values of this file; the byte budget is set aside so the heap limit is what trips.
    const p = await pool({ memoryLimitMb: 24, maxScanBytes: 64 * 1024 * MIB, timeoutMs: 30_000 });
    try {
      const r = await p.decode(join(dir, 'values_bomb.arrow'), REL);
      expect(r).toMatchObject({ kind: 'limit', limit: 'decoder memory' });
      expect((r as { reason: string }).reason).toMatch(/heap \(resourceLimits\)/);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL)).toMatchObject({ kind: 'ok' });
    } finally {
      await p.close();
    }
  }, 60_000);

  it('an unchanged quarantined file is not read; a changed one is', async () => {
    const p = await pool();
    try {
      const first = await p.decode(join(dir, 'two_batches.arrow'), REL);
      if (first.kind !== 'ok') throw new Error(first.kind);
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL, { size: first.size, mtimeMs: first.mtimeMs })).toMatchObject({ kind: 'quarantined' });
      expect(await p.decode(join(dir, 'two_batches.arrow'), REL, { size: first.size + 1, mtimeMs: first.mtimeMs })).toMatchObject({ kind: 'ok' });
    } finally {
      await p.close();
    }
  });

  it('the payload made of the worker body and the bridge fields is the one buildPayload makes', async () => {
    const p = await pool();
    try {
      for (const name of ['two_batches', 'seed_file_lz4', 'seed_stream_zstd']) {
        const r = await p.decode(join(dir, `${name}.arrow`), REL);
        if (r.kind !== 'ok') throw new Error(`${name}: ${r.kind}`);
        const direct = readScan(readFileSync(join(dir, `${name}.arrow`)), { relPath: REL });
        if (direct.kind !== 'ok') throw new Error(direct.kind);
        const meta = { sourceFile: REL, bridgeId: 'b:1', writtenAtMs: 1234 };
        expect(composePayload(r.scan, r.body, meta)).toBe(buildPayload(direct.scan, meta));
      }
    } finally {
      await p.close();
    }
  });
});
