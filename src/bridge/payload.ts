/** The JSON text the bridge stores in Hazelcast for one scan. */
import { isoMs, setKey } from './json-values.js';
import type { Scan } from './read-scan.js';

export type PayloadMeta = { sourceFile: string; bridgeId: string; writtenAtMs: number };

/** Fields the bridge adds to every payload, in payload order. */
export const BRIDGE_FIELDS = [
  'scan_number',
  'timestamp',
  'timestamp_ms',
  'written_at_ms',
  'asset_count',
  'source_file',
  'bridge_id',
] as const;

const BRIDGE_FIELD_SET = new Set<string>(BRIDGE_FIELDS);

/**
 * The JSON text stored in Hazelcast: the bridge fields first (scan_number, timestamp as ISO ms,
 * timestamp_ms, written_at_ms, asset_count, source_file, bridge_id), then the body fields. Body
 * fields with a bridge field's name are dropped: the bridge's normalised values win.
 */
export function buildPayload(scan: Scan, meta: PayloadMeta): string {
  const out: Record<string, unknown> = {
    scan_number: scan.scanNumber,
    timestamp: isoMs(scan.timestampMs),
    timestamp_ms: scan.timestampMs,
    written_at_ms: meta.writtenAtMs,
    asset_count: scan.assetCount,
    source_file: meta.sourceFile,
    bridge_id: meta.bridgeId,
  };
  for (const k of Object.keys(scan.body)) {
    if (!BRIDGE_FIELD_SET.has(k)) setKey(out, k, scan.body[k]);
  }
  return JSON.stringify(out);
}

/** A payload and when it was built: reused for latest and history while `written_at_ms` is still true. */
export interface BuiltPayload {
  text: string;
  builtAt: number;
}

const PAYLOAD_FRESH_MS = 1000;

/** The item's payload text, built (again) when it has none or it is older than a second. */
export function freshPayload(item: { scan: Scan; relPath: string; payload?: BuiltPayload | undefined }, bridgeId: string): string {
  const now = Date.now();
  if (item.payload && now - item.payload.builtAt < PAYLOAD_FRESH_MS) return item.payload.text;
  item.payload = { text: buildPayload(item.scan, { sourceFile: item.relPath, bridgeId, writtenAtMs: now }), builtAt: now };
  return item.payload.text;
}
