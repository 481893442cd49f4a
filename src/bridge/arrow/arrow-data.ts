/** Typed access to the parts of apache-arrow's Data and DataType the checks and readers use. */
import type { DataType } from 'apache-arrow';

export function offsetAt(offsets: Int32Array | BigInt64Array, i: number): number {
  const o = offsets[i]!;
  return typeof o === 'bigint' ? Number(o) : o;
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

export function props(type: DataType): TypeProps {
  return type as unknown as TypeProps;
}
