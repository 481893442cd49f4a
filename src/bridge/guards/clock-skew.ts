/**
 * The clock-skew guard (docs/scan-format.md § Ordering): with scans ordered by time, one scan
 * stamped far in the future would hold `latest_eigen_scan` until the clock caught up, so it is
 * refused and reported instead. One stamped long before its file was written (a copied or
 * restored folder, a file server's clock) cannot hold anything: it is delivered, and the skew
 * is reported as a fact.
 */
export interface ClockSkew {
  /** `ahead`: stamped after the bridge's clock; `before_mtime`: stamped before its file was written. */
  kind: 'ahead' | 'before_mtime';
  /** How far off, seconds (positive). */
  skewS: number;
}

/** The last scan a bridge refused for its time stamp (ahead of its clock), as its stats report it. */
export interface RefusedForSkew {
  kind: 'ahead';
  skewS: number;
  relPath: string;
  scanNumber: number;
  /** Epoch ms of the refusal. */
  at: number;
}

/** The last scan a bridge delivered although stamped more than MAX_CLOCK_SKEW_S before its file was written. */
export interface StampedBeforeWrite {
  relPath: string;
  scanNumber: number;
  skewS: number;
  /** Epoch ms of the delivery. */
  at: number;
}

/** The skew of a scan beyond `maxSkewS`, or null when it is within bounds. `mtimeMs` null: unknown. */
export function clockSkewOf(scanTimeMs: number, at: { nowMs: number; mtimeMs: number | null; maxSkewS: number }): ClockSkew | null {
  const limitMs = at.maxSkewS * 1000;
  if (scanTimeMs - at.nowMs > limitMs) return { kind: 'ahead', skewS: round1((scanTimeMs - at.nowMs) / 1000) };
  if (at.mtimeMs !== null && at.mtimeMs >= 0 && at.mtimeMs - scanTimeMs > limitMs) {
    return { kind: 'before_mtime', skewS: round1((at.mtimeMs - scanTimeMs) / 1000) };
  }
  return null;
}

/** One sentence: how the stamp is off. */
export function describeSkew(s: ClockSkew): string {
  return s.kind === 'ahead' ? `stamped ${s.skewS} s ahead of this machine's clock` : `stamped ${s.skewS} s before its file was written`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
