/**
 * Arrow IPC scan file → JSON payload: the pure core of the bridge (no I/O).
 *
 * Contract: /work/shared/scan-format.md. In short:
 * - a scan file is an Arrow IPC *file* (`ARROW1` magic) or *stream* (any suffix), possibly
 *   LZ4_FRAME/ZSTD compressed, in one or several record batches;
 * - writers are not atomic, so completeness is checked structurally before parsing: a file needs
 *   its trailing `ARROW1` magic (and a sane footer length), a stream needs every message to be
 *   whole up to the end-of-stream marker. Prefixes of valid files are always `incomplete`
 *   (apache-arrow alone reads 0-byte files and some truncations as empty tables, no error);
 * - complete files are then checked deeper before and after apache-arrow parses them: every
 *   flatbuffer table/vector of the footer and messages must lie inside its message (arrow trusts
 *   those lengths: one flipped byte made it build millions of fields for seconds, then run out
 *   of memory), and every column's buffers must hold what its length and offsets claim;
 * - values follow the JSON rules of the contract (see `toJsonValue`).
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
 * - Metadata values are strings; they become numbers when they are plain decimal numbers that
 *   survive the round trip (`String(Number(s)) === s`, and integers within ±(2^53−1)), `null` for
 *   nan/inf/None/null spellings, and stay strings otherwise (`"2.0"`, `"007"`, `"50,150,300,750"`).
 * - Binary values become base64 strings, decimals exact decimal strings, time-of-day and duration
 *   values their integer count in the column's unit, out-of-range timestamps `null`.
 */
import {
  DataType,
  RecordBatchReader,
  StructRow,
  TimeUnit,
  Type,
  Vector,
  type Data,
  type RecordBatch,
  type Schema,
  makeVector,
  util as arrowUtil,
} from 'apache-arrow';
import { registerCompression } from './compression.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type Scan = {
  scanNumber: number;
  timestampMs: number;
  assetCount: number;
  layout: 'wide' | 'long';
  body: Record<string, unknown>;
};

export type ReadResult =
  | { kind: 'ok'; scan: Scan }
  | { kind: 'incomplete'; reason: string }
  | { kind: 'broken'; reason: string };

export type ByteKind = 'file' | 'stream' | 'empty' | 'unknown';

export type PayloadMeta = { sourceFile: string; bridgeId: string; writtenAtMs: number };

/** Fields the bridge adds to every payload, in payload order. */
export const BRIDGE_FIELDS = [
  'scan_number',
  'timestamp',
  'timestamp_ms',
  'written_at_ms',
  'asset_count',
  'source_file',
  'bridge_id',
] as const;

// ---------------------------------------------------------------------------------------------
// Byte-level detection and completeness
// ---------------------------------------------------------------------------------------------

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const MAGIC_PADDED = [...MAGIC, 0, 0];
const MAX_METADATA_LENGTH = 1 << 26; // 64 MiB of flatbuffer metadata is far beyond any real schema

function startsWith(bytes: ArrayLike<number>, prefix: ArrayLike<number>, at = 0): boolean {
  if (at < 0 || at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * `file`: starts with `ARROW1` (or is a prefix of `ARROW1\0\0`); `stream`: starts with the
 * continuation marker 0xFFFFFFFF (or a prefix of it), or with an old-style (pre-0.15) metadata
 * length followed by something shaped like a flatbuffer; `empty`: 0 bytes; else `unknown`.
 */
export function classifyBytes(bytes: Uint8Array): ByteKind {
  const n = bytes.length;
  if (n === 0) return 'empty';
  if (n < MAGIC.length ? startsWith(MAGIC, bytes) : startsWith(bytes, MAGIC)) return 'file';
  if (n < 4) {
    for (let i = 0; i < n; i++) if (bytes[i] !== 0xff) return 'unknown';
    return 'stream';
  }
  const dv = view(bytes);
  const first = dv.getInt32(0, true);
  if (first === -1) return 'stream';
  if (first > 0 && first <= MAX_METADATA_LENGTH && n >= 8) {
    // Legacy stream: int32 metadata length, then the Message flatbuffer (root table offset first).
    // While the metadata is still partial only the root offset can be checked.
    const root = dv.getUint32(4, true);
    if (root >= 4 && root < first && (n - 4 < first || messageInfo(bytes, 4, first) !== null)) {
      return 'stream';
    }
  }
  return 'unknown';
}

type Structure = { state: 'complete' } | { state: 'incomplete'; reason: string } | { state: 'broken'; reason: string };

type MessageInfo = { headerType: number; bodyLength: number };

/**
 * Reads `header_type` and `bodyLength` of an IPC Message flatbuffer at bytes[start, start+len),
 * with bounds checks; null when it does not look like a Message. (Message table fields:
 * 0 version:short, 1 header_type:ubyte, 2 header:offset, 3 bodyLength:long, 4 custom_metadata.)
 */
function messageInfo(bytes: Uint8Array, start: number, len: number): MessageInfo | null {
  const end = start + len;
  if (len < 12 || end > bytes.length) return null;
  const dv = view(bytes);
  const table = start + dv.getUint32(start, true);
  if (table + 4 > end) return null;
  const vtable = table - dv.getInt32(table, true);
  if (vtable < start || vtable + 4 > end) return null;
  const vtSize = dv.getUint16(vtable, true);
  if (vtSize < 4 || vtSize % 2 !== 0 || vtable + vtSize > end) return null;
  const field = (i: number): number => (4 + 2 * i + 2 <= vtSize ? dv.getUint16(vtable + 4 + 2 * i, true) : 0);
  const fVersion = field(0);
  const version = fVersion && table + fVersion + 2 <= end ? dv.getInt16(table + fVersion, true) : 0;
  if (version < 0 || version > 4) return null;
  const fType = field(1);
  const headerType = fType && table + fType + 1 <= end ? dv.getUint8(table + fType) : 0;
  if (headerType < 1 || headerType > 5) return null;
  const fBody = field(3);
  let bodyLength = 0;
  if (fBody) {
    if (table + fBody + 8 > end) return null;
    const big = dv.getBigInt64(table + fBody, true);
    if (big < 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    bodyLength = Number(big);
  }
  return { headerType, bodyLength };
}

// Deep metadata checks. apache-arrow trusts flatbuffer vector lengths, so one flipped byte in
// a schema can make it build millions of fields (seconds of CPU, then out-of-memory). Before
// parsing, every table, vector and string arrow will visit is checked to lie inside its message.

class FlatCheck {
  private readonly dv: DataView;
  private budget = 100_000;
  constructor(
    bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.dv = view(bytes);
  }
  fail(what: string): never {
    throw new Error(`corrupt Arrow metadata: ${what}`);
  }
  private need(pos: number, size: number): void {
    if (pos < this.start || pos + size > this.end) this.fail(`reference outside the message (${pos})`);
  }
  root(): number {
    this.need(this.start, 4);
    return this.table(this.start + this.dv.getUint32(this.start, true));
  }
  table(pos: number): number {
    if (--this.budget < 0) this.fail('too many objects');
    this.need(pos, 4);
    const vt = pos - this.dv.getInt32(pos, true);
    this.need(vt, 4);
    const vs = this.dv.getUint16(vt, true);
    if (vs < 4 || vs % 2 !== 0) this.fail('bad vtable');
    this.need(vt, vs);
    return pos;
  }
  private off(tbl: number, id: number): number {
    const vt = tbl - this.dv.getInt32(tbl, true);
    const o = 4 + 2 * id;
    return o + 2 <= this.dv.getUint16(vt, true) ? this.dv.getUint16(vt + o, true) : 0;
  }
  u8(tbl: number, id: number): number {
    const o = this.off(tbl, id);
    if (!o) return 0;
    this.need(tbl + o, 1);
    return this.dv.getUint8(tbl + o);
  }
  scalar(tbl: number, id: number, size: number): void {
    const o = this.off(tbl, id);
    if (o) this.need(tbl + o, size);
  }
  private ref(tbl: number, id: number): number | null {
    const o = this.off(tbl, id);
    if (!o) return null;
    this.need(tbl + o, 4);
    return tbl + o + this.dv.getUint32(tbl + o, true);
  }
  child(tbl: number, id: number): number | null {
    const t = this.ref(tbl, id);
    return t === null ? null : this.table(t);
  }
  vector(tbl: number, id: number, elemSize: number): { pos: number; len: number } | null {
    const t = this.ref(tbl, id);
    if (t === null) return null;
    this.need(t, 4);
    const len = this.dv.getUint32(t, true);
    if (len * elemSize > this.end - t - 4) this.fail(`vector of ${len} items does not fit`);
    this.budget -= len;
    return { pos: t + 4, len };
  }
  tables(tbl: number, id: number): number[] {
    const v = this.vector(tbl, id, 4);
    const out: number[] = [];
    if (v) for (let k = 0; k < v.len; k++) {
      const at = v.pos + 4 * k;
      out.push(this.table(at + this.dv.getUint32(at, true)));
    }
    return out;
  }
  readI64(pos: number): number {
    this.need(pos, 8);
    const v = this.dv.getBigInt64(pos, true);
    return v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
  }
  readI32(pos: number): number {
    this.need(pos, 4);
    return this.dv.getInt32(pos, true);
  }
}

const TYPE_UNION = 14;

function checkKeyValues(fc: FlatCheck, tbl: number, id: number): void {
  for (const kv of fc.tables(tbl, id)) {
    fc.vector(kv, 0, 1);
    fc.vector(kv, 1, 1);
  }
}

function checkField(fc: FlatCheck, f: number, depth: number): void {
  if (depth > 64) fc.fail('fields nested too deep');
  fc.vector(f, 0, 1); // name
  fc.scalar(f, 1, 1);
  const typeType = fc.u8(f, 2);
  const type = fc.child(f, 3);
  if (type !== null && typeType === TYPE_UNION) fc.vector(type, 1, 4);
  const dict = fc.child(f, 4);
  if (dict !== null) fc.child(dict, 1);
  for (const c of fc.tables(f, 5)) checkField(fc, c, depth + 1);
  checkKeyValues(fc, f, 6);
}

function checkSchema(fc: FlatCheck, schema: number): void {
  for (const f of fc.tables(schema, 1)) checkField(fc, f, 0);
  checkKeyValues(fc, schema, 2);
  fc.vector(schema, 3, 8);
}

function checkRecordBatch(fc: FlatCheck, rb: number): void {
  fc.scalar(rb, 0, 8);
  fc.vector(rb, 1, 16); // FieldNode structs
  fc.vector(rb, 2, 16); // Buffer structs
  fc.child(rb, 3);
  fc.vector(rb, 4, 8);
}

/** Checks the Message flatbuffer at bytes[start, start+len). */
function checkMessage(bytes: Uint8Array, start: number, len: number): void {
  const fc = new FlatCheck(bytes, start, start + len);
  const m = fc.root();
  const headerType = fc.u8(m, 1);
  const h = fc.child(m, 2);
  checkKeyValues(fc, m, 4);
  if (h === null) return;
  if (headerType === 1) checkSchema(fc, h);
  else if (headerType === 3) checkRecordBatch(fc, h);
  else if (headerType === 2) {
    const rb = fc.child(h, 1);
    if (rb !== null) checkRecordBatch(fc, rb);
  }
}

/** Checks an IPC file's footer and every message its blocks point at. */
function checkFile(bytes: Uint8Array): void {
  const n = bytes.length;
  const footerLen = view(bytes).getInt32(n - MAGIC.length - 4, true);
  const footerStart = n - MAGIC.length - 4 - footerLen;
  const fc = new FlatCheck(bytes, footerStart, footerStart + footerLen);
  const footer = fc.root();
  const schema = fc.child(footer, 1);
  if (schema === null) return fc.fail('file footer has no schema');
  checkSchema(fc, schema);
  checkKeyValues(fc, footer, 4);
  for (const id of [2, 3]) {
    const blocks = fc.vector(footer, id, 24);
    if (!blocks) continue;
    for (let k = 0; k < blocks.len; k++) {
      const at = blocks.pos + 24 * k;
      const offset = fc.readI64(at);
      const metaLen = fc.readI32(at + 8);
      const bodyLen = fc.readI64(at + 16);
      if (offset < 8 || metaLen < 8 || bodyLen < 0 || offset + metaLen + bodyLen > footerStart) {
        fc.fail(`record batch block ${k} points outside the file`);
      }
      const dv = view(bytes);
      let pos = offset;
      let len = dv.getInt32(pos, true);
      pos += 4;
      if (len === -1) {
        len = dv.getInt32(pos, true);
        pos += 4;
      }
      if (len <= 0 || pos + len > offset + metaLen) fc.fail(`bad message length in block ${k}`);
      checkMessage(bytes, pos, len);
    }
  }
}

const HEADER_SCHEMA = 1;

/** Walks the messages of an IPC stream up to its end-of-stream marker (`deep`: check each one's metadata). */
function streamStructure(bytes: Uint8Array, deep = false): Structure {
  const n = bytes.length;
  const dv = view(bytes);
  let pos = 0;
  let index = 0;
  for (;;) {
    if (pos + 4 > n) return { state: 'incomplete', reason: `stream ends after ${index} message(s) without end-of-stream marker` };
    let metaLen = dv.getInt32(pos, true);
    pos += 4;
    if (metaLen === -1) {
      if (pos + 4 > n) return { state: 'incomplete', reason: `stream ends after ${index} message(s) without end-of-stream marker` };
      metaLen = dv.getInt32(pos, true);
      pos += 4;
    }
    if (metaLen === 0) {
      if (index === 0) return { state: 'broken', reason: 'empty Arrow IPC stream (end-of-stream marker but no schema)' };
      return { state: 'complete' };
    }
    if (metaLen < 0 || metaLen > MAX_METADATA_LENGTH) {
      return { state: 'broken', reason: `bad IPC message length ${metaLen} at byte ${pos - 4}` };
    }
    if (pos + metaLen > n) return { state: 'incomplete', reason: `stream truncated inside message ${index}` };
    const info = messageInfo(bytes, pos, metaLen);
    if (!info) return { state: 'broken', reason: `IPC message ${index} at byte ${pos} is not a valid Arrow message` };
    if (deep) {
      try {
        checkMessage(bytes, pos, metaLen);
      } catch (e) {
        return { state: 'broken', reason: `IPC message ${index}: ${errorMessage(e)}` };
      }
    }
    if (index === 0 && info.headerType !== HEADER_SCHEMA) {
      return { state: 'broken', reason: 'IPC stream does not start with a Schema message' };
    }
    pos += metaLen + info.bodyLength;
    if (pos > n) return { state: 'incomplete', reason: `stream truncated inside the body of message ${index}` };
    index++;
  }
}

function fileStructure(bytes: Uint8Array, deep = false): Structure {
  const n = bytes.length;
  if (n < MAGIC_PADDED.length) {
    return startsWith(MAGIC_PADDED, bytes)
      ? { state: 'incomplete', reason: `only ${n} bytes` }
      : { state: 'broken', reason: 'not an Arrow IPC file' };
  }
  // leading magic (8 bytes incl. padding) + ... + int32 footer length + trailing magic (6 bytes)
  if (n < 8 + 4 + MAGIC.length || !startsWith(bytes, MAGIC, n - MAGIC.length)) {
    return { state: 'incomplete', reason: 'Arrow IPC file has no footer yet (trailing ARROW1 magic missing)' };
  }
  const footerLen = view(bytes).getInt32(n - MAGIC.length - 4, true);
  if (footerLen <= 0 || footerLen > n - 8 - 4 - MAGIC.length) {
    return { state: 'broken', reason: `Arrow IPC file has a bad footer length (${footerLen})` };
  }
  if (deep) {
    try {
      checkFile(bytes);
    } catch (e) {
      return { state: 'broken', reason: errorMessage(e) };
    }
  }
  return { state: 'complete' };
}

/**
 * Whether the bytes hold a whole Arrow IPC file or stream: file → trailing `ARROW1` magic with a
 * plausible footer length; stream → every message whole up to the end-of-stream marker
 * (0xFFFFFFFF 0x00000000, or 4 zero bytes in the legacy format). Walking the messages instead of
 * only looking at the last bytes matters for legacy streams, whose truncations often end in zeros.
 */
export function isComplete(bytes: Uint8Array): boolean {
  const kind = classifyBytes(bytes);
  if (kind === 'file') return fileStructure(bytes).state === 'complete';
  if (kind === 'stream') return streamStructure(bytes).state === 'complete';
  return false;
}

function describeUnknown(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8));
  const ascii = String.fromCharCode(...head.slice(0, 4));
  const base = 'not an Arrow IPC file';
  if (ascii === 'PAR1') return `${base} (starts with PAR1: looks like Parquet)`;
  if (ascii === 'FEA1') return `${base} (starts with FEA1: Feather V1, not supported; write Feather V2 / Arrow IPC)`;
  if (head[0] === 0x1f && head[1] === 0x8b) return `${base} (looks like gzip)`;
  if (ascii.startsWith('PK')) return `${base} (looks like a zip archive)`;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return `${base} (looks like a raw zstd frame)`;
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return `${base} (starts with '${String.fromCharCode(bytes[i]!)}': looks like JSON)`;
  const sample = bytes.subarray(0, Math.min(bytes.length, 256));
  let printable = 0;
  for (const b of sample) if (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80) printable++;
  if (printable === sample.length) return `${base} (looks like text)`;
  const hex = head.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${base} (unrecognised leading bytes ${hex})`;
}

// ---------------------------------------------------------------------------------------------
// Value conversion
// ---------------------------------------------------------------------------------------------

const MAX_SAFE = 9007199254740991n;
const MIN_SAFE = -9007199254740991n;

/** int64/uint64 → number when within ±(2^53−1), else its decimal string. */
export function int64ToJson(v: bigint): number | string {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
}

function floatToJson(v: number): number | null {
  return v === v && v !== Infinity && v !== -Infinity ? v : null;
}

function floorDiv(v: bigint, d: bigint): number {
  let q = v / d;
  if (v % d < 0n) q -= 1n;
  return Number(q);
}

/** A timestamp's raw value in `unit` → epoch milliseconds (floored). */
export function timestampToMs(v: bigint | number, unit: TimeUnit): number {
  if (typeof v === 'number') {
    switch (unit) {
      case TimeUnit.SECOND: return v * 1000;
      case TimeUnit.MILLISECOND: return Math.floor(v);
      case TimeUnit.MICROSECOND: return Math.floor(v / 1e3);
      default: return Math.floor(v / 1e6);
    }
  }
  switch (unit) {
    case TimeUnit.SECOND: return Number(v) * 1000;
    case TimeUnit.MILLISECOND: return Number(v);
    case TimeUnit.MICROSECOND: return floorDiv(v, 1000n);
    default: return floorDiv(v, 1000000n);
  }
}

/** Epoch ms → ISO-8601 UTC with milliseconds, or null when out of JS Date range. */
export function isoMs(ms: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

function dateFromMs(ms: number): string | null {
  const iso = isoMs(ms);
  return iso === null ? null : iso.slice(0, iso.indexOf('T'));
}

const textDecoder = new TextDecoder();

function utf8(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return '';
  if (len <= 32) {
    // Short ASCII strings (most symbols) are cheaper to build by hand than via TextDecoder.
    let out = '';
    for (let k = start; k < end; k++) {
      const c = buf[k]!;
      if (c >= 0x80) return textDecoder.decode(buf.subarray(start, end));
      out += String.fromCharCode(c);
    }
    return out;
  }
  return textDecoder.decode(buf.subarray(start, end));
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function decimalToString(words: Uint32Array, offset: number, stride: number, scale: number): string {
  let v = 0n;
  for (let k = stride - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[offset + k]!);
  v = BigInt.asIntN(stride * 32, v);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  } else if (scale < 0) {
    digits = digits === '0' ? digits : digits + '0'.repeat(-scale);
  }
  return neg ? `-${digits}` : digits;
}

function offsetAt(offsets: Int32Array | BigInt64Array, i: number): number {
  const o = offsets[i]!;
  return typeof o === 'bigint' ? Number(o) : o;
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

type CellReader = (i: number) => unknown;

/**
 * Checks that a Data chunk's buffers can hold what its length and offsets claim, recursively.
 * A corrupted (but complete-looking) file can claim millions of rows or list items with no
 * buffers behind them; reading that would build huge arrays of garbage instead of failing.
 */
export function checkData(data: Data, path: string): void {
  const fail = (what: string): never => {
    throw new Error(`corrupt column ${path}: ${what}`);
  };
  const { length, offset } = data;
  const t = props(data.type);
  if (!(length >= 0) || !(offset >= 0)) fail('bad length/offset');
  const bitmap = data.nullBitmap;
  if (data.typeId !== Type.Null && data.nullCount > 0 && bitmap && bitmap.length > 0 && bitmap.length * 8 < offset + length) {
    fail('validity bitmap too short');
  }
  const values = data.values as unknown as ArrayLike<unknown> | undefined;
  const checkOffsets = (limit: number) => {
    const o = data.valueOffsets as Int32Array | BigInt64Array | undefined;
    if (!o || o.length < length + 1) return fail('offsets buffer too short');
    let prev = offsetAt(o, 0);
    if (prev < 0) fail('negative offset');
    for (let i = 1; i <= length; i++) {
      const cur = offsetAt(o, i);
      if (cur < prev) fail('offsets not increasing');
      prev = cur;
    }
    if (prev > limit) fail(`offsets point past the end (${prev} > ${limit})`);
  };
  switch (data.typeId) {
    case Type.Null:
      return;
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Timestamp:
    case Type.Time:
    case Type.Duration:
    case Type.Decimal:
    case Type.FixedSizeBinary:
    case Type.Interval:
      if (!values || values.length < length * data.stride) fail('values buffer too short');
      return;
    case Type.Bool:
      if (!values || values.length * 8 < offset + length) fail('values buffer too short');
      return;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      checkOffsets(values ? values.length : 0);
      return;
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const child = data.children[0];
      if (!child) return fail('missing child');
      checkOffsets(child.length);
      checkData(child, `${path}[]`);
      return;
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      if (!child || child.length < length * t.listSize) fail('child too short');
      checkData(child!, `${path}[]`);
      return;
    }
    case Type.Struct: {
      const fields = data.type.children as { name: string }[];
      data.children.forEach((c, k) => {
        if (c.length < length) fail(`field ${fields[k]?.name} too short`);
        checkData(c, `${path}.${fields[k]?.name ?? k}`);
      });
      return;
    }
    case Type.Dictionary:
      if (!values || values.length < length) fail('indices buffer too short');
      for (const d of data.dictionary?.data ?? []) checkData(d, `${path}<dictionary>`);
      return;
    default:
      return;
  }
}


/** The type parameters we read; which ones exist depends on the typeId. */
type TypeProps = {
  bitWidth: number;
  precision: number;
  unit: number;
  scale: number;
  listSize: number;
  dictionary: DataType;
};

function props(type: DataType): TypeProps {
  return type as unknown as TypeProps;
}

/**
 * Compiles a converter for the cells of one Data chunk: `reader(i)` is the JSON-ready value of
 * row i, honouring the validity bitmap at every level (nulls inside lists stay null). Driven by
 * the Arrow DataType; values that have no fast path go through `vector.get()` + `toJsonValue`.
 */
export function makeCellReader(data: Data): CellReader {
  const inner = makeValueReader(data);
  const bitmap = data.typeId !== Type.Null && data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  if (!bitmap) return inner;
  const off = data.offset;
  return (i) => {
    const p = off + i;
    return (bitmap[p >> 3]! & (1 << (p & 7))) === 0 ? null : inner(i);
  };
}

function validBit(data: Data): ((j: number) => boolean) | null {
  const bitmap = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  if (!bitmap) return null;
  const off = data.offset;
  return (j) => {
    const p = off + j;
    return (bitmap[p >> 3]! & (1 << (p & 7))) !== 0;
  };
}

/** Reader for the value at row i, assuming it is valid. */
function makeValueReader(data: Data): CellReader {
  const type = data.type;
  const t = props(type);
  const values = data.values as unknown;
  switch (type.typeId) {
    case Type.Null:
      return () => null;
    case Type.Int: {
      if (t.bitWidth === 64) {
        const arr = values as BigInt64Array | BigUint64Array;
        return (i) => int64ToJson(arr[i]!);
      }
      const arr = values as Int32Array;
      return (i) => arr[i]!;
    }
    case Type.Float: {
      if (t.precision === 0 /* HALF */) {
        const arr = values as Uint16Array;
        return (i) => floatToJson(arrowUtil.uint16ToFloat64(arr[i]!));
      }
      const arr = values as Float64Array;
      return (i) => floatToJson(arr[i]!);
    }
    case Type.Bool: {
      const arr = values as Uint8Array;
      const off = data.offset;
      return (i) => (arr[(off + i) >> 3]! & (1 << ((off + i) & 7))) !== 0;
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const arr = values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return (i) => utf8(arr, offsetAt(offsets, i), offsetAt(offsets, i + 1));
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const arr = values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      return (i) => base64(arr.subarray(offsetAt(offsets, i), offsetAt(offsets, i + 1)));
    }
    case Type.FixedSizeBinary: {
      const arr = values as Uint8Array;
      const w = data.stride;
      return (i) => base64(arr.subarray(i * w, (i + 1) * w));
    }
    case Type.Date: {
      if (t.unit === 0 /* DAY */) {
        const arr = values as Int32Array;
        return (i) => dateFromMs(arr[i]! * 86400000);
      }
      const arr = values as BigInt64Array;
      return (i) => dateFromMs(Number(arr[i]!));
    }
    case Type.Timestamp: {
      const arr = values as BigInt64Array;
      const unit = t.unit as TimeUnit;
      return (i) => isoMs(timestampToMs(arr[i]!, unit));
    }
    case Type.Decimal: {
      const arr = values as Uint32Array;
      const stride = data.stride;
      const scale = t.scale;
      return (i) => decimalToString(arr, i * stride, stride, scale);
    }
    case Type.Time:
    case Type.Duration: {
      const arr = values as Int32Array | BigInt64Array;
      return (i) => {
        const v = arr[i]!;
        return typeof v === 'bigint' ? int64ToJson(v) : v;
      };
    }
    case Type.List:
    case Type.LargeList:
      return makeListReader(data);
    case Type.FixedSizeList: {
      const child = data.children[0]!;
      const size = t.listSize;
      const read = makeCellReader(child);
      return (i) => {
        const out = new Array<unknown>(size);
        for (let j = 0; j < size; j++) out[j] = read(i * size + j);
        return out;
      };
    }
    case Type.Struct: {
      const names = (type.children as { name: string }[]).map((f) => f.name);
      const readers = data.children.map((c) => makeCellReader(c));
      return (i) => {
        const obj: Record<string, unknown> = {};
        for (let k = 0; k < names.length; k++) setKey(obj, names[k]!, readers[k]!(i));
        return obj;
      };
    }
    case Type.Dictionary: {
      const indices = values as Int32Array | BigInt64Array;
      const decode = dictionaryDecoder(data.dictionary);
      return (i) => {
        const idx = indices[i]!;
        return decode(typeof idx === 'bigint' ? Number(idx) : idx);
      };
    }
    default: {
      // Map, Union, Interval, views, ...: arrow's own getter, then the generic converter.
      const vec = makeVector(data);
      return (i) => toJsonValue(type, vec.get(i));
    }
  }
}

function makeListReader(data: Data): CellReader {
  const child = data.children[0]!;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const childType = child.type;
  const childValid = validBit(child);
  if (childType.typeId === Type.Float && props(childType).precision !== 0) {
    // Fast path: list<float64|float32> straight from the typed array, NaN/±Inf → null.
    const arr = child.values as Float64Array;
    return (i) => {
      const b = offsetAt(offsets, i);
      const e = offsetAt(offsets, i + 1);
      const out = new Array<number | null>(e - b);
      for (let j = b, k = 0; j < e; j++, k++) {
        const v = arr[j]!;
        out[k] = (childValid && !childValid(j)) || v !== v || v === Infinity || v === -Infinity ? null : v;
      }
      return out;
    };
  }
  if (childType.typeId === Type.Utf8 || childType.typeId === Type.LargeUtf8) {
    // Fast path: list<utf8>.
    const bytes = child.values as Uint8Array;
    const co = child.valueOffsets as Int32Array | BigInt64Array;
    return (i) => {
      const b = offsetAt(offsets, i);
      const e = offsetAt(offsets, i + 1);
      const out = new Array<string | null>(e - b);
      for (let j = b, k = 0; j < e; j++, k++) {
        out[k] = childValid && !childValid(j) ? null : utf8(bytes, offsetAt(co, j), offsetAt(co, j + 1));
      }
      return out;
    };
  }
  const read = makeCellReader(child);
  return (i) => {
    const b = offsetAt(offsets, i);
    const e = offsetAt(offsets, i + 1);
    const out = new Array<unknown>(e - b);
    for (let j = b, k = 0; j < e; j++, k++) out[k] = read(j);
    return out;
  };
}

function dictionaryDecoder(dictionary: Vector | undefined): (index: number) => unknown {
  if (!dictionary) return () => null;
  const chunks = dictionary.data;
  const readers = chunks.map((c) => makeCellReader(c));
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.length;
  }
  const cache = new Array<unknown>(total);
  const done = new Uint8Array(total);
  return (index) => {
    if (index < 0 || index >= total) return null;
    if (done[index]) return cache[index];
    let c = chunks.length - 1;
    while (c > 0 && starts[c]! > index) c--;
    const v = readers[c]!(index - starts[c]!);
    cache[index] = v;
    done[index] = 1;
    return v;
  };
}

/** All values of a Vector (every chunk) as JSON-ready values. */
export function vectorToJson(vector: Vector): unknown[] {
  const out: unknown[] = [];
  for (const chunk of vector.data) {
    const read = makeCellReader(chunk);
    for (let i = 0; i < chunk.length; i++) out.push(read(i));
  }
  return out;
}

/**
 * Converts one value to its JSON-ready form by the contract's rules, driven by the Arrow type
 * (pass a DataType, or a Vector/Data/Field whose `.type` is used):
 * - 64-bit integers (bigint): number within ±(2^53−1), else decimal string;
 * - timestamps → ISO-8601 UTC with ms (a bigint is a raw count in the type's unit; a number is
 *   epoch ms, as `vector.get()` returns it; a Date is used as is); dates → `YYYY-MM-DD`;
 * - NaN/±Infinity → null; null/undefined → null;
 * - lists → arrays (a Vector is walked with its validity bitmaps, so inner nulls stay null),
 *   structs → objects, maps → objects (string keys) or [key, value] pairs, dictionary values →
 *   the decoded value (pass the decoded value), binary → base64.
 * The file reader does not go through here cell by cell: it compiles per-column readers
 * (`makeCellReader`) that apply the same rules straight to the Arrow buffers.
 */
export function toJsonValue(typeOrVector: DataType | { type: DataType }, value: unknown): unknown {
  const type = typeOrVector instanceof DataType ? typeOrVector : typeOrVector.type;
  return convert(type, value);
}

function convert(type: DataType | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const typeId = type ? type.typeId : Type.NONE;
  switch (typeId) {
    case Type.Dictionary:
      return convert(props(type!).dictionary, value);
    case Type.Timestamp: {
      if (value instanceof Date) return isoMs(value.getTime());
      if (typeof value === 'bigint') return isoMs(timestampToMs(value, props(type!).unit as TimeUnit));
      if (typeof value === 'number') return isoMs(Math.floor(value));
      break;
    }
    case Type.Date: {
      if (value instanceof Date) return dateFromMs(value.getTime());
      if (typeof value === 'number') return dateFromMs(value);
      if (typeof value === 'bigint') return dateFromMs(Number(value));
      break;
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      if (value instanceof Vector) return vectorToJson(value);
      const childType = (type!.children as { type: DataType }[])[0]?.type;
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        return Array.from(value as ArrayLike<unknown>, (v) => convert(childType, v));
      }
      break;
    }
    case Type.Struct: {
      if (typeof value === 'object') {
        const obj: Record<string, unknown> = {};
        const src = value as Record<string, unknown>;
        for (const f of type!.children as { name: string; type: DataType }[]) setKey(obj, f.name, convert(f.type, src[f.name]));
        return obj;
      }
      break;
    }
    case Type.Map: {
      const entries = mapEntries(value);
      if (entries) {
        const [keyField, valueField] = ((type!.children as { type: DataType }[])[0]?.type.children ?? []) as { type: DataType }[];
        const stringKeys = entries.every(([k]) => typeof k === 'string');
        if (stringKeys) {
          const obj: Record<string, unknown> = {};
          for (const [k, v] of entries) setKey(obj, k as string, convert(valueField?.type, v));
          return obj;
        }
        return entries.map(([k, v]) => [convert(keyField?.type, k), convert(valueField?.type, v)]);
      }
      break;
    }
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
    case Type.BinaryView:
      if (value instanceof Uint8Array) return base64(value);
      break;
    default:
      break;
  }
  return generic(value);
}

function mapEntries(value: unknown): [unknown, unknown][] | null {
  if (value instanceof Map) return [...value.entries()];
  if (typeof value === 'object' && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    const out: [unknown, unknown][] = [];
    for (const e of value as Iterable<unknown>) {
      if (!Array.isArray(e) || e.length !== 2) return null;
      out.push([e[0], e[1]]);
    }
    return out;
  }
  return null;
}

/** Type-less fallback: still never lets a bigint, NaN, typed array or arrow object through. */
function generic(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'bigint': return int64ToJson(value);
    case 'number': return floatToJson(value);
    case 'string':
    case 'boolean': return value;
    case 'object': break;
    default: return null;
  }
  if (value instanceof Date) return isoMs(value.getTime());
  if (value instanceof Vector) return vectorToJson(value);
  if (value instanceof StructRow) return generic((value as unknown as { toJSON(): unknown }).toJSON());
  if (ArrayBuffer.isView(value)) {
    if (value instanceof Uint8Array) return base64(value);
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => generic(v));
  }
  if (Array.isArray(value)) return value.map((v) => generic(v));
  if (value instanceof Map) {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of value) setKey(obj, String(k), generic(v));
    return obj;
  }
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as object)) setKey(obj, k, generic(v));
  return obj;
}

// ---------------------------------------------------------------------------------------------
// Scan-level values: scan number and time
// ---------------------------------------------------------------------------------------------

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const NULLISH = new Set(['nan', 'NaN', 'inf', '-inf', 'Infinity', '-Infinity', 'None', 'null']);

/** A schema-metadata string → JSON value (see the module comment). */
export function metadataValue(s: string): unknown {
  if (NULLISH.has(s)) return null;
  if (NUMBER_RE.test(s)) {
    const n = Number(s);
    if (String(n) === s && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return s;
}

function isSkippedMetadataKey(key: string): boolean {
  return key === 'pandas' || key.startsWith('ARROW:');
}

function toScanNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v)) return Number(v);
  return undefined;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Epoch → ms with the unit guessed from the magnitude: < 1e11 seconds (until year 5138),
 * < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds. Sub-millisecond parts are cut.
 */
function epochStringToMs(sign: string, intPart: string, frac: string): number {
  const v = BigInt(intPart);
  let ms: bigint;
  if (v < 100_000_000_000n) ms = v * 1000n + BigInt((frac + '000').slice(0, 3));
  else if (v < 100_000_000_000_000n) ms = v;
  else if (v < 100_000_000_000_000_000n) ms = v / 1000n;
  else ms = v / 1_000_000n;
  return sign === '-' ? -Number(ms) : Number(ms);
}

/** ISO-8601 (no zone = UTC) or epoch seconds/ms/us/ns → epoch ms; undefined when unparseable. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    value = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  }
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  const e = EPOCH_RE.exec(s);
  if (e) return epochStringToMs(e[1]!, e[2]!, e[3] ?? '');
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac = '', zone] = m;
  const month = Number(mo), day = Number(d), h = Number(hh), min = Number(mi), sec = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, h, min, sec, Number((frac + '000').slice(0, 3)));
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return undefined;
    const offset = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * 60000;
    ms += zm[1] === '+' ? -offset : offset;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

const FILE_RE = /^scan_(\d+)_(\d{2})(\d{2})(\d{2})\.(?:arrow|arrows|feather|ipc)$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Scan number and time from `<YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow` (also .arrows/.feather/.ipc). */
export function parseScanPath(relPath: string): { scanNumber?: number; timestampMs?: number } {
  const parts = relPath.split(/[\\/]+/).filter(Boolean);
  const name = parts[parts.length - 1] ?? '';
  const m = FILE_RE.exec(name);
  if (!m) return {};
  const out: { scanNumber?: number; timestampMs?: number } = {};
  const n = toScanNumber(m[1]);
  if (n !== undefined) out.scanNumber = n;
  const [h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4])];
  for (let k = parts.length - 2; k >= 0; k--) {
    const d = DAY_RE.exec(parts[k]!);
    if (!d) continue;
    if (h < 24 && mi < 60 && s < 61) {
      const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), h, mi, s);
      if (Number.isFinite(ms)) out.timestampMs = ms;
    }
    break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// readScan
// ---------------------------------------------------------------------------------------------

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
    return { kind: 'broken', reason: `unexpected error reading scan: ${errorMessage(e)}` };
  }
}

function readScanUnchecked(bytes: Uint8Array, where: { relPath: string }): ReadResult {
  registerCompression();
  const kind = classifyBytes(bytes);
  if (kind === 'empty') return { kind: 'incomplete', reason: 'empty file (0 bytes)' };
  if (kind === 'unknown') {
    if (bytes.length < 8) return { kind: 'incomplete', reason: `only ${bytes.length} bytes, not recognisable yet` };
    return { kind: 'broken', reason: describeUnknown(bytes) };
  }
  const structure = kind === 'file' ? fileStructure(bytes, true) : streamStructure(bytes, true);
  if (structure.state !== 'complete') return { kind: structure.state, reason: structure.reason };

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
    return { kind: 'broken', reason: `cannot parse Arrow IPC ${kind}: ${errorMessage(e)}` };
  }
  if (!schema) return { kind: 'broken', reason: `Arrow IPC ${kind} has no schema` };
  const totalRows = batches.reduce((n, b) => n + b.numRows, 0);
  if (totalRows === 0) return { kind: 'broken', reason: `no rows (complete Arrow IPC ${kind} with 0 rows)` };

  const fields = schema.fields;
  const names = fields.map((f) => f.name);
  try {
    for (const batch of batches) {
      if (batch.numRows === 0) continue;
      const cols = batch.data.children;
      if (cols.length !== names.length) throw new Error('record batch does not match the schema');
      for (let k = 0; k < cols.length; k++) {
        if (cols[k]!.length < batch.numRows) throw new Error(`corrupt column ${names[k]}: shorter than the batch`);
        checkData(cols[k]!, names[k]!);
      }
    }
  } catch (e) {
    return { kind: 'broken', reason: errorMessage(e) };
  }
  const metadata: [string, string][] = [];
  for (const [k, v] of schema.metadata) if (!isSkippedMetadataKey(k)) metadata.push([k, v]);
  const layout: 'wide' | 'long' = names.includes('asset') && !names.includes('assets') ? 'long' : 'wide';

  const body: Record<string, unknown> = {};
  let assetCount: number;
  let firstRow: Record<string, unknown>;
  if (layout === 'wide') {
    const batch = batches.find((b) => b.numRows > 0)!;
    const cols = batch.data.children;
    for (let k = 0; k < names.length; k++) setKey(body, names[k]!, makeCellReader(cols[k]!)(0));
    for (const [k, v] of metadata) if (!Object.prototype.hasOwnProperty.call(body, k)) setKey(body, k, metadataValue(v));
    firstRow = body;
    const list = [body.assets, body.prices, body.loadings].find(Array.isArray) as unknown[] | undefined;
    assetCount = list ? list.length : 0;
  } else {
    for (const [k, v] of metadata) setKey(body, k, metadataValue(v));
    const rows: Record<string, unknown>[] = new Array(totalRows);
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

  const meta = new Map(metadata);
  const fromPath = parseScanPath(where.relPath);
  const scanNumber =
    (names.includes('scan_number') ? toScanNumber(firstRow.scan_number) : undefined) ??
    toScanNumber(meta.get('scan_number')) ??
    fromPath.scanNumber;
  if (scanNumber === undefined) {
    return { kind: 'broken', reason: 'no scan number (no scan_number column or metadata, file name not scan_<NNNNNN>_<HHMMSS>.arrow)' };
  }
  const timestampMs =
    (names.includes('timestamp') ? parseTimestamp(firstRow.timestamp) : undefined) ??
    parseTimestamp(meta.get('timestamp')) ??
    fromPath.timestampMs;
  if (timestampMs === undefined || isoMs(timestampMs) === null) {
    return { kind: 'broken', reason: 'no scan time (no timestamp column or metadata, no <YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow path)' };
  }
  return { kind: 'ok', scan: { scanNumber, timestampMs, assetCount, layout, body } };
}

// ---------------------------------------------------------------------------------------------
// Payload
// ---------------------------------------------------------------------------------------------

const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);

/**
 * The JSON text stored in Hazelcast: the bridge fields first (scan_number, timestamp as ISO ms,
 * timestamp_ms, written_at_ms, asset_count, source_file, bridge_id), then the body fields. Body
 * fields with a bridge field's name are dropped: the bridge's normalised values win.
 */
export function buildPayload(scan: Scan, meta: PayloadMeta): string {
  const out: Record<string, unknown> = {
    scan_number: scan.scanNumber,
    timestamp: isoMs(scan.timestampMs),
    timestamp_ms: scan.timestampMs,
    written_at_ms: meta.writtenAtMs,
    asset_count: scan.assetCount,
    source_file: meta.sourceFile,
    bridge_id: meta.bridgeId,
  };
  for (const k of Object.keys(scan.body)) {
    if (!BRIDGE_FIELD_SET.has(k)) setKey(out, k, scan.body[k]);
  }
  return JSON.stringify(out);
}
