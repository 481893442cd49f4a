import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayFolder, newestScanOnDisk, scanFileName } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan, writeScanAtomically, type ScanRow } from '../src/demo/scan-writer.js';
import { runDemoScanner } from '../src/demo/scanner.js';

/** Reads Arrow IPC files with pyarrow (the real consumers' library) and returns plain JSON. */
const PY_READER = String.raw`
import json, sys
import pyarrow as pa, pyarrow.ipc as ipc

out = []
for p in sys.argv[1:]:
    fmt = 'file'
    try:
        t = ipc.open_file(p).read_all()
    except pa.ArrowInvalid:
        fmt = 'stream'
        t = ipc.open_stream(p).read_all()
    types = {}
    for f in t.schema:
        ty = f.type
        types[f.name] = 'list<' + str(ty.value_type) + '>' if pa.types.is_list(ty) else str(ty)
    cols = {}
    for name in t.column_names:
        col = t.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        cols[name] = col.to_pylist()
    meta = {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()}
    out.append({'path': p, 'format': fmt, 'rows': t.num_rows, 'types': types, 'columns': cols, 'metadata': meta})
print(json.dumps(out))
`;

interface PyTable {
  path: string;
  format: 'file' | 'stream';
  rows: number;
  types: Record<string, string>;
  columns: Record<string, unknown[]>;
  metadata: Record<string, string>;
}

function readWithPyarrow(...files: string[]): PyTable[] {
  const out = execFileSync('python3', ['-c', PY_READER, ...files], { encoding: 'utf8' });
  return JSON.parse(out) as PyTable[];
}

/** The values pyarrow should return for a row: every column as a one-element list. */
function expectedColumns(row: ScanRow): Record<string, unknown[]> {
  const cols: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(row)) cols[k] = [v instanceof Date ? v.getTime() : v];
  return cols;
}

const FLOAT_COLUMNS = [
  'w50_lambda_max',
  'w150_lambda_max',
  'w300_lambda_max',
  'w750_lambda_max',
  'w50_velocity',
  'w150_velocity',
  'w300_velocity',
  'w750_velocity',
  'vel_div',
  'instability',
];

function silentLogger(lines: Array<{ msg: string } & Record<string, unknown>>) {
  return pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string } & Record<string, unknown>) });
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'scan-bridge-demo-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('makeScan', () => {
  it('is deterministic for a seed and produces plausible values', () => {
    const time = new Date('2026-11-27T10:15:00.123Z');
    const a = makeScan({ scanNumber: 42, time, assets: 400, seed: 7 });
    const b = makeScan({ scanNumber: 42, time, assets: 400, seed: 7 });
    expect(a).toEqual(b);
    expect(makeScan({ scanNumber: 42, time, assets: 400, seed: 8 }).w50_lambda_max).not.toBe(a.w50_lambda_max);

    expect(a.scan_number).toBe(42);
    expect(a.timestamp.getTime()).toBe(time.getTime());
    for (const w of [50, 150, 300, 750]) {
      const l = a[`w${w}_lambda_max` as keyof ScanRow] as number;
      expect(l).toBeGreaterThanOrEqual(1);
      expect(l).toBeLessThanOrEqual(50);
      expect(Math.abs(a[`w${w}_velocity` as keyof ScanRow] as number)).toBeLessThan(10);
    }
    expect(['BULL', 'BEAR', 'SIDEWAYS', 'TRANSITION']).toContain(a.regime);
    expect(a.assets).toHaveLength(400);
    expect(new Set(a.assets).size).toBe(400);
    expect(a.assets.slice(0, 2)).toEqual(['BTCUSDT', 'ETHUSDT']);
    for (const s of a.assets) expect(s).toMatch(/^[A-Z0-9]+USDT$/);
    expect(a.prices).toHaveLength(400);
    expect(a.prices.every((p) => Number.isFinite(p) && p > 0)).toBe(true);
    expect(a.loadings).toHaveLength(400);
    expect(a.loadings.every((l) => l >= -1 && l <= 1)).toBe(true);
  });

  it('keeps symbols unique for large universes', () => {
    const r = makeScan({ scanNumber: 1, time: new Date(), assets: 5000 });
    expect(new Set(r.assets).size).toBe(5000);
  });
});

describe('encodeScan + pyarrow', () => {
  it('writes the canonical schema, values and metadata in file and stream format', async () => {
    const row = makeScan({ scanNumber: 123456, time: new Date('2026-11-27T23:59:58.765Z'), assets: 150, seed: 3 });
    // a few awkward values: null vel_div, non-ASCII symbol
    const rowNull: ScanRow = { ...row, scan_number: 123457, vel_div: null, assets: [...row.assets.slice(0, 149), 'ÆØÅ币USDT'] };
    const dir = path.join(tmp, 'encode');
    await mkdir(dir, { recursive: true });
    const files = {
      file: path.join(dir, 'a.arrow'),
      stream: path.join(dir, 'b.arrow'),
      nulls: path.join(dir, 'c.arrow'),
    };
    await writeFile(files.file, encodeScan(row));
    await writeFile(files.stream, encodeScan(row, 'stream'));
    await writeFile(files.nulls, encodeScan(rowNull, 'file'));

    const [file, stream, nulls] = readWithPyarrow(files.file, files.stream, files.nulls);
    expect(file!.format).toBe('file');
    expect(stream!.format).toBe('stream');

    for (const t of [file!, stream!]) {
      expect(t.rows).toBe(1);
      expect(t.types.scan_number).toBe('int64');
      expect(t.types.timestamp).toBe('timestamp[ms, tz=UTC]');
      for (const c of FLOAT_COLUMNS) expect(t.types[c], c).toBe('double');
      expect(t.types.regime).toBe('string');
      expect(t.types.assets).toBe('list<string>');
      expect(t.types.prices).toBe('list<double>');
      expect(t.types.loadings).toBe('list<double>');
      expect(Object.keys(t.types)).toEqual(Object.keys(row));
      expect(t.metadata).toEqual({ scanner_version: 'scan-bridge-demo/0.1', windows: '50,150,300,750' });
      expect(t.columns).toEqual(expectedColumns(row));
    }
    expect(nulls!.columns).toEqual(expectedColumns(rowNull));
    expect(nulls!.columns.vel_div).toEqual([null]);
  });
});

describe('file names and atomic writes', () => {
  it('names files per the contract (UTC)', () => {
    const t = new Date('2026-01-05T03:04:05.999Z');
    expect(scanFileName(42, t)).toBe('scan_000042_030405.arrow');
    expect(scanFileName(1234567, t)).toBe('scan_1234567_030405.arrow');
    expect(dayFolder(t)).toBe('2026-01-05');
    expect(dayFolder(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
  });

  it('writes into the day folder via a dot-tmp file and leaves no tmp behind', async () => {
    const dir = path.join(tmp, 'atomic');
    const row = makeScan({ scanNumber: 9, time: new Date('2026-11-27T10:15:00Z'), assets: 20 });
    const final = await writeScanAtomically(dir, row);
    expect(final).toBe(path.join(dir, '2026-11-27', 'scan_000009_101500.arrow'));
    expect(await readdir(path.join(dir, '2026-11-27'))).toEqual(['scan_000009_101500.arrow']);
    const [t] = readWithPyarrow(final);
    expect(t!.columns).toEqual(expectedColumns(row));

    // explicit bytes are written verbatim
    const row2 = { ...row, scan_number: 10 };
    const final2 = await writeScanAtomically(dir, row2, encodeScan(row2, 'stream'));
    expect(readWithPyarrow(final2)[0]!.format).toBe('stream');
    expect((await readdir(path.join(dir, '2026-11-27'))).sort()).toEqual(['scan_000009_101500.arrow', 'scan_000010_101500.arrow']);
  });
});

describe('runDemoScanner', () => {
  it('continues after the highest existing scan number and writes count scans', async () => {
    const dir = path.join(tmp, 'scanner');
    await mkdir(path.join(dir, '2026-11-26'), { recursive: true });
    await writeFile(
      path.join(dir, '2026-11-26', 'scan_000041_235959.arrow'),
      encodeScan(makeScan({ scanNumber: 41, time: new Date('2026-11-26T23:59:59Z'), assets: 5 })),
    );
    await writeFile(path.join(dir, '2026-11-26', 'scan_000007_000000.arrow'), '');
    await writeFile(path.join(dir, '2026-11-26', '.scan_000099_000000.arrow.tmp'), ''); // ignored
    await mkdir(path.join(dir, 'not-a-day'), { recursive: true });
    await writeFile(path.join(dir, 'not-a-day', 'scan_000500_000000.arrow'), ''); // ignored
    expect(await newestScanOnDisk(dir)).toBe(41);

    const lines: Array<{ msg: string } & Record<string, unknown>> = [];
    const t0 = Date.now();
    await runDemoScanner({ arrowDir: dir, intervalMs: 50, assets: 12, count: 3, log: silentLogger(lines) });
    // drift-free schedule: 3 scans at 0, 50, 100 ms
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);

    const preexisting = new Set(['scan_000041_235959.arrow', 'scan_000007_000000.arrow', '.scan_000099_000000.arrow.tmp']);
    const written: string[] = [];
    for (const day of await readdir(dir)) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) continue;
      for (const f of await readdir(path.join(dir, day))) {
        if (preexisting.has(f)) continue;
        expect(f.startsWith('.') || f.endsWith('.tmp'), f).toBe(false);
        written.push(path.join(dir, day, f));
      }
    }
    written.sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
    expect(written.map((f) => path.basename(f).slice(0, 12))).toEqual(['scan_000042_', 'scan_000043_', 'scan_000044_']);
    for (const f of written) expect(path.basename(f)).toMatch(/^scan_\d{6}_\d{6}\.arrow$/);

    const tables = readWithPyarrow(...written);
    expect(tables.map((t) => t.columns.scan_number)).toEqual([[42], [43], [44]]);
    for (const t of tables) {
      expect(t.columns.assets![0]).toHaveLength(12);
      const ts = t.columns.timestamp![0] as number;
      expect(path.basename(path.dirname(t.path))).toBe(dayFolder(new Date(ts)));
      expect(path.basename(t.path)).toBe(scanFileName(t.columns.scan_number![0] as number, new Date(ts)));
    }

    const msgs = lines.map((l) => l.msg).filter((m) => m.startsWith('wrote scan'));
    expect(msgs).toHaveLength(3);
    expect(msgs[0]).toMatch(/^wrote scan #42 \(12 assets\) to \d{4}-\d{2}-\d{2}\/scan_000042_\d{6}\.arrow$/);
  });

  it('starts at 1 in an empty or missing directory and stops when aborted', async () => {
    const dir = path.join(tmp, 'fresh', 'arrow');
    const ac = new AbortController();
    const lines: Array<{ msg: string } & Record<string, unknown>> = [];
    const log = silentLogger(lines);
    const origInfo = log.info.bind(log);
    // abort right after the first scan is logged
    log.info = (obj: unknown, msg?: string) => {
      origInfo(obj as object, msg);
      if (typeof msg === 'string' && msg.startsWith('wrote scan')) ac.abort();
    };
    await runDemoScanner({ arrowDir: dir, intervalMs: 10_000, assets: 3, log, signal: ac.signal });
    const days = await readdir(dir);
    expect(days).toHaveLength(1);
    const files = await readdir(path.join(dir, days[0]!));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^scan_000001_\d{6}\.arrow$/);
  });

  it('logs a write error and keeps going', async () => {
    const base = path.join(tmp, 'broken');
    await mkdir(base, { recursive: true });
    const blocker = path.join(base, 'arrow');
    await writeFile(blocker, 'not a directory'); // every mkdir under it fails
    const lines: Array<{ msg: string; level: number } & Record<string, unknown>> = [];
    await runDemoScanner({
      arrowDir: blocker,
      intervalMs: 20,
      assets: 3,
      count: 2,
      startScanNumber: 5,
      log: silentLogger(lines),
    });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(2);
    expect(errors[0]!.msg).toMatch(/^could not write scan #5 /);
    expect(errors[1]!.msg).toMatch(/^could not write scan #5 /);
  });
});
