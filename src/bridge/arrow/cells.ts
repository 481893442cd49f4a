/**
 * Cell readers: the one converter from Arrow column data to JSON-ready values. A reader is
 * compiled once per column chunk from its DataType and reads row i straight from the buffers,
 * applying the JSON value rules (json-values.ts) and honouring the validity bitmap at every level
 * (nulls inside lists stay null). Lists → arrays, structs → objects, maps → objects when the keys
 * are strings (else [key, value] pairs), dictionaries → the decoded value. Types without a
 * compiled reader (unions, intervals, views) go through arrow's own getter and a type-less
 * normaliser that still never lets a bigint, NaN, typed array or arrow object through.
 */
import { StructRow, TimeUnit, Type, Vector, type Data, makeVector, util as arrowUtil } from 'apache-arrow';
import { offsetAt, props } from './arrow-data.js';
import { base64, dateFromMs, decimalToString, floatToJson, int64ToJson, isoMs, setKey, timestampToMs, utf8 } from './json-values.js';

type CellReader = (i: number) => unknown;

/** `reader(i)` is the JSON-ready value of row i of this chunk, null where the row is null. */
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
    case Type.Map:
      return makeMapReader(data);
    default: {
      // Union, Interval, views, ...: arrow's own getter, then the type-less normaliser.
      const vec = makeVector(data);
      return (i) => generic(vec.get(i));
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
  const readers = chunks.map((c: Data) => makeCellReader(c));
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

const STRING_KEYS = new Set<Type>([Type.Utf8, Type.LargeUtf8, Type.Utf8View]);

/** map<k, v>: an object when the keys are strings, else an array of [key, value] pairs. */
function makeMapReader(data: Data): CellReader {
  const entries = data.children[0]!;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const keyType = entries.children[0]!.type;
  const stringKeys = STRING_KEYS.has(keyType.typeId) || (keyType.typeId === Type.Dictionary && STRING_KEYS.has(props(keyType).dictionary.typeId));
  const readKey = makeCellReader(entries.children[0]!);
  const readValue = makeCellReader(entries.children[1]!);
  return (i) => {
    const b = offsetAt(offsets, i);
    const e = offsetAt(offsets, i + 1);
    if (stringKeys) {
      const obj: Record<string, unknown> = {};
      for (let j = b; j < e; j++) setKey(obj, readKey(j) as string, readValue(j));
      return obj;
    }
    const out = new Array<unknown>(e - b);
    for (let j = b, k = 0; j < e; j++, k++) out[k] = [readKey(j), readValue(j)];
    return out;
  };
}

/** All values of a Vector (every chunk) as JSON-ready values. */
export function vectorToJson(vector: Vector): unknown[] {
  const out: unknown[] = [];
  for (const chunk of vector.data as Data[]) {
    const read = makeCellReader(chunk);
    for (let i = 0; i < chunk.length; i++) out.push(read(i));
  }
  return out;
}

/** Type-less fallback: still never lets a bigint, NaN, typed array or arrow object through. */
function generic(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'bigint':
      return int64ToJson(value);
    case 'number':
      return floatToJson(value);
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      break;
    default:
      return null;
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
  for (const [k, v] of Object.entries(value)) setKey(obj, k, generic(v));
  return obj;
}
