/**
 * The content facts of the last scans a bridge run pushed, oldest first, kept in its stats
 * (stats.ts) for health to judge (rules.ts). Bounded: {@link CONTENT_KEPT} scans, and the column
 * lists of the schemas among them only (a schema is usually the same scan after scan).
 */
import type { DecodedScan } from '../bridge/hazelcast/payload.js';

/** Scans kept; CONTENT_WINDOW and CONTENT_FROZEN_SCANS are at most this. */
export const CONTENT_KEPT = 50;

export interface ContentEntry {
  scanNumber: number;
  timestampMs: number;
  assetCount: number;
  /** Fingerprints (content/facts.ts). */
  values: string;
  schema: string;
  /** Numeric columns with null or NaN values, and their share. */
  nullShare: Record<string, number>;
}

export interface ContentWindow {
  /** Oldest first. */
  entries: ContentEntry[];
  /** Schema fingerprint → `name: type` of its columns, for the schemas in `entries`. */
  schemas: Record<string, string[]>;
}

export function emptyWindow(): ContentWindow {
  return { entries: [], schemas: Object.create(null) as Record<string, string[]> };
}

/** Adds a pushed scan's facts; a scan without facts, or the last one again, is not added. */
export function addToWindow(w: ContentWindow, scan: DecodedScan): void {
  const c = scan.content;
  if (!c) return;
  const last = w.entries[w.entries.length - 1];
  if (last && last.scanNumber === scan.scanNumber && last.timestampMs === scan.timestampMs) return;
  w.entries.push({
    scanNumber: scan.scanNumber,
    timestampMs: scan.timestampMs,
    assetCount: scan.assetCount,
    values: c.values,
    schema: c.schema,
    nullShare: c.nullShare,
  });
  w.schemas[c.schema] = c.columns;
  if (w.entries.length <= CONTENT_KEPT) return;
  const gone = w.entries.shift()!;
  if (!w.entries.some((e) => e.schema === gone.schema)) delete w.schemas[gone.schema];
}

/** The latest scan's facts as the bridge job's progress shows them. */
export function latestContent(w: ContentWindow): (ContentEntry & { columns: string[] }) | null {
  const last = w.entries[w.entries.length - 1];
  return last ? { ...last, columns: w.schemas[last.schema] ?? [] } : null;
}
