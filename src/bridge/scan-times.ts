/**
 * Moments on the latest-scan path of one scan, in epoch milliseconds with sub-millisecond
 * precision, so that another process (the benchmark) can set them beside its own clock. They
 * cost a clock read each; the benchmark's per-stage breakdown is made of them.
 */
import { performance } from 'node:perf_hooks';

/** Epoch milliseconds, sub-millisecond precision (the same clock as Date.now()). */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export interface ScanTimes {
  /** The file event (or the listing) that led to the read that gave this scan. */
  event: number;
  /** The scan in hand: read, checked complete and decoded. */
  decoded: number;
  /** Its payload text built. */
  payload?: number;
  /** The compare-and-set on the latest key called, and answered. */
  latestSent?: number;
  latestAnswered?: number;
  /** Hazelcast calls the compare-and-set took: 1 in the usual case (store.ts). */
  calls?: number;
  /** Its history write called, and answered. */
  historySent?: number;
  historyAnswered?: number;
}
