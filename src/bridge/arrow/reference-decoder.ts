/**
 * One scan file's bytes → the scan (number, time, layout, body), or why not. Pure and
 * self-contained (no I/O, no shared state beyond the codec registry), so it can run in a worker
 * thread. Contract: docs/scan-format.md. Steps: IPC structure and completeness
 * (ipc-structure.ts), flatbuffer bounds (flatbuffer-checks.ts), apache-arrow's parse, column
 * buffers (column-checks.ts), cell values (cells.ts).
 *
 * Design decisions:
 * - A complete file with 0 rows is `broken` ("no rows"), for both layouts: its completeness
 *   markers prove the writer finished, so retrying cannot help, and the contract requires at
 *   least one row. (Truncated files that arrow would read as an empty table never get this far:
 *   they lack their footer / end-of-stream marker and are `incomplete`.)
 * - Layout: `long` when the schema has an `asset` column and no `assets` column, else `wide`.
 *   Wide files use their first row (the first row of the first non-empty batch).
 * - Wide body: every column of that row, then the schema metadata entries whose keys are not
 *   columns (so `scanner_version` and `windows` reach consumers). Long body: the metadata
 *   entries, then `rows`. Metadata keys `pandas` and `ARROW:*` are skipped (pyarrow internals).
 * - Scan number and time: the first row's `scan_number` / `timestamp` column, else the metadata
 *   entry, else the path (`<YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow`).
 */
import { RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { coerceError } from '../../errors.js';
import { makeCellReader } from './cells.js';
import { checkBatches } from './column-checks.js';
import { registerCompression } from './compression.js';
import { claimBytes } from '../threads/limits.js';
import { valueCost } from '../threads/value-cost.js';
import { checkedStructure, classifyBytes, describeUnknown } from './ipc-structure.js';
import { isoMs, metadataValue, setKey } from './json-values.js';
import { parseScanPath } from '../watch/scan-files.js';
import { parseTimestamp, toScanNumber } from './scan-values.js';

export type Scan = {
  scanNumber: number;
  timestampMs: number;
  assetCount: number;
  layout: 'wide' | 'long';
  body: Record<string, unknown>;
};

export type ReadResult = { kind: 'ok'; scan: Scan } | { kind: 'incomplete'; reason: string } | { kind: 'broken'; reason: string };

/** Schema metadata keys left out of the body (pyarrow internals). */
export function isSkippedMetadataKey(key: string): boolean {
  return key === 'pandas' || key.startsWith('ARROW:');
}

/**
 * Reads one scan file's bytes. Never throws.
 * - `incomplete`: 0 bytes, a prefix of an Arrow file/stream (no footer / no end-of-stream yet);
 *   the caller retries and gives up after a few tries.
 * - `broken`: not Arrow (with a hint: Parquet, JSON, ...), unparseable, no rows, or no scan
 *   number / time from any source.
 */
export function readScan(bytes: Uint8Array, where: { relPath: string }): ReadResult {
  try {
    return readScanUnchecked(bytes, where);
  } catch (e) {
    return { kind: 'broken', reason: `unexpected error reading scan: ${coerceError(e).message}` };
  }
}

/** A result other than `ok`: why the bytes are not (yet) a scan. */
export type NotRead = Exclude<ReadResult, { kind: 'ok' }>;

/**
 * The checks before any decoding: Arrow at all (else a hint of what it is), and whole
 * (completeness markers, flatbuffer bounds). Gives the IPC format of bytes that pass.
 */
export function checkScanBytes(bytes: Uint8Array): { format: 'file' | 'stream' } | NotRead {
  const kind = classifyBytes(bytes);
  if (kind === 'empty') return { kind: 'incomplete', reason: 'empty file (0 bytes)' };
  if (kind === 'unknown') {
    if (bytes.length < 8) return { kind: 'incomplete', reason: `only ${bytes.length} bytes, not recognisable yet` };
    return { kind: 'broken', reason: describeUnknown(bytes) };
  }
  const structure = checkedStructure(bytes, kind);
  if (structure.state !== 'complete') return { kind: structure.state, reason: structure.reason };
  return { format: kind };
}

function readScanUnchecked(bytes: Uint8Array, where: { relPath: string }): ReadResult {
  const checked = checkScanBytes(bytes);
  return 'format' in checked ? readCheckedScan(bytes, checked.format, where) : checked;
}

/** The no-rows refusal, the same from every decoder. */
export function noRows(kind: 'file' | 'stream'): NotRead {
  return { kind: 'broken', reason: `no rows (complete Arrow IPC ${kind} with 0 rows)` };
}

/** Decodes bytes that passed {@link checkScanBytes} with apache-arrow. Throws only on unexpected errors. */
export function readCheckedScan(bytes: Uint8Array, kind: 'file' | 'stream', where: { relPath: string }): ReadResult {
  registerCompression();
  // Arrow lays Float64Array/BigInt64Array over the buffer: the base must be 8-byte aligned.
  const input = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  let schema: Schema;
  let batches: RecordBatch[];
  try {
    const reader = RecordBatchReader.from(input);
    reader.open();
    schema = reader.schema; // read before readAll(): the reader resets itself when exhausted
    batches = reader.readAll();
  } catch (e) {
    return { kind: 'broken', reason: `cannot parse Arrow IPC ${kind}: ${coerceError(e).message}` };
  }
  if (!schema) return { kind: 'broken', reason: `Arrow IPC ${kind} has no schema` };
  const totalRows = batches.reduce((n, b) => n + b.numRows, 0);
  if (totalRows === 0) return noRows(kind);

  const fields = schema.fields;
  const names = fields.map((f) => f.name);
  try {
    checkBatches(batches, names);
  } catch (e) {
    return { kind: 'broken', reason: coerceError(e).message };
  }
  const metadata: [string, string][] = [];
  for (const [k, v] of schema.metadata) if (!isSkippedMetadataKey(k)) metadata.push([k, v]);
  const layout: 'wide' | 'long' = names.includes('asset') && !names.includes('assets') ? 'long' : 'wide';

  // The JS values are claimed from the decode budget (MAX_SCAN_BYTES) before any is built.
  const wideBatch = batches.find((b) => b.numRows > 0)!;
  let cost = 0;
  for (const batch of layout === 'wide' ? [wideBatch] : batches) {
    const rows = layout === 'wide' ? 1 : batch.numRows;
    for (const col of batch.data.children) cost += valueCost(col, 0, rows);
  }
  claimBytes(cost, 'its JS values');

  const body: Record<string, unknown> = {};
  let assetCount: number;
  let firstRow: Record<string, unknown>;
  if (layout === 'wide') {
    const cols = wideBatch.data.children;
    for (let k = 0; k < names.length; k++) setKey(body, names[k]!, makeCellReader(cols[k]!)(0));
    for (const [k, v] of metadata) if (!Object.prototype.hasOwnProperty.call(body, k)) setKey(body, k, metadataValue(v));
    firstRow = body;
    const list = [body.assets, body.prices, body.loadings].find(Array.isArray) as unknown[] | undefined;
    assetCount = list ? list.length : 0;
  } else {
    for (const [k, v] of metadata) setKey(body, k, metadataValue(v));
    const rows = new Array<Record<string, unknown>>(totalRows);
    let r = 0;
    for (const batch of batches) {
      const n = batch.numRows;
      if (n === 0) continue;
      const readers = batch.data.children.map((c) => makeCellReader(c));
      for (let i = 0; i < n; i++) {
        const row: Record<string, unknown> = {};
        for (let k = 0; k < names.length; k++) setKey(row, names[k]!, readers[k]!(i));
        rows[r++] = row;
      }
    }
    setKey(body, 'rows', rows);
    firstRow = rows[0]!;
    assetCount = totalRows;
  }

  const id = scanIdentity(names, (name) => firstRow[name], metadata, where.relPath);
  return 'reason' in id ? id : { kind: 'ok', scan: { scanNumber: id.scanNumber, timestampMs: id.timestampMs, assetCount, layout, body } };
}

/**
 * The scan's number and time: the first row's `scan_number` / `timestamp` column (`firstRow`
 * gives a column's JSON value), else the metadata entry, else the path. Broken without either.
 */
export function scanIdentity(
  names: string[],
  firstRow: (name: string) => unknown,
  metadata: [string, string][],
  relPath: string,
): { scanNumber: number; timestampMs: number } | NotRead {
  const meta = (key: string): string | undefined => {
    for (let k = metadata.length - 1; k >= 0; k--) if (metadata[k]![0] === key) return metadata[k]![1];
    return undefined;
  };
  let fromPath: ReturnType<typeof parseScanPath> | undefined; // only when needed: a regex or two
  const path = () => (fromPath ??= parseScanPath(relPath));
  const scanNumber =
    (names.includes('scan_number') ? toScanNumber(firstRow('scan_number')) : undefined) ?? toScanNumber(meta('scan_number')) ?? path().scanNumber;
  if (scanNumber === undefined) {
    return { kind: 'broken', reason: 'no scan number (no scan_number column or metadata, file name not scan_<NNNNNN>_<HHMMSS>.arrow)' };
  }
  const timestampMs =
    (names.includes('timestamp') ? parseTimestamp(firstRow('timestamp')) : undefined) ?? parseTimestamp(meta('timestamp')) ?? path().timestampMs;
  if (timestampMs === undefined || isoMs(timestampMs) === null) {
    return { kind: 'broken', reason: 'no scan time (no timestamp column or metadata, no <YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow path)' };
  }
  return { scanNumber, timestampMs };
}
