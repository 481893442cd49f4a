/**
 * The fast decoder's refusal (NotFast) and its bounds-checked reads of the flatbuffer tables of
 * Arrow IPC metadata (fast-ipc.ts): a reference outside the metadata throws NotFast.
 */
import { utf8 } from './json-values.js';

/** The file is fine for apache-arrow to judge, just not for the fast decoder. */
export class NotFast extends Error {}

export const notFast = (what: string): never => {
  throw new NotFast(what);
};

/** Bounds-checked reads of the flatbuffer tables in bytes[start, end). */
export class Flat {
  private readonly dv: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(pos: number, size: number): void {
    if (pos < this.start || pos + size > this.end) notFast('metadata reference out of bounds');
  }
  root(): number {
    this.need(this.start, 4);
    return this.table(this.start + this.dv.getUint32(this.start, true));
  }
  private table(pos: number): number {
    this.need(pos, 4);
    const vt = pos - this.dv.getInt32(pos, true);
    this.need(vt, 4);
    const size = this.dv.getUint16(vt, true);
    if (size < 4 || size % 2 !== 0) notFast('bad vtable');
    this.need(vt, size);
    return pos;
  }
  /** Position of field `id` of the table, 0 when absent. */
  private at(tbl: number, id: number, size: number): number {
    const vt = tbl - this.dv.getInt32(tbl, true);
    const o = 4 + 2 * id;
    const rel = o + 2 <= this.dv.getUint16(vt, true) ? this.dv.getUint16(vt + o, true) : 0;
    if (rel) this.need(tbl + rel, size);
    return rel ? tbl + rel : 0;
  }
  u8(tbl: number, id: number, dflt = 0): number {
    const p = this.at(tbl, id, 1);
    return p ? this.dv.getUint8(p) : dflt;
  }
  i16(tbl: number, id: number, dflt = 0): number {
    const p = this.at(tbl, id, 2);
    return p ? this.dv.getInt16(p, true) : dflt;
  }
  i32(tbl: number, id: number, dflt = 0): number {
    const p = this.at(tbl, id, 4);
    return p ? this.dv.getInt32(p, true) : dflt;
  }
  /** A non-negative int64 that fits a double exactly. */
  count(pos: number): number {
    this.need(pos, 8);
    const lo = this.dv.getUint32(pos, true);
    const hi = this.dv.getInt32(pos + 4, true);
    if (hi < 0 || hi >= 0x200000) notFast('64-bit length out of range');
    return hi * 0x100000000 + lo;
  }
  i64(tbl: number, id: number): number {
    const p = this.at(tbl, id, 8);
    return p ? this.count(p) : 0;
  }
  child(tbl: number, id: number): number | null {
    const p = this.at(tbl, id, 4);
    return p ? this.table(p + this.dv.getUint32(p, true)) : null;
  }
  /** Start and length of a vector of `elem`-byte items; null when absent. */
  vector(tbl: number, id: number, elem: number): { pos: number; len: number } | null {
    const p = this.at(tbl, id, 4);
    if (!p) return null;
    const v = p + this.dv.getUint32(p, true);
    this.need(v, 4);
    const len = this.dv.getUint32(v, true);
    if (len * elem > this.end - v - 4) notFast('vector does not fit');
    return { pos: v + 4, len };
  }
  tables(tbl: number, id: number): number[] {
    const v = this.vector(tbl, id, 4);
    const out: number[] = [];
    if (v) for (let k = 0; k < v.len; k++) out.push(this.table(v.pos + 4 * k + this.dv.getUint32(v.pos + 4 * k, true)));
    return out;
  }
  string(tbl: number, id: number): string | null {
    const v = this.vector(tbl, id, 1);
    return v ? utf8(this.bytes, v.pos, v.pos + v.len) : null;
  }
}
