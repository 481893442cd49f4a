/**
 * The clock-skew guard (docs/scan-format.md § Ordering): with scans ordered by time, one scan
 * stamped far in the future would hold `latest_eigen_scan` until the clock caught up, and one
 * stamped long before its file was written would look like a scanner gone silent. Both are
 * refused and reported instead.
 */
export interface ClockSkew {
  /** `ahead`: stamped after the bridge's clock; `before_mtime`: stamped before its file was written. */
  kind: 'ahead' | 'before_mtime';
  /** How far off, seconds (positive). */
  skewS: number;
}

/** The last scan a bridge refused for its time stamp, as its stats report it. */
export interface RefusedForSkew extends ClockSkew {
  relPath: string;
  scanNumber: number;
  /** Epoch ms of the refusal. */
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
