/**
 * The payload in two parts: the body's JSON, built in the decode worker (its time depends on
 * the file), and the bridge fields, put in front on the main thread when the scan is written
 * (`written_at_ms` must be the time of the write). Joining them is string concatenation only.
 * The result is the text `buildPayload` makes, byte for byte.
 */
import { BRIDGE_FIELDS, isoMs, type PayloadMeta, type Scan } from '../arrow.js';

/** What the main thread knows of a decoded scan: everything but the body, which stays JSON text. */
export type ScanHead = Pick<Scan, 'scanNumber' | 'timestampMs' | 'assetCount' | 'layout'>;

const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);

/** The body's fields as JSON without the outer braces ('' for none); bridge fields are left out, as in buildPayload. */
export function bodyJson(body: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(body)) {
    // defineProperty: a key named "__proto__" stays a plain field.
    if (!BRIDGE_FIELD_SET.has(k)) Object.defineProperty(out, k, { value: body[k], enumerable: true, writable: true, configurable: true });
  }
  return JSON.stringify(out).slice(1, -1);
}

/** The payload text: bridge fields, then the body. */
export function composePayload(scan: ScanHead, body: string, meta: PayloadMeta): string {
  const head = JSON.stringify({
    scan_number: scan.scanNumber,
    timestamp: isoMs(scan.timestampMs),
    timestamp_ms: scan.timestampMs,
    written_at_ms: meta.writtenAtMs,
    asset_count: scan.assetCount,
    source_file: meta.sourceFile,
    bridge_id: meta.bridgeId,
  });
  return body === '' ? head : `${head.slice(0, -1)},${body}}`;
}
