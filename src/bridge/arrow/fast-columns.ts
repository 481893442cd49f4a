/**
 * The fast decoder's columns (see fast-scan.ts): one record batch's column, laid over its raw
 * buffers (fast-ipc.ts), checked as column-checks.ts checks apache-arrow's (buffers long
 * enough, offsets increasing and in range) and written straight to JSON text by the rules of
 * json-values.ts, as cells.ts + JSON.stringify would write it, byte for byte. Anything it does
 * not accept throws NotFast, and apache-arrow gets the file.
 */
import { notFast } from './fast-flatbuffer.js';
import type { FastType, RawBatch } from './fast-ipc.js';
import { isoMs, timestampToMs, utf8 } from './json-values.js';

export interface FastColumn {
  /** Rows (items) this column chunk holds. */
  length: number;
  /** The JSON text of row i (`null` for a null row). */
  text(i: number): string;
  /** Items of row i when it is a valid list row, else -1. */
  listLength(i: number): number;
  /** The bytes of JS values rows [from, to) would build: the estimate of decode/value-cost.ts. */
  cost(from: number, to: number): number;
  /** Rows [s, e) as a JSON array: a list's items. */
  array(s: number, e: number): string;
}

const SLOT = 8;
const SMALL = 16;

/** Reads the columns of `batch` for `types`, in IPC order; checks every buffer. */
export function batchColumns(batch: RawBatch, types: FastType[]): FastColumn[] {
  const cursor = { batch, node: 0, buffer: 0 };
  const cols = types.map((t) => column(t, cursor));
  if (cursor.node !== batch.nodes.length || cursor.buffer !== batch.buffers.length) notFast('nodes or buffers left over');
  return cols;
}

type Cursor = { batch: RawBatch; node: number; buffer: number };

function nextBuffer(c: Cursor): Uint8Array {
  const b = c.batch.buffers[c.buffer++];
  return b ?? notFast('missing buffer');
}

/** A typed array over `buf` of at least `count` items. */
function typed<T>(Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }, buf: Uint8Array, count: number): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (buf.byteOffset % size !== 0) notFast('misaligned buffer');
  if (buf.byteLength < count * size) notFast('values buffer too short');
  return new Ctor(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / size));
}

/** Offsets [0, length] as numbers, checked: non-negative, increasing, last <= limit. */
function offsets(buf: Uint8Array, length: number, large: boolean, limit: number): Int32Array | Float64Array {
  if (!large) {
    const o = typed(Int32Array, buf, length + 1);
    if (o[0]! < 0) notFast('negative offset');
    for (let i = 1; i <= length; i++) if (o[i]! < o[i - 1]!) notFast('offsets not increasing');
    if (o[length]! > limit) notFast('offsets past the end');
    return o;
  }
  const w = typed(Int32Array, buf, 2 * (length + 1));
  const o = new Float64Array(length + 1);
  for (let i = 0; i <= length; i++) {
    if (w[2 * i + 1] !== 0 || w[2 * i]! < 0) notFast('large offset out of range');
    o[i] = w[2 * i]!;
    if (i > 0 && o[i]! < o[i - 1]!) notFast('offsets not increasing');
  }
  if (o[length]! > limit) notFast('offsets past the end');
  return o;
}

const isSafeAscii = (c: number) => c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;

/** UTF-8 bytes [s, e) as a JSON string literal, as JSON.stringify writes the decoded string. */
export function jsonString(bytes: Uint8Array, s: number, e: number): string {
  if (e - s <= 64) {
    let out = '"';
    for (let k = s; k < e; k++) {
      const c = bytes[k]!;
      if (!isSafeAscii(c)) return JSON.stringify(utf8(bytes, s, e));
      out += String.fromCharCode(c);
    }
    return out + '"';
  }
  return JSON.stringify(utf8(bytes, s, e));
}

const floatText = (v: number): string => (v !== v || v === Infinity || v === -Infinity ? 'null' : '' + v);

const TWO32 = 0x100000000;

/** int64 (lo, hi words) → JSON: a number within ±(2^53−1), else the decimal string. */
function int64Text(lo: number, hi: number, signed: boolean): string {
  if (signed ? hi >= -0x200000 && hi < 0x200000 : hi >>> 0 < 0x200000) {
    const v = (signed ? hi : hi >>> 0) * TWO32 + (lo >>> 0);
    if (v !== -9007199254740992) return '' + v;
  }
  const big = (BigInt(signed ? hi : hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return `"${big.toString()}"`;
}

function make(
  length: number,
  text: (i: number) => string,
  listLength: (i: number) => number,
  cost: (from: number, to: number) => number,
  array?: (s: number, e: number) => string,
): FastColumn {
  const joined = (s: number, e: number) => {
    const parts = new Array<string>(e - s);
    for (let j = s; j < e; j++) parts[j - s] = text(j);
    return `[${parts.join(',')}]`;
  };
  return { length, text, listLength, cost, array: array ?? joined };
}

const noList = () => -1;

/**
 * A typed array's items [s, e) as a JSON array, nulls where the bitmap says so. JSON.stringify
 * formats a JS array of numbers faster than number-to-string one by one, and writes NaN and
 * ±Infinity as null, as the JSON value rules want.
 */
function floatArray(arr: Float64Array | Float32Array, valid: Uint8Array | null, s: number, e: number): string {
  const out = new Array<number | null>(e - s);
  for (let j = s; j < e; j++) out[j - s] = valid !== null && (valid[j >> 3]! & (1 << (j & 7))) === 0 ? null : arr[j]!;
  return JSON.stringify(out);
}

/** True when every byte is printable ASCII that JSON writes as itself (no quote, backslash or control). */
function allSafeAscii(bytes: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (!isSafeAscii(bytes[k]!)) return false;
  return true;
}

function column(type: FastType, c: Cursor): FastColumn {
  const node = c.batch.nodes[c.node++] ?? notFast('missing field node');
  const { length, nullCount } = node;
  if (type.t === 'null')
    return make(
      length,
      () => 'null',
      noList,
      (a, b) => Math.max(0, b - a) * SLOT,
    );
  const validity = nextBuffer(c);
  let valid: Uint8Array | null = null;
  if (nullCount > 0) {
    if (validity.length === 0 || validity.length * 8 < length) notFast('validity bitmap missing or short');
    valid = validity;
  }
  const isNull = (i: number) => valid !== null && (valid[i >> 3]! & (1 << (i & 7))) === 0;
  const flat = (a: number, b: number) => Math.max(0, b - a) * (SLOT + SMALL);
  const orNull = (read: (i: number) => string) => (valid ? (i: number) => (isNull(i) ? 'null' : read(i)) : read);
  switch (type.t) {
    case 'int': {
      const buf = nextBuffer(c);
      if (type.bits === 64) {
        const w = typed(Int32Array, buf, 2 * length);
        return make(
          length,
          orNull((i) => int64Text(w[2 * i]!, w[2 * i + 1]!, type.signed)),
          noList,
          flat,
        );
      }
      const Ctor =
        type.bits === 8
          ? type.signed
            ? Int8Array
            : Uint8Array
          : type.bits === 16
            ? type.signed
              ? Int16Array
              : Uint16Array
            : type.signed
              ? Int32Array
              : Uint32Array;
      const arr = typed(Ctor as typeof Int32Array, buf, length);
      return make(
        length,
        orNull((i) => '' + arr[i]!),
        noList,
        flat,
      );
    }
    case 'float': {
      const arr = type.bits === 64 ? typed(Float64Array, nextBuffer(c), length) : typed(Float32Array, nextBuffer(c), length);
      return make(
        length,
        orNull((i) => floatText(arr[i]!)),
        noList,
        flat,
        (s, e) => floatArray(arr, valid, s, e),
      );
    }
    case 'bool': {
      const bits = nextBuffer(c);
      if (bits.length * 8 < length) notFast('values buffer too short');
      return make(
        length,
        orNull((i) => ((bits[i >> 3]! & (1 << (i & 7))) !== 0 ? 'true' : 'false')),
        noList,
        flat,
      );
    }
    case 'timestamp': {
      const w = typed(Int32Array, nextBuffer(c), 2 * length);
      const unit = type.unit;
      const read = (i: number) => {
        const v = (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]! >>> 0);
        const iso = isoMs(timestampToMs(v, unit));
        return iso === null ? 'null' : `"${iso}"`;
      };
      return make(length, orNull(read), noList, flat);
    }
    case 'utf8': {
      const offBuf = nextBuffer(c);
      const data = nextBuffer(c);
      const o = offsets(offBuf, length, type.large, data.length);
      // All plain ASCII (symbols): decoded once, each value a slice of it.
      const ascii = allSafeAscii(data, o[0]!, o[length]!) ? utf8(data, 0, o[length]!) : null;
      const read = ascii !== null ? (i: number) => `"${ascii.slice(o[i], o[i + 1])}"` : (i: number) => jsonString(data, o[i]!, o[i + 1]!);
      const cost = (a: number, b: number) => flat(a, b) + Math.max(0, o[b]! - o[a]!) * 2;
      if (ascii === null || valid !== null) return make(length, orNull(read), noList, cost);
      const array = (s: number, e: number) => {
        if (s === e) return '[]';
        const parts = new Array<string>(e - s);
        for (let j = s; j < e; j++) parts[j - s] = ascii.slice(o[j], o[j + 1]);
        return `["${parts.join('","')}"]`;
      };
      return make(length, read, noList, cost, array);
    }
    case 'list': {
      const offBuf = nextBuffer(c);
      const child = column(type.child, c);
      const o = offsets(offBuf, length, type.large, child.length);
      return make(
        length,
        orNull((i) => child.array(o[i]!, o[i + 1]!)),
        (i) => (isNull(i) ? -1 : o[i + 1]! - o[i]!),
        (a, b) => flat(a, b) + child.cost(o[a]!, o[a]! + Math.max(0, o[b]! - o[a]!)),
      );
    }
  }
}
