/**
 * Which of two scans is newer (docs/scan-format.md § Ordering): the later scan time, and for the
 * same time the higher scan number. Time comes first so that a scanner that restarts its
 * numbering is followed from its first new scan; the number only breaks ties.
 */
export interface ScanOrderKey {
  /** Scan time, epoch ms. */
  timestampMs: number;
  scanNumber: number;
}

/** The order key of a decoded scan. */
export function scanOrderOf(scan: ScanOrderKey): ScanOrderKey {
  return { timestampMs: scan.timestampMs, scanNumber: scan.scanNumber };
}

/** Negative when `a` is older than `b`, positive when newer, 0 for the same place in the order. */
export function compareScans(a: ScanOrderKey, b: ScanOrderKey): number {
  return a.timestampMs - b.timestampMs || a.scanNumber - b.scanNumber;
}

/** Whether `a` comes strictly after `b`; anything comes after nothing. */
export function isNewerScan(a: ScanOrderKey, b: ScanOrderKey | null | undefined): boolean {
  return !b || compareScans(a, b) > 0;
}

/**
 * Like {@link compareScans}, for a scan known only by its file name, whose time has whole seconds:
 * the other scan's time is cut to the second before comparing, so a file of the same second
 * as a stored scan is ordered by number, not taken for older.
 */
export function compareToFileName(file: ScanOrderKey, other: ScanOrderKey): number {
  const otherSecond = Math.floor(other.timestampMs / 1000) * 1000;
  return file.timestampMs - otherSecond || file.scanNumber - other.scanNumber;
}

/** `#<n> of <ISO time>`, for log lines where the number alone no longer says which is newer. */
export function describeScan(k: ScanOrderKey): string {
  return Number.isFinite(k.timestampMs) ? `#${k.scanNumber} of ${new Date(k.timestampMs).toISOString()}` : `#${k.scanNumber} without a time`;
}
