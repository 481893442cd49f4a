/**
 * Bounds checks of the flatbuffer metadata of an Arrow IPC file or stream, before apache-arrow
 * parses it. Arrow trusts flatbuffer vector lengths, so one flipped byte in a schema can make it
 * build millions of fields (seconds of CPU, then out-of-memory): every table, vector and string
 * arrow will visit is checked to lie inside its message. Throws an Error naming what is wrong.
 */
import { view } from './bytes.js';

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
    if (v)
      for (let k = 0; k < v.len; k++) {
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
export function checkMessage(bytes: Uint8Array, start: number, len: number): void {
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

const MAGIC_LENGTH = 6;

/** Checks an IPC file's footer and every message its blocks point at. */
export function checkFile(bytes: Uint8Array): void {
  const n = bytes.length;
  const footerLen = view(bytes).getInt32(n - MAGIC_LENGTH - 4, true);
  const footerStart = n - MAGIC_LENGTH - 4 - footerLen;
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
