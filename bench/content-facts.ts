/**
 * What the content facts (src/content/facts.ts, issue 25) cost per scan, at 400 assets by default:
 * the work the decoder does for them on top of the decode itself, with the decode's own time for
 * scale. Pieces, each the product's code on a canonical demo scan decoded by readScanText:
 * - `null_counts`: countCellText over every numeric column's JSON text (the fast decoder's part);
 * - `fingerprints_and_share`: countedContent (SHA-1 of the body and of the schema, the shares);
 * - `facts_total`: both;
 * - `decode`: readScanText, facts included.
 * Median and p90 over many rounds, in microseconds. Prints JSON.
 *
 *   npx tsx bench/content-facts.ts [--assets 400] [--rounds 3000]
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { readScanText } from '../src/bridge/arrow/fast-decoder.js';
import { countCellText, countedContent, countsNulls, type NullCount } from '../src/content/facts.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const assets = arg('assets', 400);
const rounds = arg('rounds', 3000);
const row = makeScan({ scanNumber: 1234, time: new Date(), assets });
const bytes = encodeScan(row);
const decoded = readScanText(bytes, { relPath: '2026-12-07/scan_001234_000000.arrow' });
if (decoded.kind !== 'ok') throw new Error(decoded.reason);
const body = decoded.body;
const columns = decoded.content.columns.map((c) => ({ name: c.slice(0, c.lastIndexOf(': ')), type: c.slice(c.lastIndexOf(': ') + 2) }));
const names = columns.map((c) => c.name);
const typeNames = columns.map((c) => c.type);
// Each numeric column's JSON text as the fast decoder writes it (finite numbers: as JSON.stringify does).
const cells = columns.map((c) => {
  const v = (row as unknown as Record<string, unknown>)[c.name];
  return { text: JSON.stringify(v), items: Array.isArray(v) ? v.length : -1, counted: countsNulls(c.name, c.type) };
});

function nullCounts(): (NullCount | null)[] {
  return cells.map((c) => {
    if (!c.counted) return null;
    const n = { nulls: 0, values: 0 };
    countCellText(c.text, c.items, n);
    return n;
  });
}

function time(f: () => void): { medianUs: number; p90Us: number } {
  for (let i = 0; i < Math.min(500, rounds); i++) f();
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    f();
    t.push((performance.now() - t0) * 1000);
  }
  t.sort((a, b) => a - b);
  const at = (q: number) => Math.round(t[Math.floor(q * (t.length - 1))]! * 10) / 10;
  return { medianUs: at(0.5), p90Us: at(0.9) };
}

const counts = nullCounts();
console.log(
  JSON.stringify(
    {
      assets,
      rounds,
      fileBytes: bytes.length,
      bodyChars: body.length,
      null_counts: time(() => nullCounts()),
      fingerprints_and_share: time(() => countedContent(body, names, typeNames, counts)),
      facts_total: time(() => countedContent(body, names, typeNames, nullCounts())),
      decode: time(() => readScanText(bytes, { relPath: '2026-12-07/scan_001234_000000.arrow' })),
      machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
    },
    null,
    2,
  ),
);
