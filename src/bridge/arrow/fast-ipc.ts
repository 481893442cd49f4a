/**
 * The fast decoder's view of an Arrow IPC file or stream (see fast-scan.ts): its schema, when
 * every column has a type the fast decoder knows, and the raw buffers of each record batch,
 * body compression undone. It reads the metadata apache-arrow would read, the way apache-arrow
 * reads it (the footer's schema and blocks for a file; the messages in order for a stream), with
 * every read bounds-checked, and throws `NotFast` on anything it does not handle: the caller then
 * gives the file to apache-arrow, which judges it as before. Run only on bytes that passed the
 * structure and flatbuffer checks (ipc-structure.ts). Buffers are decompressed by the codecs of
 * compression.ts, which claim their output from the decode budget first.
 */
import { decodeLz4Frame, decodeZstd } from './compression.js';
import { Flat, notFast } from './fast-flatbuffer.js';

/** The column types the fast decoder reads (Timestamp units: 0 s, 1 ms, 2 us, 3 ns). */
export type FastType =
  | { t: 'null' }
  | { t: 'int'; bits: 8 | 16 | 32 | 64; signed: boolean }
  | { t: 'float'; bits: 32 | 64 }
  | { t: 'bool' }
  | { t: 'utf8'; large: boolean }
  | { t: 'timestamp'; unit: number }
  | { t: 'list'; large: boolean; child: FastType };

export interface FastField {
  name: string;
  type: FastType;
}

export interface FieldNode {
  length: number;
  nullCount: number;
}

/** One record batch: its row count, field nodes and buffers (depth-first, as in IPC). */
export interface RawBatch {
  length: number;
  nodes: FieldNode[];
  buffers: Uint8Array[];
}

export interface FastIpc {
  fields: FastField[];
  /** Every schema metadata entry, in order. */
  metadata: [string, string][];
  batches: RawBatch[];
}

const V4 = 3; // MetadataVersion.V4: older metadata has another buffer layout
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;

function fieldType(fb: Flat, f: number, depth: number): FastType {
  if (depth > 32) notFast('nested too deep');
  if (fb.child(f, 4) !== null) notFast('dictionary-encoded column');
  const typeType = fb.u8(f, 2);
  const type = fb.child(f, 3);
  if (type === null) notFast('field without a type table');
  const children = fb.tables(f, 5);
  if (children.length !== (typeType === 12 || typeType === 21 ? 1 : 0)) notFast('unexpected child fields');
  switch (typeType) {
    case 1:
      return { t: 'null' };
    case 2: {
      const bits = fb.i32(type!, 0);
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) return notFast(`int of ${bits} bits`);
      return { t: 'int', bits, signed: fb.u8(type!, 1) !== 0 };
    }
    case 3: {
      const precision = fb.i16(type!, 0);
      if (precision !== 1 && precision !== 2) return notFast('half float');
      return { t: 'float', bits: precision === 1 ? 32 : 64 };
    }
    case 5:
      return { t: 'utf8', large: false };
    case 20:
      return { t: 'utf8', large: true };
    case 6:
      return { t: 'bool' };
    case 10: {
      const unit = fb.i16(type!, 0);
      if (unit < 0 || unit > 3) return notFast('timestamp unit');
      return { t: 'timestamp', unit };
    }
    case 12:
    case 21:
      return { t: 'list', large: typeType === 21, child: fieldType(fb, children[0]!, depth + 1) };
    default:
      return notFast(`column type ${typeType}`);
  }
}

function readSchema(fb: Flat, schema: number): Pick<FastIpc, 'fields' | 'metadata'> {
  if (fb.i16(schema, 0) !== 0) notFast('big-endian');
  const fields = fb.tables(schema, 1).map((f) => {
    const name = fb.string(f, 0);
    if (name === null) return notFast('field without a name');
    return { name, type: fieldType(fb, f, 0) };
  });
  const metadata: [string, string][] = [];
  for (const kv of fb.tables(schema, 2)) {
    const key = fb.string(kv, 0);
    const value = fb.string(kv, 1);
    if (key === null) continue; // apache-arrow skips entries without a key
    if (value === null) notFast('metadata entry without a value');
    metadata.push([key, value!]);
  }
  return { fields, metadata };
}

/** The Message flatbuffer at bytes[pos, pos+len): its header type, header table and body length. */
function readMessage(bytes: Uint8Array, pos: number, len: number): { fb: Flat; type: number; header: number; bodyLength: number } {
  const fb = new Flat(bytes, pos, pos + len);
  const m = fb.root();
  if (fb.i16(m, 0) < V4) notFast('metadata version before V4');
  const header = fb.child(m, 2);
  if (header === null) notFast('message without a header');
  return { fb, type: fb.u8(m, 1), header: header!, bodyLength: fb.i64(m, 3) };
}

/** A record batch message's nodes and buffers, the buffers decompressed. */
function readBatch(fb: Flat, rb: number, bytes: Uint8Array, bodyStart: number, bodyLength: number): RawBatch {
  if (bodyStart + bodyLength > bytes.length) notFast('body past the end');
  const nodesV = fb.vector(rb, 1, 16);
  const buffersV = fb.vector(rb, 2, 16);
  const nodes: FieldNode[] = [];
  for (let k = 0; nodesV && k < nodesV.len; k++) nodes.push({ length: fb.count(nodesV.pos + 16 * k), nullCount: fb.count(nodesV.pos + 16 * k + 8) });
  const compression = fb.child(rb, 3);
  const codec = compression === null ? -1 : fb.u8(compression, 0);
  if (codec > 1) notFast(`compression codec ${codec}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const buffers: Uint8Array[] = [];
  for (let k = 0; buffersV && k < buffersV.len; k++) {
    const offset = fb.count(buffersV.pos + 16 * k);
    const length = fb.count(buffersV.pos + 16 * k + 8);
    if (offset + length > bodyLength) notFast('buffer past the body');
    const raw = bytes.subarray(bodyStart + offset, bodyStart + offset + length);
    if (codec < 0 || length === 0) {
      buffers.push(raw);
      continue;
    }
    if (length < 8) notFast('compressed buffer without its length');
    const at = bodyStart + offset;
    const rest = raw.subarray(8);
    // int64 uncompressed length; -1: stored as is. apache-arrow refuses one beyond 2^53.
    const hi = dv.getInt32(at + 4, true);
    if (hi >= 0x200000 || hi < -0x200000) notFast('uncompressed length out of range');
    const stored = dv.getInt32(at, true) === -1 && hi === -1;
    buffers.push(stored ? rest : codec === 0 ? decodeLz4Frame(rest) : decodeZstd(rest));
  }
  return { length: fb.i64(rb, 0), nodes, buffers };
}

/** The IPC stream's message at `pos` (after its length prefix), or null at end-of-stream. */
function streamMessage(bytes: Uint8Array, pos: number): { start: number; len: number } | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (pos + 4 > bytes.length) notFast('stream ends early');
  let len = dv.getInt32(pos, true);
  pos += 4;
  if (len === -1) {
    if (pos + 4 > bytes.length) notFast('stream ends early');
    len = dv.getInt32(pos, true);
    pos += 4;
  }
  if (len === 0) return null;
  if (len < 0 || pos + len > bytes.length) notFast('bad message length');
  return { start: pos, len };
}

function readStream(bytes: Uint8Array): FastIpc {
  const first = streamMessage(bytes, 0);
  if (!first) return notFast('no schema');
  const s = readMessage(bytes, first.start, first.len);
  if (s.type !== HEADER_SCHEMA || s.bodyLength !== 0) notFast('stream does not start with a bare schema');
  const out: FastIpc = { ...readSchema(s.fb, s.header), batches: [] };
  let pos = first.start + first.len;
  for (let msg = streamMessage(bytes, pos); msg; msg = streamMessage(bytes, pos)) {
    const m = readMessage(bytes, msg.start, msg.len);
    if (m.type !== HEADER_RECORD_BATCH) notFast(`message of type ${m.type} in the stream`);
    const bodyStart = msg.start + msg.len;
    out.batches.push(readBatch(m.fb, m.header, bytes, bodyStart, m.bodyLength));
    pos = bodyStart + m.bodyLength;
  }
  return out;
}

function readFile(bytes: Uint8Array): FastIpc {
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footerLen = dv.getInt32(n - 10, true);
  const fb = new Flat(bytes, n - 10 - footerLen, n - 10);
  const footer = fb.root();
  if (fb.i16(footer, 0) < V4) notFast('metadata version before V4');
  const schema = fb.child(footer, 1);
  if (schema === null) return notFast('footer without a schema');
  if ((fb.vector(footer, 2, 24)?.len ?? 0) > 0) notFast('dictionary batches');
  const out: FastIpc = { ...readSchema(fb, schema), batches: [] };
  const blocks = fb.vector(footer, 3, 24);
  for (let k = 0; blocks && k < blocks.len; k++) {
    const offset = fb.count(blocks.pos + 24 * k);
    if (offset >= n) notFast('block past the end');
    const msg = streamMessage(bytes, offset);
    if (!msg) return notFast('empty block');
    const m = readMessage(bytes, msg.start, msg.len);
    if (m.type !== HEADER_RECORD_BATCH) notFast('block is not a record batch');
    out.batches.push(readBatch(m.fb, m.header, bytes, msg.start + msg.len, m.bodyLength));
  }
  return out;
}

/** The schema and batches of a complete, checked IPC file or stream; throws NotFast (or LimitError). */
export function readFastIpc(bytes: Uint8Array, format: 'file' | 'stream'): FastIpc {
  return format === 'file' ? readFile(bytes) : readStream(bytes);
}
