/**
 * The pure Arrow → payload core (src/bridge/read-scan.ts and the modules it uses), checked against
 * fixtures written by pyarrow (test/fixtures/make_fixtures.py) and the values pyarrow expects.
 * Needs python3 with pyarrow; no servers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompressionType,
  DateDay,
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Struct,
  TimeUnit,
  Timestamp,
  TimestampNanosecond,
  Uint64,
  Utf8,
  compressionRegistry,
  makeData,
  makeVector,
  tableFromIPC,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { vectorToJson } from '../src/bridge/arrow/cells.js';
import { classifyBytes, isComplete } from '../src/bridge/arrow/ipc-structure.js';
import { metadataValue } from '../src/bridge/arrow/json-values.js';
import { BRIDGE_FIELDS, buildPayload } from '../src/bridge/hazelcast/payload.js';
import { readScan, type Scan } from '../src/bridge/arrow/reference-decoder.js';
import { parseScanPath } from '../src/bridge/watch/scan-files.js';
import { parseTimestamp } from '../src/bridge/arrow/scan-values.js';
import { decodeLz4Frame, decodeZstd, registerCompression } from '../src/bridge/arrow/compression.js';

/** lz4js (CommonJS, untyped): the reference implementation the LZ4 decoder is checked against. */
const lz4js = createRequire(import.meta.url)('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  decompress(src: Uint8Array): Uint8Array;
};

type GoodCase = {
  name: string;
  dir: string;
  rel_path: string;
  kind: 'ok';
  layout: 'wide' | 'long';
  scan_number: number;
  timestamp_ms: number;
  asset_count: number;
  body: Record<string, unknown>;
};
type BadCase = { name: string; dir: string; rel_path: string; kind: 'incomplete' | 'broken'; reason_includes?: string };
type Case = GoodCase | BadCase;

const GOOD = [
  'feather_lz4',
  'file_zstd',
  'file_plain_types',
  'stream_lz4_two_batches',
  'stream_zstd_big',
  'feather_400',
  'stream_legacy',
  'empty_assets',
  'scan_from_name',
  'meta_ts_iso',
  'meta_ts_epoch_s',
  'meta_ts_epoch_ms',
  'name_only',
  'long_file_lz4',
  'long_stream_zstd',
];
const BAD = [
  'zero_bytes',
  'truncated_file',
  'truncated_stream',
  'magic_only',
  'random_bytes',
  'parquet',
  'json',
  'feather_v1',
  'zero_rows_wide',
  'zero_rows_long_stream',
];

let outDir = '';
let cases = new Map<string, Case>();

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'scan-fixtures-'));
  const script = fileURLToPath(new URL('./fixtures/make_fixtures.py', import.meta.url));
  execFileSync('python3', [script, outDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  const expected = JSON.parse(readFileSync(join(outDir, 'expected.json'), 'utf8')) as { cases: Case[] };
  cases = new Map(expected.cases.map((c) => [c.name, c]));
}, 180_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

function bytesOf(c: Case): Uint8Array {
  // A plain Uint8Array copy, like the bridge gets from fs.readFile (a Buffer works too).
  return new Uint8Array(readFileSync(join(outDir, c.dir, c.rel_path)));
}

function good(name: string): GoodCase {
  const c = cases.get(name);
  if (!c || c.kind !== 'ok') throw new Error(`no good fixture ${name}`);
  return c;
}

function readOk(c: GoodCase): Scan {
  const r = readScan(bytesOf(c), { relPath: c.rel_path });
  if (r.kind !== 'ok') throw new Error(`${c.name}: expected ok, got ${r.kind}: ${r.reason}`);
  return r.scan;
}

/** Fails on anything JSON cannot carry faithfully: bigint, NaN/±Inf, undefined, typed arrays, class instances. */
function expectJsonPure(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    expect(Number.isFinite(v), `${path} is ${v}`).toBe(true);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => expectJsonPure(x, `${path}[${i}]`));
    return;
  }
  expect(typeof v, `${path} has type ${typeof v}`).toBe('object');
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
  expect(proto === Object.prototype || proto === null, `${path} is a ${proto?.constructor?.name}`).toBe(true);
  for (const [k, x] of Object.entries(v as object)) expectJsonPure(x, `${path}.${k}`);
}

const META = { sourceFile: 'x/scan.arrow', bridgeId: 'host-a:4242', writtenAtMs: 1_795_774_999_000 };

describe('fixtures', () => {
  it('python wrote exactly the fixture set this test knows', () => {
    expect([...cases.keys()].sort()).toEqual([...GOOD, ...BAD].sort());
  });
});

describe.each(GOOD)('good fixture %s', (name) => {
  it('reads scan number, time, asset count and layout', () => {
    const c = good(name);
    const scan = readOk(c);
    expect(scan.scanNumber).toBe(c.scan_number);
    expect(scan.timestampMs).toBe(c.timestamp_ms);
    expect(scan.assetCount).toBe(c.asset_count);
    expect(scan.layout).toBe(c.layout);
  });

  it('body equals what pyarrow wrote, field by field', () => {
    const c = good(name);
    const scan = readOk(c);
    expect(Object.keys(scan.body).sort()).toEqual(Object.keys(c.body).sort());
    for (const key of Object.keys(c.body)) {
      expectJsonPure(scan.body[key], key);
      expect(scan.body[key], `body.${key}`).toEqual(c.body[key]);
    }
  });

  it('payload: bridge fields first, then the body, parseable JSON', () => {
    const c = good(name);
    const scan = readOk(c);
    const text = buildPayload(scan, { ...META, sourceFile: c.rel_path });
    const p = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(p).slice(0, BRIDGE_FIELDS.length)).toEqual([...BRIDGE_FIELDS]);
    expect(p.scan_number).toBe(c.scan_number);
    expect(p.timestamp).toBe(new Date(c.timestamp_ms).toISOString());
    expect(p.timestamp_ms).toBe(c.timestamp_ms);
    expect(p.written_at_ms).toBe(META.writtenAtMs);
    expect(p.asset_count).toBe(c.asset_count);
    expect(p.source_file).toBe(c.rel_path);
    expect(p.bridge_id).toBe(META.bridgeId);
    for (const [k, v] of Object.entries(c.body)) {
      if ((BRIDGE_FIELDS as readonly string[]).includes(k)) continue;
      expect(p[k], `payload.${k}`).toEqual(v);
    }
  });

  it('every truncation is incomplete, never ok', () => {
    const c = good(name);
    const full = bytesOf(c);
    expect(classifyBytes(full)).toMatch(/^(file|stream)$/);
    expect(isComplete(full)).toBe(true);
    const cuts = new Set<number>();
    for (let k = 0; k < 10; k++) cuts.add(Math.floor((full.length * k) / 10));
    for (const d of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16]) cuts.add(full.length - d);
    for (const n of cuts) {
      const r = readScan(full.subarray(0, n), { relPath: c.rel_path });
      expect(r.kind, `${name} cut at ${n}/${full.length}: ${r.kind === 'ok' ? '' : r.reason}`).toBe('incomplete');
      expect(isComplete(full.subarray(0, n))).toBe(false);
    }
  });
});

describe('truncation at every byte', () => {
  it.each(['feather_lz4', 'stream_legacy', 'long_file_lz4', 'stream_lz4_two_batches', 'file_plain_types'])('%s: all prefixes are incomplete', (name) => {
    const c = good(name);
    const full = bytesOf(c);
    const wrong: string[] = [];
    for (let n = 0; n < full.length; n++) {
      const r = readScan(full.subarray(0, n), { relPath: c.rel_path });
      if (r.kind !== 'incomplete') wrong.push(`${n}: ${r.kind} ${r.kind === 'ok' ? '' : r.reason}`);
    }
    expect(wrong).toEqual([]);
  });

  it('pitfall: apache-arrow itself reads some prefixes without error (so completeness is checked first)', () => {
    registerCompression();
    const c = good('stream_legacy');
    const full = bytesOf(c);
    let silent = 0;
    for (let n = 0; n < full.length; n++) {
      try {
        tableFromIPC(full.slice(0, n));
        silent++; // a truncated file that parses: 0 bytes, schema-only prefixes, missing end-of-stream...
      } catch {
        /* expected for most prefixes */
      }
    }
    expect(silent).toBeGreaterThan(0);
  });
});

describe.each(BAD)('bad fixture %s', (name) => {
  it('is classified as expected', () => {
    const c = cases.get(name)!;
    expect(c.kind).not.toBe('ok');
    const r = readScan(bytesOf(c), { relPath: c.rel_path });
    expect(r.kind, r.kind === 'ok' ? 'ok' : r.reason).toBe(c.kind);
    if (r.kind !== 'ok' && c.kind !== 'ok' && c.reason_includes) expect(r.reason).toContain(c.reason_includes);
  });
});

describe('readScan robustness', () => {
  it('reads from a buffer that is not 8-byte aligned', () => {
    const c = good('file_zstd');
    const bytes = bytesOf(c);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const r = readScan(shifted.subarray(3), { relPath: c.rel_path });
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') expect(r.scan.body.prices).toEqual(c.body.prices);
  });

  it('reads from a Node Buffer', () => {
    const c = good('feather_lz4');
    const r = readScan(readFileSync(join(outDir, c.dir, c.rel_path)), { relPath: c.rel_path });
    expect(r.kind).toBe('ok');
  });

  it('never throws on garbage', () => {
    const c = good('feather_lz4');
    const full = bytesOf(c);
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let t = 0; t < 300; t++) {
      const b = new Uint8Array(full);
      // flip a few bytes inside a valid file, keeping the magic at both ends
      for (let k = 0; k < 4; k++) b[8 + (((rnd() << 8) | rnd()) % (b.length - 16))] = rnd();
      const r = readScan(b, { relPath: c.rel_path });
      expect(['ok', 'broken', 'incomplete']).toContain(r.kind);
    }
    for (const s of ['', '{', '[1,2]', 'ARROW1', 'PAR1xxxxxxxx', '\xff\xff\xff\xff\x00\x00\x00\x00']) {
      expect(() =>
        readScan(
          Uint8Array.from(s, (ch) => ch.charCodeAt(0)),
          { relPath: 'a.arrow' },
        ),
      ).not.toThrow();
    }
  });

  it('an end-of-stream marker alone is broken, not ok', () => {
    const r = readScan(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), { relPath: 'x.arrow' });
    expect(r.kind).toBe('broken');
  });
});

describe('classifyBytes / isComplete', () => {
  const b = (...xs: number[]) => new Uint8Array(xs);
  const s = (str: string) => Uint8Array.from(str, (ch) => ch.charCodeAt(0));
  it('classifies', () => {
    expect(classifyBytes(b())).toBe('empty');
    expect(classifyBytes(s('ARROW1\0\0'))).toBe('file');
    expect(classifyBytes(s('ARR'))).toBe('file');
    expect(classifyBytes(b(0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0))).toBe('stream');
    expect(classifyBytes(s('PAR1\0\0\0\0'))).toBe('unknown');
    expect(classifyBytes(s('{"scan_number": 1}'))).toBe('unknown');
    expect(classifyBytes(bytesOf(good('stream_legacy')))).toBe('stream');
    expect(classifyBytes(bytesOf(good('feather_lz4')))).toBe('file');
    expect(classifyBytes(bytesOf(good('long_stream_zstd')))).toBe('stream');
  });
  it('checks completeness', () => {
    expect(isComplete(b())).toBe(false);
    expect(isComplete(s('ARROW1\0\0'))).toBe(false);
    expect(isComplete(s('ARROW1\0\0ARROW1'))).toBe(false);
    expect(isComplete(bytesOf(good('stream_legacy')))).toBe(true);
  });
});

/** A vector of `type` over raw values, as a file would hold them. */
function rawVector(type: DataType, values: BigInt64Array | Int32Array): Vector {
  return makeVector(makeData({ type, length: values.length, data: values } as never));
}

describe('cell values (vectorToJson: the one converter)', () => {
  it('64-bit integers: number within ±(2^53−1), else decimal string', () => {
    expect(vectorToJson(vectorFromArray([2n ** 53n - 1n, -(2n ** 53n - 1n), 2n ** 53n, -(2n ** 63n)], new Int64()))).toEqual([
      9007199254740991,
      -9007199254740991,
      '9007199254740992',
      '-9223372036854775808',
    ]);
    expect(vectorToJson(vectorFromArray([2n ** 64n - 1n], new Uint64()))).toEqual(['18446744073709551615']);
    expect(vectorToJson(vectorFromArray([7], new Int32()))).toEqual([7]);
  });

  it('NaN and ±Infinity become null, null stays null', () => {
    expect(vectorToJson(vectorFromArray([NaN, Infinity, -Infinity, null, undefined, -0.25], new Float64()))).toEqual([null, null, null, null, null, -0.25]);
  });

  it('timestamps → ISO-8601 UTC with ms; dates → YYYY-MM-DD', () => {
    // the raw count in the column's unit
    expect(vectorToJson(rawVector(new TimestampNanosecond('UTC'), BigInt64Array.of(1795774500123456789n)))).toEqual(['2026-11-27T10:15:00.123Z']);
    expect(vectorToJson(rawVector(new Timestamp(TimeUnit.SECOND, 'UTC'), BigInt64Array.of(1795774500n)))).toEqual(['2026-11-27T10:15:00.000Z']);
    expect(vectorToJson(rawVector(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), BigInt64Array.of(-1n)))).toEqual(['1969-12-31T23:59:59.999Z']);
    expect(vectorToJson(rawVector(new DateDay(), Int32Array.of(1795737600000 / 86400000)))).toEqual(['2026-11-27']);
  });

  it('lists keep inner nulls (Float64Array would turn them into 0)', () => {
    const listType = new List(new Field('item', new Float64(), true));
    const vec = vectorFromArray(
      [
        [1.5, null, NaN, 2],
        [1, null],
      ],
      listType,
    );
    expect(Array.from(vec.get(0)!.toArray())).toEqual([1.5, 0, NaN, 2]); // the pitfall
    expect(vectorToJson(vec)).toEqual([
      [1.5, null, null, 2],
      [1, null],
    ]);
  });

  it('structs → objects, dictionaries → decoded values', () => {
    const st = new Struct([new Field('a', new Int64(), true), new Field('b', new Utf8(), true)]);
    expect(vectorToJson(vectorFromArray([{ a: 2n ** 60n, b: null }], st))).toEqual([{ a: '1152921504606846976', b: null }]);
    const dict = new Dictionary(new Utf8(), new Int32());
    expect(vectorToJson(vectorFromArray(['BULL', 'BEAR', 'BULL'], dict))).toEqual(['BULL', 'BEAR', 'BULL']);
  });

  it('maps → objects when the keys are strings, else [key, value] pairs; null maps stay null', () => {
    const entries = (key: DataType, value: DataType) =>
      new Field('entries', new Struct<{ key: DataType; value: DataType }>([new Field('key', key, false), new Field('value', value, true)]), false);
    const byName = vectorFromArray(
      [
        new Map([
          ['maker', 0.0002],
          ['taker', NaN],
        ]),
        null,
      ],
      new Map_(entries(new Utf8(), new Float64())) as never,
    );
    expect(vectorToJson(byName)).toEqual([{ maker: 0.0002, taker: null }, null]);
    const byNumber = vectorFromArray(
      [
        new Map([
          [1, 'a'],
          [2, null],
        ]),
      ],
      new Map_(entries(new Int32(), new Utf8())) as never,
    );
    expect(vectorToJson(byNumber)).toEqual([
      [
        [1, 'a'],
        [2, null],
      ],
    ]);
  });
});

describe('scan-level value parsing', () => {
  it('parses timestamps from ISO-8601 and epochs', () => {
    expect(parseTimestamp('2026-11-27T10:15:40.250+00:00')).toBe(1795774540250);
    expect(parseTimestamp('2026-11-27T11:15:40.250+01:00')).toBe(1795774540250);
    expect(parseTimestamp('2026-11-27T10:15:40.250123Z')).toBe(1795774540250);
    expect(parseTimestamp('2026-11-27 10:15:40')).toBe(1795774540000); // no zone: UTC
    expect(parseTimestamp('1795774540')).toBe(1795774540000);
    expect(parseTimestamp('1795774540.25')).toBe(1795774540250);
    expect(parseTimestamp('1795774540250')).toBe(1795774540250);
    expect(parseTimestamp('1795774540250123')).toBe(1795774540250);
    expect(parseTimestamp('1795774540250123456')).toBe(1795774540250);
    expect(parseTimestamp(1795774540.5)).toBe(1795774540500);
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp('2026-13-01T00:00:00Z')).toBeUndefined();
  });

  it('parses the file name and day folder', () => {
    expect(parseScanPath('2026-11-27/scan_000123_101500.arrow')).toEqual({ scanNumber: 123, timestampMs: 1795774500000 });
    expect(parseScanPath('2026-11-27/scan_000123_101500.tmp')).toEqual({});
    expect(parseScanPath('scan_000123_101500.arrow')).toEqual({ scanNumber: 123 });
  });

  it('turns metadata strings into numbers only when they round-trip', () => {
    expect(metadataValue('131')).toBe(131);
    expect(metadataValue('0.4375')).toBe(0.4375);
    expect(metadataValue('nan')).toBeNull();
    expect(metadataValue('2.0')).toBe('2.0');
    expect(metadataValue('007')).toBe('007');
    expect(metadataValue('9007199254740993')).toBe('9007199254740993');
    expect(metadataValue('50,150,300,750')).toBe('50,150,300,750');
  });
});

describe('buildPayload', () => {
  const scan: Scan = {
    scanNumber: 42,
    timestampMs: 1795774500123,
    assetCount: 2,
    layout: 'wide',
    body: {
      scan_number: 41,
      timestamp: '1999-01-01T00:00:00.000Z',
      asset_count: 99,
      source_file: 'forged',
      bridge_id: 'forged',
      written_at_ms: 0,
      timestamp_ms: 0,
      regime: 'BULL',
      assets: ['BTCUSDT', '币安币USDT'],
      prices: [95000.5, null],
    },
  };

  it('puts the bridge fields first and lets them win over the body', () => {
    const p = JSON.parse(buildPayload(scan, META)) as Record<string, unknown>;
    expect(p).toEqual({
      scan_number: 42,
      timestamp: '2026-11-27T10:15:00.123Z',
      timestamp_ms: 1795774500123,
      written_at_ms: META.writtenAtMs,
      asset_count: 2,
      source_file: META.sourceFile,
      bridge_id: META.bridgeId,
      regime: 'BULL',
      assets: ['BTCUSDT', '币安币USDT'],
      prices: [95000.5, null],
    });
    expect(Object.keys(p)).toEqual([...BRIDGE_FIELDS, 'regime', 'assets', 'prices']);
  });

  it("is accepted by Python's json.loads", () => {
    const c = good('stream_zstd_big');
    const payload = buildPayload(readOk(c), META);
    const script = [
      'import json, sys',
      'd = json.loads(sys.stdin.buffer.read().decode("utf-8"))',
      'print(json.dumps({"keys": list(d)[:7], "scan": d["scan_number"], "n": len(d["assets"]),',
      '  "sym": d["assets"][2], "hole": d["prices"][3], "nan": d["prices"][2], "ts": d["timestamp"]}))',
    ].join('\n');
    const out = JSON.parse(execFileSync('python3', ['-c', script], { input: payload }).toString('utf8')) as unknown;
    expect(out).toEqual({
      keys: [...BRIDGE_FIELDS],
      scan: 127,
      n: 2500,
      sym: '币安币USDT',
      hole: null,
      nan: null,
      ts: new Date(c.timestamp_ms).toISOString(),
    });
  });
});

describe('compression codecs', () => {
  function sample(kind: string, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let seed = n + kind.length;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let i = 0; i < n; i++) {
      if (kind === 'random') out[i] = rnd();
      else if (kind === 'zeros') out[i] = 0;
      else if (kind === 'text') out[i] = 'BTCUSDT ETHUSDT 95000.25 '.charCodeAt(i % 25);
      else out[i] = i % 7 === 0 ? rnd() : (i * 31) & 0xff; // mixed
    }
    if (kind === 'float64') {
      const f = new Float64Array(out.buffer, 0, n >> 3);
      for (let i = 0; i < f.length; i++) f[i] = 95000 + (i % 13) * 0.25;
    }
    return out;
  }

  it('registers both decoders, idempotently', () => {
    registerCompression();
    registerCompression();
    expect(compressionRegistry.get(CompressionType.LZ4_FRAME)).toMatchObject({ decode: decodeLz4Frame });
    expect(compressionRegistry.get(CompressionType.ZSTD)).toMatchObject({ decode: decodeZstd });
  });

  it.each(['random', 'zeros', 'text', 'mixed', 'float64'])('LZ4 frames (%s) decode like lz4js does', (kind) => {
    for (const n of [1, 15, 16, 17, 100, 4096, 65535, 65536, 65537, 300_000]) {
      const input = sample(kind, n);
      const frame = lz4js.compress(input);
      const out = decodeLz4Frame(frame);
      expect(out.byteOffset % 8).toBe(0);
      expect(Buffer.from(out).equals(Buffer.from(input)), `${kind} ${n}`).toBe(true);
      expect(Buffer.from(out).equals(Buffer.from(lz4js.decompress(frame)))).toBe(true);
      // As arrow hands it over: int64 uncompressed length right before the frame, same buffer.
      for (const prefix of [n, n - 1, n + 1, 0, 1 << 30]) {
        const withPrefix = new Uint8Array(8 + frame.length);
        new DataView(withPrefix.buffer).setBigInt64(0, BigInt(prefix), true);
        withPrefix.set(frame, 8);
        expect(Buffer.from(decodeLz4Frame(withPrefix.subarray(8))).equals(Buffer.from(input)), `${kind} ${n} prefix ${prefix}`).toBe(true);
      }
    }
  });

  it('LZ4: corrupted frames throw quickly instead of spinning', () => {
    // One block: token 0x1F (1 literal, match length 15 + extension), literal 'A', offset 1, then
    // a match length of 300 * 255: more than the frame's 64 KiB block size allows.
    const block = [0x1f, 0x41, 0x01, 0x00, ...new Array<number>(300).fill(0xff), 0x00];
    const size = [block.length & 0xff, block.length >> 8, 0, 0];
    const frame = new Uint8Array([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, ...size, ...block, 0, 0, 0, 0]);
    // A spinning decoder would run into the test's timeout.
    expect(() => decodeLz4Frame(frame)).toThrow(/LZ4 frame/);
    const good = lz4js.compress(sample('text', 100_000));
    let seed = 3;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    for (let t = 0; t < 300; t++) {
      const bad = new Uint8Array(good);
      for (let k = 0; k < 3; k++) bad[7 + (((rnd() << 8) | rnd()) % (bad.length - 7))] = rnd();
      try {
        decodeLz4Frame(bad);
      } catch (e) {
        expect(String(e)).toMatch(/LZ4 frame/);
      }
    }
  });
});
