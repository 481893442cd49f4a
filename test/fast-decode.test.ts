/**
 * The fast decoder (src/bridge/fast-scan.ts) against apache-arrow's: for every pyarrow fixture,
 * every generated variant (test/fixtures/make_variants.py: file and stream, none/lz4/zstd, wide
 * and long, nulls, NaN, empty lists, several batches, metadata), canonical scans of the demo
 * writer and thousands of mutants, `readScanText` answers exactly what `readScan` + `bodyJson`
 * answer: the same head, the same body text byte for byte, the same refusal. And the fast decoder
 * is really the one that reads the usual files, in the decode worker too. Needs python3 + pyarrow.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { withDecodeBudget } from '../src/bridge/threads/limits.js';
import { readScanText } from '../src/bridge/arrow/fast-decoder.js';
import { bodyJson, type ScanHead } from '../src/bridge/hazelcast/payload.js';
import { readScan, type NotRead } from '../src/bridge/arrow/reference-decoder.js';
import { encodeScan, makeScan, mulberry32 } from '../src/demo/scan-writer.js';
import { makeHostileFiles } from './hostile-fixtures.js';
import { MUTATIONS, mutate } from './mutants.js';

const MIB = 1024 * 1024;
const REL = '2026-11-27/scan_000321_101500.arrow';

let fixtures = '';
let variants = '';
let hostile = '';
let fixtureCases: { name: string; dir: string; rel_path: string }[] = [];
let variantNames: { fast: string[]; all: string[] } = { fast: [], all: [] };

const script = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

beforeAll(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'fast-fixtures-'));
  variants = mkdtempSync(join(tmpdir(), 'fast-variants-'));
  execFileSync('python3', [script('make_fixtures.py'), fixtures], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  execFileSync('python3', [script('make_variants.py'), variants], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  fixtureCases = (JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as { cases: typeof fixtureCases }).cases;
  variantNames = JSON.parse(readFileSync(join(variants, 'variants.json'), 'utf8')) as typeof variantNames;
  hostile = makeHostileFiles({ seedsOnly: true });
}, 240_000);

afterAll(() => {
  for (const d of [fixtures, variants, hostile]) if (d) rmSync(d, { recursive: true, force: true });
});

type Answer = { result?: NotRead | { kind: 'ok'; scan: ScanHead; body: string }; error?: string; limit?: string };

/** What apache-arrow's decoder answers (readScan, then bodyJson), within a decode budget. */
function arrowAnswer(bytes: Uint8Array, relPath: string, maxBytes = 256 * MIB): Answer {
  const run = withDecodeBudget(maxBytes, () => {
    const r = readScan(bytes, { relPath });
    if (r.kind !== 'ok') return r;
    const { scanNumber, timestampMs, assetCount, layout, body } = r.scan;
    return { kind: 'ok' as const, scan: { scanNumber, timestampMs, assetCount, layout }, body: bodyJson(body) };
  });
  if (run.hit) return { limit: run.hit.message };
  return run.value ? { result: run.value } : { error: String(run.error) };
}

/** What readScanText answers, and which decoder gave it. */
function textAnswer(bytes: Uint8Array, relPath: string, maxBytes = 256 * MIB): Answer & { decoder?: string; handedOver?: string } {
  const run = withDecodeBudget(maxBytes, () => readScanText(bytes, { relPath }));
  if (run.hit) return { limit: run.hit.message };
  if (!run.value) return { error: String(run.error) };
  if (run.value.kind !== 'ok') return { result: run.value };
  const { decoder, handedOver, ...result } = run.value;
  return { result, decoder, handedOver };
}

function expectSame(bytes: Uint8Array, relPath: string, what: string): string | undefined {
  const fast = textAnswer(bytes, relPath);
  const ref = arrowAnswer(bytes, relPath);
  expect({ limit: fast.limit, error: fast.error, result: fast.result }, what).toEqual(ref);
  if (fast.result?.kind === 'ok' && ref.result?.kind === 'ok') expect(fast.result.body === ref.result.body, `${what}: body text`).toBe(true);
  return fast.decoder;
}

const canonical = (format: 'file' | 'stream', assets = 400) =>
  encodeScan(makeScan({ scanNumber: 321, time: new Date(Date.UTC(2026, 10, 27, 10, 15)), assets }), format);

describe('fast decoder ≡ apache-arrow decoder', () => {
  it('every pyarrow fixture of test/arrow.test.ts, good and bad: the same answer', () => {
    expect(fixtureCases.length).toBeGreaterThanOrEqual(25);
    const decoders = new Map<string, string | undefined>();
    for (const c of fixtureCases) {
      const bytes = new Uint8Array(readFileSync(join(fixtures, c.dir, c.rel_path)));
      decoders.set(c.name, expectSame(bytes, c.rel_path, c.name));
    }
    // Those without dictionaries are read by the fast decoder itself.
    expect(decoders.get('file_zstd')).toBe('fast');
    expect(decoders.get('long_file_lz4')).toBe('fast');
  });

  it('every variant (file/stream × none/lz4/zstd × wide/long layouts, nulls, NaN, empty lists, several batches, metadata): the same answer, and the fast decoder takes those in its types', () => {
    expect(variantNames.all.length).toBe(60);
    for (const name of variantNames.all) {
      const bytes = new Uint8Array(readFileSync(join(variants, `${name}.arrow`)));
      const decoder = expectSame(bytes, REL, name);
      expect(decoder, name).toBe(variantNames.fast.includes(name) ? 'fast' : 'arrow');
    }
  });

  it('canonical scans of the demo writer (file and stream, 400 and 0 assets), also at an unaligned offset: the fast decoder, the same answer', () => {
    for (const format of ['file', 'stream'] as const) {
      for (const assets of [400, 0]) {
        const bytes = canonical(format, assets);
        expect(expectSame(bytes, REL, `${format} ${assets}`)).toBe('fast');
        const shifted = new Uint8Array(bytes.length + 3).subarray(3);
        shifted.set(bytes);
        expect(expectSame(shifted, REL, `${format} ${assets} unaligned`)).toBe('fast');
      }
    }
  });

  it('within a small MAX_SCAN_BYTES both refuse the same files: the JS values are claimed before they are built', () => {
    const bytes = canonical('file');
    for (const max of [1000, 20_000, 40_000, 100_000]) {
      const fast = textAnswer(bytes, REL, max);
      const ref = arrowAnswer(bytes, REL, max);
      expect(fast.limit === undefined, `max ${max}`).toBe(ref.limit === undefined);
    }
    const lz4 = new Uint8Array(readFileSync(join(variants, 'wide400_file_lz4.arrow')));
    expect(textAnswer(lz4, REL, 10_000).limit).toMatch(/MAX_SCAN_BYTES/);
  });

  it('mutants (bit flips, truncations, duplicated chunks) of canonical and pyarrow scans, through the decode workers: each answered, none takes a worker down; whatever the fast decoder reads, apache-arrow reads the same', async () => {
    // Through the pool: a mutant the fast decoder hands over may hang apache-arrow, as before (DECODE_TIMEOUT_MS).
    const rnd = mulberry32(20261202);
    const seeds: [string, Uint8Array][] = [
      ['canonical file', canonical('file', 30)],
      ['canonical stream', canonical('stream', 30)],
      ...['file', 'stream'].flatMap((f) =>
        ['none', 'lz4', 'zstd'].map((c): [string, Uint8Array] => [`${f} ${c}`, new Uint8Array(readFileSync(join(hostile, `seed_${f}_${c}.arrow`)))]),
      ),
      ['variant long lz4', new Uint8Array(readFileSync(join(variants, 'long_batches_stream_lz4.arrow')))],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'fast-mutants-'));
    const pool = new DecodePool({ size: 2, timeoutMs: 2000, maxScanBytes: 64 * MIB, maxFileBytes: 64 * MIB });
    const counts: Record<string, number> = { fast: 0, arrow: 0, refused: 0, limit: 0 };
    try {
      expect(await pool.ready()).toBe(true);
      const todo: { what: string; path: string; bytes: Uint8Array }[] = [];
      for (const [name, seed] of seeds) {
        for (let i = 0; i < 250; i++) {
          const m = mutate(seed, MUTATIONS[i % MUTATIONS.length]!, rnd);
          const path = join(dir, `${todo.length}.arrow`);
          writeFileSync(path, m.bytes);
          todo.push({ what: `${name}: ${m.detail}`, path, bytes: m.bytes });
        }
      }
      const answers = await Promise.all(todo.map((m) => pool.decode(m.path, REL)));
      todo.forEach((m, i) => {
        const r = answers[i]!;
        expect(['ok', 'broken', 'incomplete', 'limit'], m.what).toContain(r.kind);
        if (r.kind === 'limit') counts.limit!++;
        if (r.kind !== 'ok') {
          if (r.kind !== 'limit') counts.refused!++;
          expect('reason' in r && r.reason.length > 0, m.what).toBe(true);
          return;
        }
        counts[r.decoder]!++;
        if (r.decoder !== 'fast') return;
        const ref = arrowAnswer(m.bytes, REL, 64 * MIB);
        expect(ref, m.what).toEqual({ result: { kind: 'ok', scan: r.scan, body: r.body } });
      });
      console.log(`mutants: ${JSON.stringify(counts)}, decoders replaced ${pool.replaced}`);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // The mutants reach every outcome: the fast decoder, the hand-over, a refusal.
    expect(counts.fast).toBeGreaterThan(50);
    expect(counts.arrow).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(100);
  }, 180_000);

  it('the decode worker reads a canonical LZ4 scan with the fast decoder, and a dictionary-encoded one with apache-arrow', async () => {
    const pool = new DecodePool({ size: 1, timeoutMs: 5000, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
    try {
      expect(await pool.ready()).toBe(true);
      for (const [name, decoder] of [
        ['wide400_file_lz4', 'fast'],
        ['wide400_stream_zstd', 'fast'],
        ['wide_dict_regime_file_lz4', 'arrow'],
      ] as const) {
        const path = join(variants, `${name}.arrow`);
        const r = await pool.decode(path, REL);
        if (r.kind !== 'ok') throw new Error(`${name}: ${r.kind}`);
        expect(r.decoder, name).toBe(decoder);
        const ref = arrowAnswer(new Uint8Array(readFileSync(path)), REL).result;
        expect(ref?.kind === 'ok' && { scan: ref.scan, body: ref.body }).toEqual({ scan: r.scan, body: r.body });
      }
      const file = join(variants, 'canonical.arrow');
      writeFileSync(file, canonical('file'));
      const r = await pool.decode(file, REL);
      expect(r.kind === 'ok' && r.decoder).toBe('fast');
    } finally {
      await pool.close();
    }
  }, 60_000);
});
