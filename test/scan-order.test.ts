import { describe, expect, it } from 'vitest';
import { compareScans, compareToFileName, isNewerScan, storedScanKey } from '../src/bridge/scan-order.js';
import { clockSkewOf } from '../src/bridge/clock-skew.js';

const T = Date.UTC(2026, 10, 28, 12, 0, 0);

describe('scan order: time first, then number', () => {
  it('puts a restarted scanner’s #1 after the old #110', () => {
    expect(isNewerScan({ scanNumber: 1, timestampMs: T + 5000 }, { scanNumber: 110, timestampMs: T })).toBe(true);
    expect(isNewerScan({ scanNumber: 105, timestampMs: T - 5000 }, { scanNumber: 3, timestampMs: T + 15000 })).toBe(false);
  });

  it('orders scans of the same time by number, and a scan is not newer than itself', () => {
    expect(compareScans({ scanNumber: 8, timestampMs: T }, { scanNumber: 7, timestampMs: T })).toBeGreaterThan(0);
    expect(isNewerScan({ scanNumber: 7, timestampMs: T }, { scanNumber: 7, timestampMs: T })).toBe(false);
    expect(isNewerScan({ scanNumber: 7, timestampMs: T }, null)).toBe(true);
  });

  it('compares a file name’s whole seconds with a stored scan’s milliseconds', () => {
    const stored = { scanNumber: 5, timestampMs: T + 400 };
    expect(compareToFileName({ scanNumber: 5, timestampMs: T }, stored)).toBe(0);
    expect(compareToFileName({ scanNumber: 6, timestampMs: T }, stored)).toBeGreaterThan(0);
    expect(compareToFileName({ scanNumber: 1, timestampMs: T + 1000 }, stored)).toBeGreaterThan(0);
    expect(compareToFileName({ scanNumber: 9, timestampMs: T - 1000 }, stored)).toBeLessThan(0);
  });

  it('reads the order of a stored payload, ours or any JSON', () => {
    expect(storedScanKey(`{"scan_number":42,"timestamp":"x","timestamp_ms":${T},"written_at_ms":1}`)).toEqual({ scanNumber: 42, timestampMs: T });
    expect(storedScanKey(`{"timestamp_ms":${T},"scan_number":"43"}`)).toEqual({ scanNumber: 43, timestampMs: T });
    expect(storedScanKey('{"scan_number":44}')).toEqual({ scanNumber: 44, timestampMs: -Infinity });
    expect(storedScanKey('not json')).toBeNull();
    expect(storedScanKey('{"x":1}')).toBeNull();
  });
});

describe('clock skew', () => {
  const at = { nowMs: T, mtimeMs: T, maxSkewS: 300 };
  it('refuses a scan stamped more than the limit ahead of the clock', () => {
    expect(clockSkewOf(T + 86_400_000, at)).toEqual({ kind: 'ahead', skewS: 86400 });
    expect(clockSkewOf(T + 299_000, at)).toBeNull();
  });

  it('refuses a scan stamped more than the limit before its file was written', () => {
    expect(clockSkewOf(Date.UTC(2000, 0, 1), at)).toMatchObject({ kind: 'before_mtime' });
    expect(clockSkewOf(T - 299_000, at)).toBeNull();
    // An old file (backlog, catch-up) is fine: its mtime is old too.
    expect(clockSkewOf(T - 86_400_000, { ...at, mtimeMs: T - 86_400_000 + 1000 })).toBeNull();
    expect(clockSkewOf(Date.UTC(2000, 0, 1), { ...at, mtimeMs: null })).toBeNull();
  });
});
