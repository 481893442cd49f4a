/**
 * Faults the demo scanner can produce on purpose, one per content rule (docs/scan-format.md
 * § Content checks), so that a user can watch each rule fire and clear.
 */
import { encodeScan, makeScan, type MakeScanOptions, type ScanRow } from './scan-writer.js';

export const DEMO_FAULTS = ['frozen', 'collapse', 'schema-change', 'nan-column'] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];

export interface FaultPlan {
  fault: DemoFault;
  /** Normal scans written before the fault starts. */
  after: number;
  /** Faulty scans written before the scans are normal again; `undefined`: until stopped. */
  for?: number | undefined;
}

/** The column the schema-change fault leaves out. */
export const DROPPED_COLUMN = 'vel_div';

/**
 * The row and bytes of the scan written as the run's scan `index` (0-based), with the planned
 * fault from scan `after` on: the values of the first faulty scan again (frozen), a fifth of the
 * assets (collapse), no `vel_div` column (schema-change), or every price NaN (nan-column).
 */
export function plannedScan(o: MakeScanOptions, index: number, plan: FaultPlan | undefined): { row: ScanRow; bytes?: Uint8Array } {
  const faulty = plan !== undefined && index >= plan.after && (plan.for === undefined || index < plan.after + plan.for);
  if (!faulty) return { row: makeScan(o) };
  switch (plan.fault) {
    case 'frozen': {
      // The values of the scan the fault began with, under this scan's number and time.
      const first = o.scanNumber - (index - plan.after);
      return { row: { ...makeScan({ ...o, scanNumber: first }), scan_number: o.scanNumber, timestamp: new Date(o.time.getTime()) } };
    }
    case 'collapse':
      return { row: makeScan({ ...o, assets: Math.max(1, Math.round(o.assets / 5)) }) };
    case 'schema-change': {
      const row = makeScan(o);
      return { row, bytes: encodeScan(row, 'file', [DROPPED_COLUMN]) };
    }
    case 'nan-column': {
      const row = makeScan(o);
      return { row: { ...row, prices: row.prices.map(() => NaN) } };
    }
  }
}
