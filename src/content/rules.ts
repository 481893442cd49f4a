/**
 * The content rules (docs/scan-format.md § Content checks), pure: the last scans' facts
 * (window.ts) and the settings in, the content warnings standing now out. Each rule judges the
 * last `window` scans at most, so every warning ends by itself once the scans that caused it
 * leave the window, or sooner when the scans are normal again.
 */
import type { Config } from '../config.js';
import type { ContentEntry, ContentWindow } from './window.js';

export const CONTENT_RULES = ['frozen', 'asset_count', 'schema', 'nulls'] as const;
export type ContentRule = (typeof CONTENT_RULES)[number];
export type ContentCause = `content_${ContentRule}`;

export interface ContentSettings {
  /** CONTENT_WINDOW: scans the rules look back over. */
  window: number;
  /** CONTENT_FROZEN_SCANS: this many scans in a row with the same values; 0: off. */
  frozenScans: number;
  /** CONTENT_ASSET_BAND_PCT: asset count this many percent below or above the median; 0: off. */
  assetBandPct: number;
  /** CONTENT_SCHEMA_CHECK */
  schemaCheck: boolean;
  /** CONTENT_NULL_SHARE_PCT: a numeric column at least this many percent null or NaN; 0: off. */
  nullSharePct: number;
}

export function contentSettingsOf(
  c: Pick<Config, 'contentWindow' | 'contentFrozenScans' | 'contentAssetBandPct' | 'contentSchemaCheck' | 'contentNullSharePct'>,
): ContentSettings {
  return {
    window: c.contentWindow,
    frozenScans: c.contentFrozenScans,
    assetBandPct: c.contentAssetBandPct,
    schemaCheck: c.contentSchemaCheck,
    nullSharePct: c.contentNullSharePct,
  };
}

export interface ContentWarning {
  rule: ContentRule;
  cause: ContentCause;
  /** The scan the warning is about (the latest). */
  scanNumber: number;
  /** One sentence with the figures. */
  message: string;
}

/** Scans before the latest the median needs at least: fewer say nothing about a normal count. */
const MEDIAN_MIN_SCANS = 3;
/**
 * A numeric column counts as gone null only after this many scans in a row: a column with one
 * value per scan (`vel_div`) may be null or NaN now and then (scan-format.md).
 */
export const NULL_STREAK = 3;

/** Every content warning standing for the latest scan of `w`, in the order of {@link CONTENT_RULES}. */
export function contentWarnings(w: ContentWindow | null | undefined, s: ContentSettings): ContentWarning[] {
  if (!w || w.entries.length === 0) return [];
  const entries = w.entries.slice(-s.window);
  const found = [frozen(w.entries, s), assetCount(entries, s), schema(entries, w, s), ...nulls(entries, w, s)];
  return found.filter((x): x is ContentWarning => x !== undefined);
}

function warning(rule: ContentRule, last: ContentEntry, message: string): ContentWarning {
  return { rule, cause: `content_${rule}`, scanNumber: last.scanNumber, message };
}

/** The same values in the last `frozenScans` scans or more (counted over every scan kept). */
function frozen(all: ContentEntry[], s: ContentSettings): ContentWarning | undefined {
  if (s.frozenScans === 0) return undefined;
  const last = all[all.length - 1]!;
  let run = 1;
  while (run < all.length && all[all.length - 1 - run]!.values === last.values) run++;
  if (run < s.frozenScans) return undefined;
  const first = all[all.length - run]!;
  return warning(
    'frozen',
    last,
    `frozen content: scans #${first.scanNumber} to #${last.scanNumber} (${run} in a row) carry the same values under new numbers and times (CONTENT_FROZEN_SCANS=${s.frozenScans}): the scanner's input looks stuck`,
  );
}

function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** The latest asset count against the median of the scans before it in the window. */
function assetCount(entries: ContentEntry[], s: ContentSettings): ContentWarning | undefined {
  if (s.assetBandPct === 0 || entries.length - 1 < MEDIAN_MIN_SCANS) return undefined;
  const last = entries[entries.length - 1]!;
  const m = median(entries.slice(0, -1).map((e) => e.assetCount));
  const band = s.assetBandPct / 100;
  if (last.assetCount >= m * (1 - band) && last.assetCount <= m * (1 + band)) return undefined;
  const pct = m === 0 ? 100 : Math.round((Math.abs(last.assetCount - m) / m) * 100);
  const way = last.assetCount < m ? 'below' : 'above';
  return warning(
    'asset_count',
    last,
    `asset count out of band: scan #${last.scanNumber} has ${last.assetCount} assets, ${pct} % ${way} the median of ${m} over the ${entries.length - 1} scans before it (CONTENT_ASSET_BAND_PCT=${s.assetBandPct})`,
  );
}

/** The columns that differ between two schemas, in words. */
function schemaChanges(before: string[], after: string[]): string {
  const type = (cols: string[]) => new Map(cols.map((c) => [c.slice(0, c.lastIndexOf(': ')), c.slice(c.lastIndexOf(': ') + 2)]));
  const a = type(before);
  const b = type(after);
  const out: string[] = [];
  for (const [name, t] of a) {
    if (!b.has(name)) out.push(`${name} (${t}) removed`);
    else if (b.get(name) !== t) out.push(`${name} ${t} → ${b.get(name)}`);
  }
  for (const [name, t] of b) if (!a.has(name)) out.push(`${name} (${t}) added`);
  return out.length > 0 ? out.join(', ') : 'column order changed';
}

/** The last change of schema within the window. */
function schema(entries: ContentEntry[], w: ContentWindow, s: ContentSettings): ContentWarning | undefined {
  if (!s.schemaCheck) return undefined;
  for (let i = entries.length - 1; i > 0; i--) {
    const [prev, cur] = [entries[i - 1]!, entries[i]!];
    if (prev.schema === cur.schema) continue;
    const last = entries[entries.length - 1]!;
    const changes = schemaChanges(w.schemas[prev.schema] ?? [], w.schemas[cur.schema] ?? []);
    const ago = last === cur ? 'the latest scan' : `${entries.length - 1 - i} scans ago`;
    return warning(
      'schema',
      last,
      `schema changed: scan #${cur.scanNumber} (${ago}) differs from scan #${prev.scanNumber}: ${changes}; reported for ${s.window} scans (CONTENT_WINDOW)`,
    );
  }
  return undefined;
}

const pct = (share: number) => `${Math.round(share * 100)} %`;

/** Numeric columns mostly null or NaN in the last {@link NULL_STREAK} scans that were not in an earlier scan of the window. */
function nulls(entries: ContentEntry[], w: ContentWindow, s: ContentSettings): ContentWarning[] {
  if (s.nullSharePct === 0 || entries.length <= NULL_STREAK) return [];
  const limit = s.nullSharePct / 100;
  const last = entries[entries.length - 1]!;
  const streak = entries.slice(-NULL_STREAK);
  const earlier = entries.slice(0, -NULL_STREAK);
  const has = (e: ContentEntry, name: string) => (w.schemas[e.schema] ?? []).some((c) => c.slice(0, c.lastIndexOf(': ')) === name);
  const out: ContentWarning[] = [];
  for (const [name, share] of Object.entries(last.nullShare)) {
    if (share < limit || !streak.every((e) => (e.nullShare[name] ?? 0) >= limit)) continue;
    const before = [...earlier].reverse().find((e) => has(e, name) && (e.nullShare[name] ?? 0) < limit);
    if (!before) continue;
    out.push(
      warning(
        'nulls',
        last,
        `numeric column ${name} went mostly null or NaN: ${pct(share)} in scan #${last.scanNumber} and at least ${pct(limit)} in each of the last ${NULL_STREAK} scans, ${pct(before.nullShare[name] ?? 0)} in scan #${before.scanNumber} (CONTENT_NULL_SHARE_PCT=${s.nullSharePct})`,
      ),
    );
  }
  return out;
}
