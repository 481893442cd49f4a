import { describe, expect, it } from 'vitest';
import { compareScans, compareToFileName, isNewerScan } from '../src/bridge/guards/scan-order.js';
import { judgeStoredKey, judgeStoredScan } from '../src/bridge/guards/stored-value.js';
import { clockSkewOf } from '../src/bridge/guards/clock-skew.js';

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

  it('reads the order of a stored payload, ours or any JSON, and says why a value is no scan to keep (issue 20)', () => {
    const at = { nowMs: T + 1000, maxSkewS: 300 };
    const key = (raw: string) => judgeStoredKey(raw, at);
    expect(key(`{"scan_number":42,"timestamp":"x","timestamp_ms":${T},"written_at_ms":1}`)).toEqual({
      kind: 'scan',
      value: { scanNumber: 42, timestampMs: T },
    });
    expect(key(`{"timestamp_ms":${T},"scan_number":"43"}`)).toEqual({ kind: 'scan', value: { scanNumber: 43, timestampMs: T } });
    expect(key('{"scan_number":44}')).toEqual({ kind: 'unusable', why: 'scan #44 has no usable timestamp_ms (none)' });
    expect(key('not json')).toEqual({ kind: 'unusable', why: 'it is not JSON ("not json")' });
    expect(key('[1]')).toEqual({ kind: 'unusable', why: 'it is not a JSON object ([1])' });
    expect(key(`{"scan_number":"abc","timestamp_ms":${T}}`)).toEqual({ kind: 'unusable', why: 'its scan_number is not a whole number ("abc")' });
    expect(key(`{"scan_number":-1,"timestamp_ms":${T}}`)).toMatchObject({ kind: 'unusable' });
    expect(key(`{"scan_number":1.5,"timestamp_ms":${T}}`)).toMatchObject({ kind: 'unusable' });
    // Stamped ahead: within MAX_CLOCK_SKEW_S a scan, beyond it not, by either path.
    expect(key(`{"scan_number":45,"timestamp":"x","timestamp_ms":${T + 1000 + 300_000}}`)).toMatchObject({ kind: 'scan' });
    const far = key(`{"scan_number":999999,"timestamp":"x","timestamp_ms":${T + 1000 + 300_001}}`);
    expect(far).toMatchObject({ kind: 'unusable' });
    expect(far.kind === 'unusable' && far.why).toMatch(/^scan #999999 of .* is stamped 300 s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=300$/);
    expect(judgeStoredScan(`{"timestamp_ms":${T + 1000 + 300_001},"scan_number":7,"bridge_id":"elsewhere"}`, at)).toMatchObject({
      kind: 'unusable',
      why: expect.stringContaining('written by "elsewhere"'),
    });
    expect(judgeStoredScan(`{"scan_number":7,"timestamp_ms":${T},"asset_count":3}`, at)).toEqual({
      kind: 'scan',
      value: { scan_number: 7, timestamp_ms: T, asset_count: 3 },
    });
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
