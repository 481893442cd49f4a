/**
 * How many bytes of JS values converting rows of an Arrow column would build, estimated from
 * lengths and offsets alone, before any value is built. A file within MAX_SCAN_BYTES of
 * buffers can still ask for far more as JS values (a list of 100 million int8 becomes 100
 * million numbers in an array), so the decoder claims this estimate from the budget first.
 *
 * Deliberately on the high side: a slot in an array or an object costs 8 bytes, a number or
 * other small value 16 more, a string 2 bytes a UTF-8 byte (JS strings may be two-byte).
 */
import { Type, type Data } from 'apache-arrow';

const SLOT = 8;
const SMALL = 16;

function offsetAt(offsets: Int32Array | BigInt64Array, i: number): number {
  return Number(offsets[i] ?? 0);
}

/** Estimated bytes of the JS values of rows [from, to) of `data`, nested values included. */
export function valueCost(data: Data, from = 0, to = data.length): number {
  const n = Math.max(0, to - from);
  if (n === 0) return 0;
  const offsets = data.valueOffsets as Int32Array | BigInt64Array | undefined;
  const span = () => (offsets ? Math.max(0, offsetAt(offsets, to) - offsetAt(offsets, from)) : 0);
  switch (data.typeId) {
    case Type.Null:
      return n * SLOT;
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      return n * (SLOT + SMALL) + span() * 2;
    case Type.FixedSizeBinary:
      return n * (SLOT + SMALL + data.stride * 2);
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const child = data.children[0];
      const a = offsets ? offsetAt(offsets, from) : 0;
      return n * (SLOT + SMALL) + (child ? valueCost(child, a, a + span()) : 0);
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      const size = (data.type as unknown as { listSize: number }).listSize;
      return n * (SLOT + SMALL) + (child ? valueCost(child, from * size, to * size) : 0);
    }
    case Type.Struct:
    case Type.SparseUnion:
    case Type.DenseUnion:
    case Type.Union: {
      let sum = n * (SLOT + SMALL);
      for (const c of data.children) sum += n * SLOT + valueCost(c, Math.min(from, c.length), Math.min(to, c.length));
      return sum;
    }
    case Type.Dictionary: {
      // Each dictionary entry is decoded once and shared by the rows that use it.
      let sum = n * SLOT;
      for (const d of (data.dictionary?.data ?? []) as Data[]) sum += valueCost(d);
      return sum;
    }
    default:
      return n * (SLOT + SMALL);
  }
}
