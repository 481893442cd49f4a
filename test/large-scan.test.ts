/**
 * A large legitimate scan is not mistaken for a hostile one (issue 20, finding 7): the decode
 * time limit grows with the file's size (DECODE_TIMEOUT_MS_PER_MB for each MiB beyond the first),
 * so a scan of 100,000 rows in the long layout, written by pyarrow, lands at the default settings.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { SETTINGS } from '../src/settings.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { tempDir, testConfig } from './helpers.js';
import { startBridge } from './bridge-world.js';

const MIB = 1024 * 1024;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** pyarrow writes a scan of `rows` rows (test/fixtures/make_large_scan.py) as scan `n` stamped `at`; its path. */
function writeLargeScan(arrowDir: string, layout: 'long' | 'wide', n: number, rows: number, at: Date, extraColumns = 0): string {
  const dir = join(arrowDir, dayFolder(at));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, scanFileName(n, at));
  execFileSync('python3', ['test/fixtures/make_large_scan.py', layout, String(rows), path, String(n), at.toISOString(), String(extraColumns)], {
    timeout: 120_000,
  });
  return path;
}

// 100,000 rows of twelve columns: asset, price, loading, volume and eight more per-asset values
// (9.2 MiB). Decoding it takes 2-5 s on the development machine under load: past DECODE_TIMEOUT_MS alone.
const AT = new Date(Date.now() - 1000);
let large = '';
let relLarge = '';
beforeAll(() => {
  const dir = tempDir();
  large = writeLargeScan(dir, 'long', 7, 100_000, AT, 8);
  relLarge = `${dayFolder(AT)}/${scanFileName(7, AT)}`;
}, 120_000);
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('the decode time limit grows with the file', () => {
  async function pool(timeoutMsPerMb: number) {
    const p = new DecodePool({ size: 1, timeoutMs: 200, timeoutMsPerMb, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
    cleanups.push(() => p.close());
    expect(await p.ready()).toBe(true);
    return p;
  }

  it('a large file gets DECODE_TIMEOUT_MS_PER_MB for each MiB beyond the first', async () => {
    const sizeMb = statSync(large).size / MIB;
    expect(sizeMb).toBeGreaterThan(8);
    // 200 ms + 8.2 MiB × 3000 ms: room for the decode on a loaded machine.
    expect(await (await pool(3000)).decode(large, relLarge)).toMatchObject({ kind: 'ok', scan: { scanNumber: 7, assetCount: 100_000 } });
  }, 60_000);

  it('past that time it is stopped, and the reason names both limits and the size', async () => {
    // 200 ms + 8.2 MiB × 50 ms = 0.6 s: too short for this file.
    const r = await (await pool(50)).decode(large, relLarge);
    expect(r).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS' });
    expect((r as { reason: string }).reason).toMatch(
      /^decoding took longer than DECODE_TIMEOUT_MS \(200 ms\) and the 4\d\d ms DECODE_TIMEOUT_MS_PER_MB \(50 ms\) allows for its 9\.\d MiB$/,
    );
  }, 60_000);

  it('0 keeps one limit for every size', async () => {
    const r = await (await pool(0)).decode(large, relLarge);
    expect(r).toMatchObject({ kind: 'limit', limit: 'DECODE_TIMEOUT_MS', reason: 'decoding took longer than DECODE_TIMEOUT_MS (200 ms)' });
  }, 60_000);
});

describe('a large legitimate scan', () => {
  it('100,000 rows in the long layout land at the default settings', async () => {
    const config = testConfig();
    expect([config.decodeTimeoutMs, config.decodeTimeoutMsPerMb]).toEqual([
      Number(SETTINGS.DECODE_TIMEOUT_MS.default),
      Number(SETTINGS.DECODE_TIMEOUT_MS_PER_MB.default),
    ]);
    const { hz, events } = await startBridge(config, cleanups);
    writeLargeScan(config.arrowDir, 'long', 7, 100_000, AT, 8);
    const done = await events.until((e) => (e.type === 'pushed' && e.scanNumber === 7) || e.type === 'rejected', 60_000, 'scan #7 pushed or rejected');
    expect(done).toMatchObject({ type: 'pushed', scanNumber: 7, assets: 100_000 });
    const value = JSON.parse(await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey)) as {
      scan_number: number;
      asset_count: number;
      rows: unknown[];
    };
    expect(value).toMatchObject({ scan_number: 7, asset_count: 100_000 });
    expect(value.rows).toHaveLength(100_000);
  }, 90_000);
});
