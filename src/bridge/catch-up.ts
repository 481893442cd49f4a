import type { Hazelcast } from '../connections.js';
import { coerceError } from '../errors.js';
import type { HistoryWriter } from './hazelcast/history-writer.js';
import { fileOrder, listScanFiles, type ScanFileRef } from './watch/scan-files.js';
import type { ReadOutcome } from './scan-decoder.js';
import type { DecodedScan } from './hazelcast/payload.js';
import type { ScanFileReader } from './scan-intake.js';
import type { LatestStore } from './hazelcast/store.js';
import { compareToFileName, describeScan, type ScanOrderKey } from './guards/scan-order.js';
import { judgeStoredKey } from './guards/stored-value.js';

export interface CatchUpDeps {
  arrowDir: string;
  historyTtlS: number;
  /** MAX_CLOCK_SKEW_S. */
  maxClockSkewS: number;
  hazelcast: Pick<Hazelcast, 'waitConnected'>;
  latest: Pick<LatestStore, 'read'>;
  reader: Pick<ScanFileReader, 'onFile' | 'has'>;
  /** One read of one file (scan-decoder.ts). */
  read(path: string, relPath: string): Promise<ReadOutcome>;
  history: Pick<HistoryWriter, 'write'>;
  /** The scan numbers among these without a history entry. */
  absentFromHistory(scanNumbers: number[]): Promise<number[]>;
  /** A scan read from disk. */
  seen(scan: DecodedScan): void;
  /** Whether a scan read from disk is refused for its time stamp (it then goes nowhere). */
  refused(scan: DecodedScan, relPath: string): boolean;
  reject(relPath: string, reason: string): void;
  skip(relPath: string, reason: string): void;
  say(level: 'info' | 'warn', message: string): void;
  stopped(): boolean;
}

const BACKFILL_WORKERS = 8;
/**
 * How many scans at or before the one in Hazelcast are checked for a history entry: a run that
 * stopped or was killed between writing the latest value and writing history (or with a history
 * backlog after an outage) left them without one. 1,000 is 100 s of scans at 10/s.
 */
export const RECHECK_MAX = 1000;

/**
 * The start-up catch-up: pushes the newest scan on disk at once (through the reader, like a file
 * event), then writes to history the scans this bridge missed: those newer than what Hazelcast
 * holds and younger than the history TTL.
 */
export async function startupCatchUp(d: CatchUpDeps): Promise<void> {
  const listed = await listScanFiles(d.arrowDir);
  if (listed.length === 0) return;
  const newest = listed[listed.length - 1]!;
  let stored: ScanOrderKey | null = null;
  // A client just created is still connecting: give it a moment before deciding what was missed.
  await d.hazelcast.waitConnected(5000);
  try {
    const current = await d.latest.read();
    // A value that is no scan, or stamped far ahead, says nothing of what was missed (stored-value.ts).
    const judged = current === null ? null : judgeStoredKey(current, { nowMs: Date.now(), maxSkewS: d.maxClockSkewS });
    stored = judged?.kind === 'scan' ? judged.value : null;
  } catch (err) {
    d.say('warn', `cannot read the current scan from Hazelcast (${coerceError(err).message}): catching up from disk alone`);
  }
  d.reader.onFile(newest.path);
  const horizon = Date.now() - d.historyTtlS * 1000;
  // Newer than what Hazelcast holds, in scan order: after a numbering restart, lower numbers too.
  const newer = (f: ScanFileRef) => stored === null || f.scanNumber === undefined || compareToFileName(fileOrder(f), stored) > 0;
  const young = (f: ScanFileRef) => (f.timestampMs ?? Infinity) >= horizon;
  const missed = listed.slice(0, -1).filter((f) => newer(f) && young(f));
  if (missed.length > 0) {
    const than = stored === null ? 'that Hazelcast has not seen' : `are newer than ${describeScan(stored)} in Hazelcast`;
    d.say('info', `catching up: ${missed.length} scans on disk ${than}; writing them to history`);
  }
  const unwritten =
    stored === null
      ? []
      : await withoutHistory(
          d,
          listed
            .slice(0, -1)
            .filter((f) => !newer(f) && young(f))
            .slice(-RECHECK_MAX),
          stored,
          'a run stopped before writing it',
        );
  if (missed.length + unwritten.length === 0) return;
  await backfill(d, [...unwritten, ...missed], true);
}

/**
 * After Hazelcast lost the latest value and it was put back (keep-latest.ts): a member that lost
 * it may have lost the history too. The entries of the last scans on disk up to `upTo` (at most
 * RECHECK_MAX, younger than the history TTL) are checked, and the missing ones written again from
 * their files, whether or not this run read them before.
 */
export async function rewriteLostHistory(d: CatchUpDeps, upTo: ScanOrderKey): Promise<void> {
  const horizon = Date.now() - d.historyTtlS * 1000;
  const refs = (await listScanFiles(d.arrowDir))
    .filter((f) => (f.timestampMs ?? Infinity) >= horizon && f.scanNumber !== undefined && compareToFileName(fileOrder(f), upTo) <= 0)
    .slice(-RECHECK_MAX);
  const missing = await withoutHistory(d, refs, upTo, 'Hazelcast lost them');
  if (missing.length > 0) await backfill(d, missing, false);
}

/** Of `refs` (at or before `stored`), those whose number has no history entry; `why` they may have none, for the log. */
async function withoutHistory(d: CatchUpDeps, refs: ScanFileRef[], stored: ScanOrderKey, why: string): Promise<ScanFileRef[]> {
  const numbered = refs.filter((f) => f.scanNumber !== undefined);
  if (numbered.length === 0) return [];
  let absent: Set<number>;
  try {
    absent = new Set(await d.absentFromHistory(numbered.map((f) => f.scanNumber!)));
  } catch (err) {
    d.say('warn', `cannot check the history of the ${numbered.length} scans up to ${describeScan(stored)} (${coerceError(err).message}): not checked`);
    return [];
  }
  const out = numbered.filter((f) => absent.has(f.scanNumber!));
  if (out.length > 0)
    d.say(
      'info',
      `catching up: ${out.length} of the ${numbered.length} scans on disk up to ${describeScan(stored)} have no history entry (${why}); writing them`,
    );
  return out;
}

/** Reads and writes the missed scans to history, a few at a time; with `skipKnown`, files the reader knows are its business. */
async function backfill(d: CatchUpDeps, refs: ScanFileRef[], skipKnown: boolean): Promise<void> {
  const t0 = Date.now();
  let done = 0;
  let lastReport = t0;
  let next = 0;
  const work = async () => {
    while (!d.stopped() && next < refs.length) {
      const ref = refs[next++]!;
      if (skipKnown && d.reader.has(ref.path)) continue;
      const res = await d.read(ref.path, ref.relPath);
      if (res.kind === 'ok') {
        if (d.refused(res.scan, ref.relPath)) continue;
        d.seen(res.scan);
        await d.history.write({ scan: res.scan, relPath: ref.relPath, scanNumber: res.scan.scanNumber });
      } else if (res.kind === 'broken') {
        d.reject(ref.relPath, res.reason);
      } else if (res.kind === 'skip') {
        d.skip(ref.relPath, res.reason);
      } else if (res.kind === 'incomplete') {
        d.reader.onFile(ref.path);
      }
      done++;
      if (Date.now() - lastReport >= 2000) {
        lastReport = Date.now();
        d.say('info', `catching up: ${done}/${refs.length} scans written to history (${Math.round((done * 1000) / (lastReport - t0))}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: BACKFILL_WORKERS }, work));
  const s = (Date.now() - t0) / 1000;
  d.say('info', `caught up: ${done} scans written to history in ${s.toFixed(1)} s`);
}
