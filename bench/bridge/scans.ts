/** The scan files the measures write: encoded templates patched in place, staged and published with the one scan writer. */
import { encodeScan, makeScan, type ScanRow } from '../../src/demo/scan-writer.js';
import { readScan } from '../../src/bridge/arrow/reference-decoder.js';
import { scanRelPath, stageScanFile, writeScanFileSync, type StagedScanFile } from '../../src/bridge/watch/scan-files.js';
import { P } from './settings.js';

export interface Template {
  bytes: Uint8Array;
  snOff: number;
  tsOff: number;
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

function findUnique(hay: Uint8Array, needle: Uint8Array): number {
  let at = -1;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    if (at >= 0) throw new Error('template value found twice');
    at = i;
  }
  if (at < 0) throw new Error('template value not found');
  return at;
}

/**
 * Encoded canonical scans whose scan_number and timestamp can be patched in place: Arrow IPC
 * stores each int64 value as 8 plain bytes in the body, and nothing in the file depends on them.
 * Used for the backlog and memory phases (tens of thousands of files); every template is checked
 * by reading a patched copy back with the bridge's own reader.
 */
export function makeTemplates(count: number): Template[] {
  const SN = 987_654_321_987n;
  const TS = 1_234_567_890_123n;
  const out: Template[] = [];
  for (let j = 0; j < count; j++) {
    const base = makeScan({ scanNumber: 5000 + j * 7, time: new Date(), assets: P.assets });
    const row: ScanRow = { ...base, scan_number: Number(SN), timestamp: new Date(Number(TS)) };
    const bytes = encodeScan(row);
    const t = { bytes, snOff: findUnique(bytes, le64(SN)), tsOff: findUnique(bytes, le64(TS)) };
    const probe = readScan(patch(t, 123_456 + j, 1_700_000_000_000 + j), { relPath: 'probe' });
    if (
      probe.kind !== 'ok' ||
      probe.scan.scanNumber !== 123_456 + j ||
      probe.scan.timestampMs !== 1_700_000_000_000 + j ||
      probe.scan.assetCount !== P.assets
    ) {
      throw new Error(
        `patched template ${j} does not read back: ${JSON.stringify(probe.kind === 'ok' ? { n: probe.scan.scanNumber, t: probe.scan.timestampMs } : probe)}`,
      );
    }
    out.push(t);
  }
  return out;
}

export function patch(t: Template, scanNumber: number, timeMs: number): Uint8Array {
  const b = new Uint8Array(t.bytes);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setBigInt64(t.snOff, BigInt(scanNumber), true);
  dv.setBigInt64(t.tsOff, BigInt(timeMs), true);
  return b;
}

export interface ScanFile {
  n: number;
  time: Date;
  arrowDir: string;
  relPath: string;
  bytes: Uint8Array;
  /** Written under its temporary name, waiting for its timed rename. */
  staged?: StagedScanFile;
}

export function scanFile(arrowDir: string, n: number, time: Date, bytes: Uint8Array): ScanFile {
  return { n, time, arrowDir, relPath: scanRelPath(n, time), bytes };
}

export const stage = (f: ScanFile) => void (f.staged = stageScanFile(f.arrowDir, f.n, f.time, f.bytes));
export const publish = (f: ScanFile) => f.staged!.publish();

/** `count` canonical scans of `assets` assets written into `dir`, one second apart up to now: the decode benchmarks' files. */
export function writeCanonicalScans(dir: string, count: number, assets: number): Array<{ path: string; rel: string; size: number }> {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(Date.now() - (count - i) * 1000);
    const bytes = encodeScan(makeScan({ scanNumber: 100 + i, time: at, assets }));
    return { path: writeScanFileSync(dir, 100 + i, at, bytes), rel: `bench/${i}.arrow`, size: bytes.length };
  });
}
