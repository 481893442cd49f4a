/**
 * Arrow IPC structure and completeness: which layout the bytes are (file or stream), and whether
 * the writer has finished them. Writers are not atomic, so completeness is checked structurally
 * before parsing: a file needs its trailing `ARROW1` magic (and a sane footer length), a stream
 * needs every message to be whole up to the end-of-stream marker. Prefixes of valid files are
 * always `incomplete` (apache-arrow alone reads 0-byte files and some truncations as empty tables,
 * no error). With `deep`, the metadata of a complete file is bounds-checked too
 * (flatbuffer-checks.ts). Contract: docs/scan-format.md.
 */
import { coerceError } from '../../errors.js';
import { startsWith, view } from './bytes.js';
import { checkFile, checkMessage } from './flatbuffer-checks.js';

type ByteKind = 'file' | 'stream' | 'empty' | 'unknown';

type Structure = { state: 'complete' } | { state: 'incomplete'; reason: string } | { state: 'broken'; reason: string };

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const MAGIC_PADDED = [...MAGIC, 0, 0];
const MAX_METADATA_LENGTH = 1 << 26; // 64 MiB of flatbuffer metadata is far beyond any real schema

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
        return { state: 'broken', reason: `IPC message ${index}: ${coerceError(e).message}` };
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
    return startsWith(MAGIC_PADDED, bytes) ? { state: 'incomplete', reason: `only ${n} bytes` } : { state: 'broken', reason: 'not an Arrow IPC file' };
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
      return { state: 'broken', reason: coerceError(e).message };
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

/** The structure of bytes already classified as `file` or `stream`, metadata bounds-checked. */
export function checkedStructure(bytes: Uint8Array, kind: 'file' | 'stream'): Structure {
  return kind === 'file' ? fileStructure(bytes, true) : streamStructure(bytes, true);
}

/** Why bytes that are not Arrow were refused, with a hint of what they look like. */
export function describeUnknown(bytes: Uint8Array): string {
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
