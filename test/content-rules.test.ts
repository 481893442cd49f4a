/**
 * The content rules (src/content/rules.ts) and their place in the health decision and the gates,
 * on facts from real decoded files: the demo scanner's (1,000 normal scans raise nothing; each
 * demo fault fires its rule), decoded by the bridge's decoder (readScanText).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readScanText } from '../src/bridge/arrow/fast-decoder.js';
import { createLogger } from '../src/log.js';
import { runDemoScanner } from '../src/demo/scanner.js';
import { tempDir } from './helpers.js';
import type { DecodedScan } from '../src/bridge/hazelcast/payload.js';
import { resolveConfig } from '../src/config.js';
import { contentWarnings, contentSettingsOf, type ContentSettings } from '../src/content/rules.js';
import { addToWindow, emptyWindow, type ContentWindow } from '../src/content/window.js';
import { DEMO_FAULTS, plannedScan, type DemoFault } from '../src/demo/faults.js';
import { encodeScan } from '../src/demo/scan-writer.js';
import { decideHealth, type HealthInputs } from '../src/health.js';
import { decideReady } from '../src/ready/decide.js';

const DEFAULTS: ContentSettings = contentSettingsOf(resolveConfig({}));
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
const INTERVAL_MS = 5000;

/** The demo scanner's scan `index` of a run (with a fault, if planned), written and decoded as the bridge decodes it. */
function demoScan(index: number, fault?: { fault: DemoFault; after: number }, assets = 400): DecodedScan {
  const o = { scanNumber: 1000 + index, time: new Date(T0 + index * INTERVAL_MS), assets };
  const { row, bytes } = plannedScan(o, index, fault);
  const r = readScanText(bytes ?? encodeScan(row), { relPath: 'x/scan.arrow' });
  if (r.kind !== 'ok') throw new Error(r.reason);
  return { ...r.scan, body: r.body, content: r.content };
}

describe('content rules on demo-scanner files', () => {
  it('1,000 normal demo scans raise no content warning at any point (default settings)', () => {
    const w = emptyWindow();
    const raised: string[] = [];
    for (let i = 0; i < 1000; i++) {
      addToWindow(w, demoScan(i));
      for (const x of contentWarnings(w, DEFAULTS)) raised.push(`after scan ${i}: ${x.message}`);
    }
    expect(raised).toEqual([]);
    expect(w.entries).toHaveLength(50);
    // The scans really differ: one fingerprint per scan kept.
    expect(new Set(w.entries.map((e) => e.values)).size).toBe(50);
  });

  it('the demo scanner writes the fault it is asked for: the same values from --fault-after on, for --fault-for scans', async () => {
    const dir = tempDir('demo-fault-');
    const log = createLogger('silent', 'test');
    await runDemoScanner({ arrowDir: dir, intervalMs: 5, assets: 20, count: 7, log, fault: { fault: 'frozen', after: 2, for: 3 } });
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.arrow')).sort();
    const facts = files.map((f) => {
      const r = readScanText(new Uint8Array(readFileSync(join(dir, f))), { relPath: f });
      if (r.kind !== 'ok') throw new Error(r.reason);
      return { n: r.scan.scanNumber, values: r.content.values };
    });
    expect(facts.map((f) => f.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const v = facts.map((f) => f.values);
    expect(new Set([v[2], v[3], v[4]]).size).toBe(1);
    expect(new Set([v[0], v[1], v[2], v[5], v[6]]).size).toBe(5);
  });

  it('each demo fault (--fault) fires its own rule, after 10 normal scans', () => {
    const expected: Record<DemoFault, string> = { frozen: 'frozen', collapse: 'asset_count', 'schema-change': 'schema', 'nan-column': 'nulls' };
    for (const fault of DEMO_FAULTS) {
      const w = emptyWindow();
      const fired: string[][] = [];
      for (let i = 0; i < 16; i++) {
        addToWindow(w, demoScan(i, { fault, after: 10 }, 60));
        fired.push(contentWarnings(w, DEFAULTS).map((x) => x.rule));
      }
      expect(fired.slice(0, 10).flat(), fault).toEqual([]);
      expect(fired[15], fault).toEqual([expected[fault]]);
    }
  });
});

/** A window from (assets, values, schema, nullShare) per scan. */
function windowOf(scans: Array<{ assets?: number; values?: string; schema?: string; nulls?: Record<string, number> }>): ContentWindow {
  const w = emptyWindow();
  scans.forEach((s, i) => {
    const schema = s.schema ?? 'a';
    addToWindow(w, {
      scanNumber: i + 1,
      timestampMs: T0 + i * 1000,
      assetCount: s.assets ?? 50,
      layout: 'wide',
      body: '',
      content: {
        values: s.values ?? `v${i}`,
        schema,
        columns: schema === 'a' ? ['prices: list<float64>', 'vel_div: float64'] : ['prices: list<float64>'],
        nullShare: s.nulls ?? {},
      },
    });
  });
  return w;
}

describe('content rules (pure)', () => {
  it('frozen: from CONTENT_FROZEN_SCANS scans in a row; one new value clears it; 0 turns it off', () => {
    const same = (n: number) => Array.from({ length: n }, () => ({ values: 'x' }));
    expect(contentWarnings(windowOf([{}, ...same(4)]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf([{}, ...same(5)]), DEFAULTS).map((w) => w.message)).toEqual([
      "frozen content: scans #2 to #6 (5 in a row) carry the same values under new numbers and times (CONTENT_FROZEN_SCANS=5): the scanner's input looks stuck",
    ]);
    expect(contentWarnings(windowOf([...same(8), {}]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf(same(8)), { ...DEFAULTS, frozenScans: 0 })).toEqual([]);
  });

  it('asset count: out of a ±30 % band around the median of the scans before; needs 3 of them; 0 turns it off', () => {
    const counts = (...a: number[]) => windowOf(a.map((assets) => ({ assets })));
    expect(contentWarnings(counts(50, 10), DEFAULTS)).toEqual([]);
    expect(contentWarnings(counts(50, 50, 50, 35), DEFAULTS)).toEqual([]);
    expect(contentWarnings(counts(50, 50, 50, 34), DEFAULTS).map((w) => w.rule)).toEqual(['asset_count']);
    expect(contentWarnings(counts(50, 50, 50, 66), DEFAULTS)[0]?.message).toContain('scan #4 has 66 assets, 32 % above the median of 50');
    expect(contentWarnings(counts(50, 50, 50, 10), { ...DEFAULTS, assetBandPct: 0 })).toEqual([]);
  });

  it('schema: reported while the window holds a scan of the old schema; the check can be turned off', () => {
    const scans = (after: number) => windowOf([{}, {}, { schema: 'b' }, ...Array.from({ length: after }, () => ({ schema: 'b' }))]);
    expect(contentWarnings(scans(0), DEFAULTS)[0]?.message).toBe(
      'schema changed: scan #3 (the latest scan) differs from scan #2: vel_div (float64) removed; reported for 20 scans (CONTENT_WINDOW)',
    );
    expect(contentWarnings(scans(18), DEFAULTS).map((w) => w.rule)).toEqual(['schema']);
    expect(contentWarnings(scans(19), DEFAULTS)).toEqual([]);
    expect(contentWarnings(scans(0), { ...DEFAULTS, schemaCheck: false })).toEqual([]);
  });

  it('nulls: mostly null in each of the last 3 scans after a better one; a column always null, or null once, is not news', () => {
    const nan = { nulls: { prices: 1 } };
    expect(contentWarnings(windowOf([{}, nan, nan]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf([{}, nan, nan, nan]), DEFAULTS).map((w) => w.rule)).toEqual(['nulls']);
    expect(contentWarnings(windowOf([nan, nan, nan, nan]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf([{}, {}, {}, { nulls: { vel_div: 1 } }]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf([{}, { nulls: { prices: 0.4 } }, nan, nan]), DEFAULTS)).toEqual([]);
    expect(contentWarnings(windowOf([{}, nan, nan, nan]), { ...DEFAULTS, nullSharePct: 0 })).toEqual([]);
  });
});

describe('content warnings in the health decision and the gates', () => {
  const now = T0 + 10_000;
  const inputs = (ageS: number, window: ContentWindow): HealthInputs => ({
    now,
    thresholds: { warningS: 30, staleS: 60, heartbeatTtlMs: 10_000, startGraceS: 60 },
    latest: { kind: 'ok', payload: { scan_number: 9, timestamp_ms: now - ageS * 1000, asset_count: 50 } },
    heartbeat: { kind: 'ok', value: { id: 'b', host: 'h', pid: 1, startedAt: now - 600_000, generation: 1, beatAt: now, watching: true } },
    newestOnDisk: 9,
    restarts: 0,
    content: { window, settings: DEFAULTS },
  });
  const frozen = windowOf(Array.from({ length: 6 }, () => ({ values: 'x' })));

  it('fresh data: a content warning with its own cause and no action; aging data too; stale data stays stale', () => {
    expect(decideHealth(inputs(2, frozen))).toMatchObject({ status: 'warning', cause: 'content_frozen', action: 'none', content: [{ rule: 'frozen' }] });
    expect(decideHealth(inputs(40, frozen))).toMatchObject({ status: 'warning', cause: 'content_frozen', action: 'none' });
    const stale = decideHealth(inputs(90, frozen));
    expect(stale).toMatchObject({ status: 'stale', cause: 'scanner_silent', content: [{ rule: 'frozen' }] });
    expect(decideHealth(inputs(2, windowOf([{}, {}])))).toMatchObject({ status: 'healthy', content: [] });
    expect(decideHealth({ ...inputs(2, frozen), content: undefined })).not.toHaveProperty('content');
    expect(decideHealth({ ...inputs(2, frozen), content: { window: null, settings: DEFAULTS } })).not.toHaveProperty('content');
  });

  it('the gates: the content warning is reported in both modes; only strict mode is not ready', () => {
    const health = { ...decideHealth(inputs(2, frozen)), validUntil: now + 5000 };
    const latest = { scan_number: 9, timestamp_ms: now - 2000, asset_count: 50 };
    const plain = decideReady({ now, maxAgeS: 30, latest, health });
    expect(plain).toMatchObject({ ready: true, missing: [], strict: false, content: [{ rule: 'frozen' }] });
    const strict = decideReady({ now, maxAgeS: 30, latest, health, strict: true });
    expect(strict).toMatchObject({ ready: false, strict: true });
    expect(strict.missing).toEqual([expect.stringMatching(/^content warning \(strict\): frozen content: scans #1 to #6/)]);
  });
});
