/**
 * Whether downstream programs may use the data, from the two Hazelcast entries they can see and
 * the clock: the one decision behind `scan-bridge wait`, `GET /api/ready` and the Python client
 * (which mirrors it). Pure: the caller reads Hazelcast.
 */
import type { HealthResult, LatestScan } from '../health.js';
import { aheadOfClock } from '../bridge/guards/stored-value.js';
import { SETTINGS } from '../settings.js';
import { contentGate } from '../content/gate.js';
import type { ContentWarning } from '../content/rules.js';

/** Key under `HZ_MAP` where a deployment with the default `HZ_KEY` writes its health (HZ_HEALTH_KEY: Config.hzHealthKey). */
export const HEALTH_KEY = SETTINGS.HZ_HEALTH_KEY.default;

/** How many health intervals the Hazelcast health entry outlives the check that wrote it. */
export const HEALTH_ENTRY_INTERVALS = 3;

/** The entry under HZ_HEALTH_KEY: a health result and the moment it stops counting. */
export type HealthEntry = HealthResult & {
  /** Epoch ms: `checkedAt` + 3 health intervals; the entry's Hazelcast TTL ends then too. */
  validUntil: number;
};

export function healthEntry(result: HealthResult, healthIntervalMs: number): HealthEntry {
  return { ...result, validUntil: result.checkedAt + HEALTH_ENTRY_INTERVALS * healthIntervalMs };
}

/** Statuses under which the data must not be used, whatever its age. */
const UNUSABLE = new Set<string>(['down', 'error']);

export interface ReadyInputs {
  /** Epoch ms. */
  now: number;
  maxAgeS: number;
  /** A value stamped further ahead than this is no usable scan (bridge/guards/stored-value.ts). @defaultValue 300 */
  maxClockSkewS?: number;
  /** `null`: the key is absent; `unusable`: its value does not parse as a scan, and why. */
  latest: LatestScan | { unusable: string } | null;
  health: HealthEntry | null;
  /** Not ready while a content warning stands, too. @defaultValue `false` (freshness only) */
  strict?: boolean;
}

export interface Readiness {
  ready: boolean;
  /** What stands in the way, one phrase each; empty when ready. */
  missing: string[];
  maxAgeS: number;
  /** now − `timestamp_ms`, seconds, 0.1 s; a future timestamp counts as 0; `null`: no scan. */
  dataAgeS: number | null;
  scanNumber: number | null;
  /** `null`: no health entry, or one past its `validUntil`. */
  health: { status: string; cause: string | null; checkedAt: number; validUntil: number } | null;
  /** = `now`. */
  at: number;
  /** Whether content warnings count against readiness. */
  strict: boolean;
  /** The content warnings of the live health entry, reported in either mode. */
  content: ContentWarning[];
}

export function decideReady(i: ReadyInputs): Readiness {
  const missing: string[] = [];
  const unusable =
    i.latest === null ? null : 'unusable' in i.latest ? i.latest.unusable : aheadOfClock(i.latest, { nowMs: i.now, maxSkewS: i.maxClockSkewS ?? 300 });
  const latest = i.latest === null || unusable !== null ? null : (i.latest as LatestScan);
  const dataAgeS = latest ? Math.round(Math.max(0, i.now - latest.timestamp_ms) / 100) / 10 : null;
  if (unusable !== null) missing.push(`the value in Hazelcast is no usable scan: ${unusable}`);
  else if (!latest) missing.push('no scan in Hazelcast');
  else if (dataAgeS! > i.maxAgeS) missing.push(`data is ${dataAgeS!.toFixed(1)} s old (scan #${latest.scan_number}), over the ${i.maxAgeS} s limit`);

  // Hazelcast expires the entry at validUntil; checking it here as well covers a reader that
  // got the entry a moment before it expired.
  const h = i.health && i.health.validUntil > i.now ? i.health : null;
  const cause = h && 'cause' in h ? h.cause : null;
  if (!h) missing.push('no health entry (no health check within 3 intervals: nobody is checking)');
  else if (UNUSABLE.has(h.status)) missing.push(`the last health check says ${h.status}${cause ? ` (${cause})` : ''}`);
  const strict = i.strict ?? false;
  const gate = contentGate(h, strict);
  if (gate.missing) missing.push(gate.missing);

  return {
    ready: missing.length === 0,
    missing,
    maxAgeS: i.maxAgeS,
    dataAgeS,
    scanNumber: latest?.scan_number ?? null,
    health: h ? { status: h.status, cause, checkedAt: h.checkedAt, validUntil: h.validUntil } : null,
    at: i.now,
    strict,
    content: gate.content,
  };
}

/** One line for people. */
export function describeReadiness(r: Readiness): string {
  if (!r.ready) return r.missing.join('; ');
  const content = r.content.length > 0 ? `; content warning (only a strict wait waits for it to clear): ${r.content.map((w) => w.message).join('; ')}` : '';
  return `data is ${r.dataAgeS!.toFixed(1)} s old (scan #${r.scanNumber}), health ${r.health!.status} as of ${((r.at - r.health!.checkedAt) / 1000).toFixed(1)} s ago${content}`;
}
