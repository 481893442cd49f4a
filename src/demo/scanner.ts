/**
 * Demo market scanner: writes one canonical scan file every `intervalMs`, atomically, continuing
 * the numbering found on disk. Stands in for the real (Python) scanner in demos and tests.
 */
import type { Logger } from 'pino';
import { newestScanOnDisk, scanRelPath } from '../bridge/watch/scan-files.js';
import { DEFAULT_SEED, makeScan, writeScanAtomically } from './scan-writer.js';
import { sleep } from '../time.js';

export interface DemoScannerOptions {
  arrowDir: string;
  intervalMs: number;
  assets: number;
  /** first scan number to write; default: one past the newest scan on disk (newestScanOnDisk) */
  startScanNumber?: number;
  log: Logger;
  signal?: AbortSignal;
  /** stop after this many scans (attempts, including failed writes); default: run until aborted */
  count?: number;
  /** PRNG seed for the generated values */
  seed?: number;
  /** level of the one line per scan written; `debug` when another line tells each scan already. Default `info` */
  perScanLevel?: 'info' | 'debug';
}

export async function runDemoScanner(opts: DemoScannerOptions): Promise<void> {
  const { arrowDir, assets, log, signal, count } = opts;
  const intervalMs = Math.max(1, opts.intervalMs);
  const seed = opts.seed ?? DEFAULT_SEED;

  let next: number;
  if (opts.startScanNumber !== undefined) {
    next = opts.startScanNumber;
  } else {
    try {
      next = ((await newestScanOnDisk(arrowDir)) ?? 0) + 1;
    } catch (err) {
      log.warn({ err, arrowDir }, `could not list existing scans in ${arrowDir}; starting at scan #1`);
      next = 1;
    }
  }

  log.info(
    { arrowDir, intervalMs, assets, startScanNumber: next, count },
    `demo scanner starting at scan #${next}: ${assets} assets every ${intervalMs} ms into ${arrowDir}` + (count !== undefined ? `, ${count} scans` : ''),
  );

  const start = Date.now();
  let slot = 0; // drift-free: scan k is due at start + k * intervalMs
  let attempts = 0;
  let written = 0;

  while (!signal?.aborted && (count === undefined || attempts < count)) {
    if (slot > 0) await sleep(start + slot * intervalMs - Date.now(), signal);
    if (signal?.aborted) break;

    const time = new Date();
    const scanNumber = next;
    const rel = scanRelPath(scanNumber, time);
    attempts++;
    try {
      const row = makeScan({ scanNumber, time, assets, seed });
      await writeScanAtomically(arrowDir, row);
      written++;
      next++;
      log[opts.perScanLevel ?? 'info'](
        { scanNumber, assets: row.assets.length, file: rel },
        `wrote scan #${scanNumber} (${row.assets.length} assets) to ${rel}`,
      );
    } catch (err) {
      // keep the number for the next attempt; never crash the scanner on a write error
      log.error({ err, scanNumber, file: rel }, `could not write scan #${scanNumber} to ${rel}; will try again next tick`);
    }

    // next slot in the future; slots missed because a write was slow are skipped, not bunched
    const elapsedSlots = Math.floor((Date.now() - start) / intervalMs);
    slot = Math.max(slot + 1, elapsedSlots + 1);
  }

  log.info(
    { written, attempts, nextScanNumber: next },
    `demo scanner stopped after writing ${written} scan${written === 1 ? '' : 's'}` + (signal?.aborted ? ' (aborted)' : ''),
  );
}
