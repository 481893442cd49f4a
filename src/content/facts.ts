/**
 * A scan's content facts (issue 25), computed in the decode worker from what the decoder built
 * anyway, so both decoders give the same facts for the same file:
 * - `values`: a fingerprint of the payload body, the JSON text of every value but the bridge's
 *   fields (number, times, asset count, file, bridge): the two decoders write it byte for byte
 *   alike, so equal fingerprints mean equal values;
 * - `schema`: a fingerprint of the columns' names and types (see {@link fastTypeName} and
 *   {@link arrowTypeName}, which name a type the same way whichever decoder read it);
 * - `nullShare`: for each numeric column (integers, floats, lists of them), the share of its
 *   values that are null, NaN or infinite (all `null` in the payload), when above 0.
 */
import { hash } from 'node:crypto';
import { DataType, Type, type Field } from 'apache-arrow';
import type { FastType } from '../bridge/arrow/fast-ipc.js';
import { BRIDGE_FIELDS } from '../bridge/hazelcast/payload.js';

export interface ScanContent {
  /** Fingerprint of every value but the scan's number and times (16 hex digits). */
  values: string;
  /** Fingerprint of the column names and types, in order (16 hex digits). */
  schema: string;
  /** `name: type` of each column, in file order. */
  columns: string[];
  /** Numeric columns with null or NaN values: their share of the column's values, 0 to 1, 3 decimals. */
  nullShare: Record<string, number>;
}

const TIME_UNITS = ['s', 'ms', 'us', 'ns'];
const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);
const NUMERIC = /^(?:large_)?(?:list<)?u?(?:int|float)\d+>?$/;

/** The type's name as the fast decoder sees it (fast-ipc.ts). */
export function fastTypeName(t: FastType): string {
  switch (t.t) {
    case 'null':
      return 'null';
    case 'int':
      return `${t.signed ? 'int' : 'uint'}${t.bits}`;
    case 'float':
      return `float${t.bits}`;
    case 'bool':
      return 'bool';
    case 'utf8':
      return t.large ? 'large_utf8' : 'utf8';
    case 'timestamp':
      return `timestamp[${TIME_UNITS[t.unit] ?? t.unit}]`;
    case 'list':
      return `${t.large ? 'large_list' : 'list'}<${fastTypeName(t.child)}>`;
  }
}

/** The same names for apache-arrow's types; a dictionary is named by its values (an encoding is not a type). */
export function arrowTypeName(t: DataType): string {
  if (DataType.isDictionary(t)) return arrowTypeName(t.dictionary as DataType);
  if (DataType.isNull(t)) return 'null';
  if (DataType.isInt(t)) return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
  if (DataType.isFloat(t)) return `float${[16, 32, 64][t.precision] ?? t.precision}`;
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isUtf8(t)) return 'utf8';
  if (DataType.isLargeUtf8(t)) return 'large_utf8';
  if (DataType.isTimestamp(t)) return `timestamp[${TIME_UNITS[t.unit] ?? t.unit}]`;
  if (DataType.isList(t) || DataType.isLargeList(t)) {
    const child = (t.children[0] as Field<DataType> | undefined)?.type;
    return `${DataType.isList(t) ? 'list' : 'large_list'}<${child ? arrowTypeName(child) : '?'}>`;
  }
  // Types only apache-arrow reads (structs, decimals, ...): named by their kind.
  return String(Type[t.typeId]).toLowerCase();
}

/** Whether a column of this type (a name from above) gets a null share. */
export function isNumericType(typeName: string): boolean {
  return NUMERIC.test(typeName);
}

/** Columns counted for null shares: numeric, and not a bridge field (the number and times are not content). */
export function countsNulls(name: string, typeName: string): boolean {
  return isNumericType(typeName) && !BRIDGE_FIELD_SET.has(name);
}

/** Null and total value counts of one column, added up as the decoder goes. */
export type NullCount = { nulls: number; values: number };

/**
 * Counts of one wide-layout cell, from its JSON text: a scalar counts once; a list counts its
 * items (`items`, -1 for a null list, which counts as one missing value) and the nulls among
 * them. Numbers in JSON text never contain an `n`, so each `n` is a `null`.
 */
export function countCellText(text: string, items: number, into: NullCount): void {
  if (items < 0) {
    into.values++;
    if (text === 'null') into.nulls++;
    return;
  }
  into.values += items;
  for (let at = text.indexOf('n'); at >= 0; at = text.indexOf('n', at + 1)) into.nulls++;
}

/** The same counts from a JS value as apache-arrow's path builds it (cells.ts: NaN is null). */
export function countCellValue(value: unknown, into: NullCount): void {
  if (!Array.isArray(value)) {
    into.values++;
    if (value === null) into.nulls++;
    return;
  }
  into.values += value.length;
  for (const v of value) if (v === null) into.nulls++;
}

/** SHA-1, one shot (native, and hardware-assisted where the CPU has it): equal values, equal fingerprints. */
function fingerprint(text: string): string {
  return hash('sha1', text, 'hex').slice(0, 16);
}

/**
 * The facts, from the payload body's JSON text, the columns' names and type names, and the null
 * counts of the numeric ones (`null` for the others), by column index.
 */
export function countedContent(body: string, names: string[], typeNames: string[], counted: (NullCount | null)[]): ScanContent {
  const columns = names.map((n, k) => `${n}: ${typeNames[k]}`);
  // No prototype: a column may be called `__proto__`.
  const nullShare = Object.create(null) as Record<string, number>;
  counted.forEach((c, k) => {
    if (c && c.nulls > 0) nullShare[names[k]!] = c.values === 0 ? 1 : Math.round((c.nulls / c.values) * 1000) / 1000;
  });
  return { values: fingerprint(body), schema: fingerprint(columns.join('\n')), columns, nullShare };
}

/** The facts of a scan apache-arrow read (read-scan.ts), from its JS values; the fast decoder counts from its text. */
export function arrowContent(text: string, fields: Field[], layout: 'wide' | 'long', body: Record<string, unknown>): ScanContent {
  const names = fields.map((f) => f.name);
  const typeNames = fields.map((f) => arrowTypeName(f.type as DataType));
  const counted = typeNames.map((t, k) => (countsNulls(names[k]!, t) ? { nulls: 0, values: 0 } : null));
  const rows = layout === 'wide' ? [body] : (body.rows as Record<string, unknown>[]);
  for (const row of rows) counted.forEach((c, k) => c && countCellValue(row[names[k]!], c));
  return countedContent(text, names, typeNames, counted);
}
