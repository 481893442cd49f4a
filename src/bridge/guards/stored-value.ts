/**
 * A value found under `latest_eigen_scan` (or a history key) is judged like a scan file
 * (docs/scan-format.md § Ordering): one that does not parse as a scan, or one stamped more than
 * `MAX_CLOCK_SKEW_S` ahead of this machine's clock, is not a scan to keep or to be ready on. Any
 * client of the cluster can write there; a bridge that took such a value for the newest scan
 * would refuse every real scan after it, and the gates would call it fresh. Pure.
 */
import type { LatestScan } from '../../health.js';
import { clockSkewOf, describeSkew } from './clock-skew.js';
import type { ScanOrderKey } from './scan-order.js';

export type Judged<T> = { kind: 'scan'; value: T } | { kind: 'unusable'; why: string };

/** The clock a stored stamp is judged against. */
export interface SkewClock {
  nowMs: number;
  /** MAX_CLOCK_SKEW_S. */
  maxSkewS: number;
}

/** The fields of a stored scan, or why the text is not one (no clock: see {@link aheadOfClock}). */
export function parseStoredScan(raw: string): Judged<LatestScan> {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { kind: 'unusable', why: `it is not JSON (${JSON.stringify(excerpt(raw))})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'unusable', why: `it is not a JSON object (${excerpt(raw)})` };
  const o = v as Record<string, unknown>;
  const n = o.scan_number;
  const scanNumber = typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : typeof n === 'string' && /^\d{1,15}$/.test(n) ? Number(n) : undefined;
  if (scanNumber === undefined) return { kind: 'unusable', why: `its scan_number is not a whole number (${describe(n)})` };
  const t = o.timestamp_ms;
  if (typeof t !== 'number' || !Number.isFinite(t)) return { kind: 'unusable', why: `scan #${scanNumber} has no usable timestamp_ms (${describe(t)})` };
  const scan: LatestScan = { scan_number: scanNumber, timestamp_ms: t, asset_count: typeof o.asset_count === 'number' ? o.asset_count : 0 };
  if (typeof o.written_at_ms === 'number') scan.written_at_ms = o.written_at_ms;
  if (typeof o.bridge_id === 'string') scan.bridge_id = o.bridge_id;
  return { kind: 'scan', value: scan };
}

/** Why a stored scan stamped this far ahead cannot be the newest scan, or null when its stamp is within bounds. */
export function aheadOfClock(scan: { scan_number: number; timestamp_ms: number; bridge_id?: string }, at: SkewClock): string | null {
  const skew = clockSkewOf(scan.timestamp_ms, { nowMs: at.nowMs, mtimeMs: null, maxSkewS: at.maxSkewS });
  if (!skew) return null;
  const by = scan.bridge_id === undefined ? '' : `, written by ${JSON.stringify(scan.bridge_id)},`;
  return `scan #${scan.scan_number} of ${isoOrNumber(scan.timestamp_ms)}${by} is ${describeSkew(skew)}, beyond MAX_CLOCK_SKEW_S=${at.maxSkewS}`;
}

/** Parsed and checked against the clock: what health and the gates judge. */
export function judgeStoredScan(raw: string, at: SkewClock): Judged<LatestScan> {
  const parsed = parseStoredScan(raw);
  if (parsed.kind !== 'scan') return parsed;
  const ahead = aheadOfClock(parsed.value, at);
  return ahead === null ? parsed : { kind: 'unusable', why: ahead };
}

/**
 * The order key of a stored value for the writers (store.ts), or why it is not a scan to keep.
 * The bridge's own payloads begin with `scan_number`, `timestamp`, `timestamp_ms` and are read
 * from that prefix without parsing the rest (a payload can be megabytes).
 */
export function judgeStoredKey(raw: string, at: SkewClock): Judged<ScanOrderKey> {
  const m = /^\{"scan_number":(\d{1,15}),"timestamp":"[^"]*","timestamp_ms":(-?\d{1,16})[,}]/.exec(raw);
  const scan = m ? { scan_number: Number(m[1]), timestamp_ms: Number(m[2]) } : undefined;
  const judged: Judged<{ scan_number: number; timestamp_ms: number; bridge_id?: string }> = scan ? { kind: 'scan', value: scan } : parseStoredScan(raw);
  if (judged.kind !== 'scan') return judged;
  const ahead = aheadOfClock(judged.value, at);
  if (ahead !== null) return { kind: 'unusable', why: ahead };
  return { kind: 'scan', value: { scanNumber: judged.value.scan_number, timestampMs: judged.value.timestamp_ms } };
}

function isoOrNumber(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function describe(v: unknown): string {
  // From JSON.parse: never undefined inside an object but for a missing field.
  return v === undefined ? 'none' : excerpt(JSON.stringify(v));
}

/** At most 60 characters of untrusted text, for a log line. */
function excerpt(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
