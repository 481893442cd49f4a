/**
 * The JSON text the bridge stores in Hazelcast for one scan. The bridge builds it in two parts:
 * the body's JSON in the decode worker (its time depends on the file), and the bridge fields in
 * front on the main thread at write time (`written_at_ms` is the time of the write). Joining
 * them is string concatenation only, and gives the text `buildPayload` makes, byte for byte.
 */
import { isoMs, setKey } from '../arrow/json-values.js';
import type { Scan } from '../arrow/reference-decoder.js';

/** What the main thread knows of a decoded scan: everything but the body, which stays JSON text. */
export type ScanHead = Pick<Scan, 'scanNumber' | 'timestampMs' | 'assetCount' | 'layout'>;

/** A decoded scan as the main thread holds it: the head, and the body as JSON text. */
export type DecodedScan = ScanHead & { body: string };

export type PayloadMeta = { sourceFile: string; bridgeId: string; writtenAtMs: number };

/** Fields the bridge adds to every payload, in payload order. */
export const BRIDGE_FIELDS = ['scan_number', 'timestamp', 'timestamp_ms', 'written_at_ms', 'asset_count', 'source_file', 'bridge_id'] as const;

const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);

/**
 * The JSON text stored in Hazelcast: the bridge fields first (scan_number, timestamp as ISO ms,
 * timestamp_ms, written_at_ms, asset_count, source_file, bridge_id), then the body fields. Body
 * fields with a bridge field's name are dropped: the bridge's normalised values win.
 */
export function buildPayload(scan: Scan, meta: PayloadMeta): string {
  return composePayload(scan, bodyJson(scan.body), meta);
}

/** The body's fields as JSON without the outer braces ('' for none), bridge fields left out. */
export function bodyJson(body: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(body)) {
    if (!BRIDGE_FIELD_SET.has(k)) setKey(out, k, body[k]);
  }
  return JSON.stringify(out).slice(1, -1);
}

/** The payload text: the bridge fields, then the body from {@link bodyJson}. */
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

/** A payload and when it was built: reused for latest and history while `written_at_ms` is still true. */
export interface BuiltPayload {
  text: string;
  builtAt: number;
}

const PAYLOAD_FRESH_MS = 1000;

/** The item's payload text, built (again) when it has none or it is older than a second. */
export function freshPayload(item: { scan: DecodedScan; relPath: string; payload?: BuiltPayload | undefined }, bridgeId: string): string {
  const now = Date.now();
  if (item.payload && now - item.payload.builtAt < PAYLOAD_FRESH_MS) return item.payload.text;
  item.payload = { text: composePayload(item.scan, item.scan.body, { sourceFile: item.relPath, bridgeId, writtenAtMs: now }), builtAt: now };
  return item.payload.text;
}
