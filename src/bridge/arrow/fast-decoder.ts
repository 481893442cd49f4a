/**
 * A scan file's bytes → the scan's head and its body as JSON text, the work of a decode worker.
 * Two decoders give the same answer, byte for byte: the fast one reads the usual files (the
 * column types of fast-ipc.ts, uncompressed or LZ4_FRAME/ZSTD, file or stream, any number of
 * batches) straight from the Arrow buffers to JSON text; every other file (dictionaries, structs,
 * maps, decimals, odd keys or layouts, and whatever the fast decoder doubts) goes to apache-arrow
 * (read-scan.ts) and `bodyJson`, as before. Both run after the same completeness and flatbuffer
 * checks, and both claim their decoded bytes and JS values from the decode budget first; what
 * the fast decoder claimed is given back when it hands a file over.
 */
import { coerceError } from '../../errors.js';
import { LimitError, claimBytes, claimedBytes, releaseTo } from '../threads/limits.js';
import { batchColumns, type FastColumn } from './fast-columns.js';
import { NotFast } from './fast-flatbuffer.js';
import { readFastIpc, type FastIpc } from './fast-ipc.js';
import { metadataValue } from './json-values.js';
import { BRIDGE_FIELDS, bodyJson, type ScanHead } from '../hazelcast/payload.js';
import { checkScanBytes, isSkippedMetadataKey, noRows, readCheckedScan, scanIdentity, type NotRead } from './reference-decoder.js';

export type TextResult =
  { kind: 'ok'; scan: ScanHead; body: string; decoder: 'fast' | 'arrow'; /** Why the fast decoder handed it over. */ handedOver?: string } | NotRead;

const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);
/** Keys a JS object would put first (array indices): the body's key order would differ. */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;
const isIndexKey = (key: string) => key.charCodeAt(0) <= 0x39 && INDEX_KEY.test(key);

/** Reads one scan file's bytes to head + body JSON. Never throws, except LimitError past the budget. */
export function readScanText(bytes: Uint8Array, where: { relPath: string }): TextResult {
  let handedOver: string;
  try {
    const checked = checkScanBytes(bytes);
    if (!('format' in checked)) return checked;
    const mark = claimedBytes();
    try {
      return fastScan(bytes.byteOffset % 8 === 0 ? bytes : bytes.slice(), checked.format, where.relPath);
    } catch (e) {
      if (e instanceof LimitError) throw e;
      handedOver = e instanceof NotFast ? e.message : `fast decoder: ${coerceError(e).message}`;
    }
    releaseTo(mark);
    const res = readCheckedScan(bytes, checked.format, where);
    if (res.kind !== 'ok') return res;
    const { scanNumber, timestampMs, assetCount, layout, body } = res.scan;
    return { kind: 'ok', scan: { scanNumber, timestampMs, assetCount, layout }, body: bodyJson(body), decoder: 'arrow', handedOver };
  } catch (e) {
    if (e instanceof LimitError) throw e;
    return { kind: 'broken', reason: `unexpected error reading scan: ${coerceError(e).message}` };
  }
}

function checkKeys(ipc: FastIpc): void {
  const seen = new Set<string>();
  for (const { name } of ipc.fields) {
    if (seen.has(name) || isIndexKey(name)) throw new NotFast(`column name ${JSON.stringify(name)}`);
    seen.add(name);
  }
  const keys = new Set<string>();
  for (const [k] of ipc.metadata) {
    if (keys.has(k) || isIndexKey(k) || k === 'rows') throw new NotFast(`metadata key ${JSON.stringify(k)}`);
    keys.add(k);
  }
}

/** The fast decoder: the scan, a broken scan (no rows, no number or time), or NotFast. */
function fastScan(bytes: Uint8Array, format: 'file' | 'stream', relPath: string): TextResult {
  const ipc = readFastIpc(bytes, format);
  checkKeys(ipc);
  const names = ipc.fields.map((f) => f.name);
  const types = ipc.fields.map((f) => f.type);
  const batches = ipc.batches.map((b) => ({ rows: b.length, cols: batchColumns(b, types) }));
  let totalRows = 0;
  for (const b of batches) {
    if (b.rows === 0) continue;
    for (const col of b.cols) if (col.length < b.rows) throw new NotFast('column shorter than its batch');
    totalRows += b.rows;
  }
  if (totalRows === 0) return noRows(format);
  const metadata = ipc.metadata.filter(([k]) => !isSkippedMetadataKey(k));
  const layout: 'wide' | 'long' = names.includes('asset') && !names.includes('assets') ? 'long' : 'wide';
  const first = batches.find((b) => b.rows > 0)!;

  let cost = 0;
  for (const b of layout === 'wide' ? [first] : batches) {
    const rows = layout === 'wide' ? 1 : b.rows;
    for (const col of b.cols) cost += col.cost(0, rows);
  }
  claimBytes(cost, 'its JS values');

  const keyText = names.map((n) => `${JSON.stringify(n)}:`);
  const entry = ([k, v]: [string, string]) => `${JSON.stringify(k)}:${JSON.stringify(metadataValue(v))}`;
  let body = '';
  const add = (part: string) => {
    body = body === '' ? part : `${body},${part}`;
  };
  let assetCount: number;
  if (layout === 'wide') {
    for (let k = 0; k < names.length; k++) if (!BRIDGE_FIELD_SET.has(names[k]!)) add(keyText[k]! + first.cols[k]!.text(0));
    const columns = new Set(names);
    for (const e of metadata) if (!columns.has(e[0]) && !BRIDGE_FIELD_SET.has(e[0])) add(entry(e));
    assetCount = wideAssetCount(names, first.cols);
  } else {
    for (const e of metadata) if (!BRIDGE_FIELD_SET.has(e[0])) add(entry(e));
    add(`"rows":[${rowsText(batches, keyText)}]`);
    assetCount = totalRows;
  }

  const firstRow = (name: string): unknown => JSON.parse(first.cols[names.indexOf(name)]!.text(0));
  const id = scanIdentity(names, firstRow, metadata, relPath);
  if ('reason' in id) return id;
  return { kind: 'ok', scan: { scanNumber: id.scanNumber, timestampMs: id.timestampMs, assetCount, layout }, body, decoder: 'fast' };
}

/** The length of the first of `assets`, `prices`, `loadings` that is a list in the first row. */
function wideAssetCount(names: string[], cols: FastColumn[]): number {
  for (const name of ['assets', 'prices', 'loadings']) {
    const k = names.indexOf(name);
    const n = k < 0 ? -1 : cols[k]!.listLength(0);
    if (n >= 0) return n;
  }
  return 0;
}

/** The long layout's rows, each an object of its columns, without the brackets. */
function rowsText(batches: { rows: number; cols: FastColumn[] }[], keyText: string[]): string {
  const rows: string[] = [];
  for (const { rows: n, cols } of batches) {
    for (let i = 0; i < n; i++) {
      let row = '{';
      for (let k = 0; k < cols.length; k++) row += (k === 0 ? '' : ',') + keyText[k]! + cols[k]!.text(i);
      rows.push(`${row}}`);
    }
  }
  return rows.join(',');
}
