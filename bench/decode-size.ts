/**
 * How large a legitimate scan decodes within the decode time limit (issue 20, finding 7): scans
 * of growing size in both layouts, written by pyarrow (test/fixtures/make_large_scan.py: LZ4,
 * as write_feather writes), each decoded REPEAT times by one decode thread with no time limit.
 * Prints JSON: per file its rows, MiB, decode times (ms), and the limit the default settings
 * allow it (DECODE_TIMEOUT_MS + DECODE_TIMEOUT_MS_PER_MB for each MiB beyond the first); then per
 * layout the largest scan whose slowest decode stays within DECODE_TIMEOUT_MS alone.
 *
 *   npm run build && npx tsx bench/decode-size.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { SETTINGS } from '../src/settings.js';

const MIB = 1024 * 1024;
const REPEAT = 3;
const ROWS = [25_000, 50_000, 100_000, 150_000, 200_000, 300_000, 400_000];
const BASE_MS = Number(SETTINGS.DECODE_TIMEOUT_MS.default);
const PER_MB_MS = Number(SETTINGS.DECODE_TIMEOUT_MS_PER_MB.default);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-decode-size-'));
  const load = [loadavg()[0]!];
  const pool = new DecodePool({ size: 1, timeoutMs: 600_000, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
  try {
    if (!(await pool.ready())) throw new Error('decode thread did not start');
    const files: Array<{ layout: string; rows: number; mib: number; ms: number[]; allowedMs: number }> = [];
    for (const layout of ['long', 'wide'] as const) {
      for (const rows of ROWS) {
        const rel = `2026-12-06/scan_${String(rows).padStart(6, '0')}_000000.arrow`;
        const path = join(dir, `${layout}_${rows}.arrow`);
        execFileSync('python3', ['test/fixtures/make_large_scan.py', layout, String(rows), path, '7', '2026-12-06T00:00:00.000Z']);
        const mib = statSync(path).size / MIB;
        const ms: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          const t0 = performance.now();
          const r = await pool.decode(path, rel);
          if (r.kind !== 'ok') throw new Error(`${layout} ${rows}: ${r.kind}`);
          ms.push(Math.round(performance.now() - t0));
        }
        const allowedMs = Math.round(BASE_MS + Math.max(0, mib - 1) * PER_MB_MS);
        files.push({ layout, rows, mib: Math.round(mib * 10) / 10, ms, allowedMs });
        load.push(loadavg()[0]!);
      }
    }
    const largest = (layout: string) =>
      files
        .filter((f) => f.layout === layout && Math.max(...f.ms) <= BASE_MS)
        .map(({ rows, mib }) => ({ rows, mib }))
        .pop() ?? null;
    const report = {
      at: new Date().toISOString(),
      loadavg1m: load.map((l) => Math.round(l * 10) / 10),
      settings: { DECODE_TIMEOUT_MS: BASE_MS, DECODE_TIMEOUT_MS_PER_MB: PER_MB_MS },
      files,
      withinDecodeTimeoutAlone: { long: largest('long'), wide: largest('wide') },
      allWithinScaledLimit: files.every((f) => Math.max(...f.ms) <= f.allowedMs),
    };
    console.log(JSON.stringify(report, null, 1));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
