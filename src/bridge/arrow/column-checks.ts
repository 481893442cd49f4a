/**
 * Column buffer checks, after apache-arrow has parsed a complete file: a corrupted (but
 * complete-looking) file can claim millions of rows or list items with no buffers behind them;
 * reading that would build huge arrays of garbage instead of failing.
 */
import { Type, type Data, type RecordBatch } from 'apache-arrow';
import { offsetAt, props } from './arrow-data.js';

/** Throws `corrupt column <name>: ...` when a non-empty batch does not match the schema or a column's buffers cannot hold it. */
export function checkBatches(batches: RecordBatch[], names: string[]): void {
  for (const batch of batches) {
    if (batch.numRows === 0) continue;
    const cols = batch.data.children;
    if (cols.length !== names.length) throw new Error('record batch does not match the schema');
    for (let k = 0; k < cols.length; k++) {
      if (cols[k]!.length < batch.numRows) throw new Error(`corrupt column ${names[k]}: shorter than the batch`);
      checkData(cols[k]!, names[k]!);
    }
  }
}

/** Checks that a Data chunk's buffers can hold what its length and offsets claim, recursively. */
function checkData(data: Data, path: string): void {
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
      for (const d of (data.dictionary?.data ?? []) as Data[]) checkData(d, `${path}<dictionary>`);
      return;
    default:
      return;
  }
}
