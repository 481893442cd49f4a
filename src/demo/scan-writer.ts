/**
 * Generation and writing of canonical "wide" scan files (one row per scan), as described in
 * docs/scan-format.md. Used by the demo scanner, tests and benchmarks.
 */
import {
  Field,
  Float64,
  Int64,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
  type Data,
  type Vector,
} from 'apache-arrow';
import { writeScanFile } from '../bridge/watch/scan-files.js';

export const SCANNER_VERSION = 'scan-bridge-demo/0.1';
export const WINDOWS = [50, 150, 300, 750] as const;
export const REGIMES = ['BULL', 'BEAR', 'SIDEWAYS', 'TRANSITION'] as const;
export type Regime = (typeof REGIMES)[number];

/** One canonical wide scan row. Column names match the file contract exactly. */
export interface ScanRow {
  scan_number: number;
  timestamp: Date;
  w50_lambda_max: number;
  w150_lambda_max: number;
  w300_lambda_max: number;
  w750_lambda_max: number;
  w50_velocity: number;
  w150_velocity: number;
  w300_velocity: number;
  w750_velocity: number;
  /** may be null (or NaN) per the contract; makeScan always produces a finite number */
  vel_div: number | null;
  instability: number;
  regime: Regime;
  assets: string[];
  prices: number[];
  loadings: number[];
}

export interface MakeScanOptions {
  scanNumber: number;
  time: Date;
  assets: number;
  seed?: number;
}

export const DEFAULT_SEED = 0x5eed;

/** mulberry32: tiny, fast, good-enough 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes integers into one 32-bit seed (stateless hash, so values depend only on inputs). */
function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** A stateless uniform value in [0, 1) for the given integer coordinates. */
function unit(...parts: number[]): number {
  return mulberry32(hashSeed(...parts))();
}

const BASE_SYMBOLS = [
  'BTC',
  'ETH',
  'BNB',
  'SOL',
  'XRP',
  'ADA',
  'DOGE',
  'TRX',
  'AVAX',
  'DOT',
  'LINK',
  'MATIC',
  'TON',
  'SHIB',
  'LTC',
  'BCH',
  'UNI',
  'ATOM',
  'XLM',
  'ETC',
  'FIL',
  'APT',
  'ARB',
  'OP',
  'NEAR',
  'ICP',
  'HBAR',
  'VET',
  'INJ',
  'SUI',
  'AAVE',
  'GRT',
  'ALGO',
  'SAND',
  'MANA',
  'AXS',
  'EGLD',
  'THETA',
  'XTZ',
  'EOS',
  'FTM',
  'RUNE',
  'KAVA',
  'CRV',
  'MKR',
  'SNX',
  'COMP',
  'LDO',
  'DYDX',
  'GALA',
  'CHZ',
  'ENJ',
  'ZIL',
  'IOTA',
  'NEO',
  'QTUM',
  'ONE',
  'KSM',
  'ZEC',
  'DASH',
  'WAVES',
  'BAT',
  'ZRX',
  'SUSHI',
  'YFI',
  '1INCH',
  'CELO',
  'ROSE',
  'FLOW',
  'MINA',
  'IMX',
  'STX',
  'PEPE',
  'WIF',
  'BONK',
  'FLOKI',
  'JUP',
  'TIA',
  'SEI',
  'PYTH',
  'ORDI',
  'RNDR',
  'FET',
  'AGIX',
  'OCEAN',
  'WLD',
  'BLUR',
  'CFX',
  'GMX',
  'MASK',
  'ANKR',
  'ICX',
  'IOST',
  'ONT',
  'RVN',
  'SKL',
  'STORJ',
  'SXP',
  'HOT',
  'CELR',
] as const;

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const baseSet = new Set<string>(BASE_SYMBOLS);
const symbolCache: string[] = BASE_SYMBOLS.map((b) => `${b}USDT`);
let synthCounter = 0;

/** Synthetic 3+ letter ticker for counter n (bijective base-26, offset so it has ≥ 3 letters). */
function synthTicker(n: number): string {
  let k = n + 26 * 26 + 26; // skip the 1- and 2-letter codes
  let s = '';
  while (k >= 0) {
    s = LETTERS[k % 26] + s;
    k = Math.floor(k / 26) - 1;
  }
  return s;
}

/**
 * The first `n` symbols of the demo universe: well-known USDT pairs first, then unique synthetic
 * tickers (e.g. `AABUSDT`). Stable: symbol i is the same for every n > i.
 */
export function assetSymbols(n: number): string[] {
  while (symbolCache.length < n) {
    const t = synthTicker(synthCounter++);
    if (!baseSet.has(t)) symbolCache.push(`${t}USDT`);
  }
  return symbolCache.slice(0, n);
}

// Scan generation: values are smooth functions of the scan number plus a little noise, so
// consecutive scans look like a continuous market.

const LAMBDA_BASE: Record<(typeof WINDOWS)[number], number> = { 50: 8, 150: 14, 300: 22, 750: 32 };

function lambdaMax(seed: number, wi: number, n: number): number {
  const w = WINDOWS[wi]!;
  const base = LAMBDA_BASE[w];
  const p1 = unit(seed, 101, wi) * 2 * Math.PI;
  const p2 = unit(seed, 102, wi) * 2 * Math.PI;
  // longer windows move more slowly
  const slow = Math.sin(n / (40 + wi * 25) + p1);
  const fast = Math.sin(n / (7 + wi * 3) + p2);
  const noise = (unit(seed, 103, wi, n) - 0.5) * 0.6;
  const v = base + base * 0.35 * slow + base * 0.08 * fast + noise;
  return Math.min(50, Math.max(1, v));
}

function price(seed: number, i: number, n: number): number {
  const r = unit(seed, 201, i);
  // log-uniform base price between 0.00001 and ~100000; BTC/ETH-ish levels for the first two
  const base = i === 0 ? 65000 : i === 1 ? 3400 : Math.pow(10, -5 + r * 10);
  const p1 = unit(seed, 202, i) * 2 * Math.PI;
  // shared market factor (weighted by the asset's beta) plus an idiosyncratic part
  const beta = 0.5 + unit(seed, 204, i);
  const market = 0.05 * Math.sin(n / 15 + unit(seed, 205) * 2 * Math.PI);
  const drift = beta * market + 0.04 * Math.sin(n / (30 + (i % 17)) + p1) + 0.01 * Math.sin(n / 5 + p1 * 3);
  const noise = (unit(seed, 203, i, n) - 0.5) * 0.002;
  const v = base * Math.exp(drift + noise);
  // round to a realistic tick (8 significant digits)
  return Number(v.toPrecision(8));
}

function loading(seed: number, i: number, n: number): number {
  const centre = unit(seed, 301, i) * 1.6 - 0.8;
  const p = unit(seed, 302, i) * 2 * Math.PI;
  const v = centre + 0.15 * Math.sin(n / 20 + p) + (unit(seed, 303, i, n) - 0.5) * 0.05;
  return Math.min(1, Math.max(-1, v));
}

/** Builds a realistic canonical scan row. Deterministic for given options. */
export function makeScan(opts: MakeScanOptions): ScanRow {
  const { scanNumber: n, time } = opts;
  const seed = (opts.seed ?? DEFAULT_SEED) >>> 0;
  const count = Math.max(0, Math.floor(opts.assets));

  const lambdas = WINDOWS.map((_, wi) => lambdaMax(seed, wi, n));
  const velocities = WINDOWS.map((_, wi) => lambdas[wi]! - lambdaMax(seed, wi, n - 1));
  const velDiv = velocities[0]! - velocities[1]!;

  const assets = assetSymbols(count);
  const prices = new Array<number>(count);
  const loadings = new Array<number>(count);
  let ret = 0;
  for (let i = 0; i < count; i++) {
    const p = price(seed, i, n);
    prices[i] = p;
    loadings[i] = loading(seed, i, n);
    ret += Math.log(p / price(seed, i, n - 1));
  }
  const meanRet = count > 0 ? ret / count : 0;

  const instability = Math.min(1, Math.abs(velocities[0]!) / 2 + Math.abs(velDiv) / 3 + unit(seed, 401, n) * 0.2);
  let regime: Regime;
  if (instability > 0.55) regime = 'TRANSITION';
  else if (meanRet > 0.001) regime = 'BULL';
  else if (meanRet < -0.001) regime = 'BEAR';
  else regime = 'SIDEWAYS';

  return {
    scan_number: n,
    timestamp: new Date(time.getTime()),
    w50_lambda_max: lambdas[0]!,
    w150_lambda_max: lambdas[1]!,
    w300_lambda_max: lambdas[2]!,
    w750_lambda_max: lambdas[3]!,
    w50_velocity: velocities[0]!,
    w150_velocity: velocities[1]!,
    w300_velocity: velocities[2]!,
    w750_velocity: velocities[3]!,
    vel_div: velDiv,
    instability,
    regime,
    assets,
    prices,
    loadings,
  };
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
] as const satisfies readonly (keyof ScanRow)[];

const listOf = <T extends Utf8 | Float64>(t: T) => new List<T>(new Field('item', t, true));

/** The canonical wide schema (with its metadata) that encodeScan writes. */
export function canonicalSchema(): Schema {
  const fields: Field[] = [
    new Field('scan_number', new Int64(), true),
    new Field('timestamp', new TimestampMillisecond('UTC'), true),
    ...FLOAT_COLUMNS.map((c) => new Field(c, new Float64(), true)),
    new Field('regime', new Utf8(), true),
    new Field('assets', listOf(new Utf8()), true),
    new Field('prices', listOf(new Float64()), true),
    new Field('loadings', listOf(new Float64()), true),
  ];
  const metadata = new Map([
    ['scanner_version', SCANNER_VERSION],
    ['windows', WINDOWS.join(',')],
  ]);
  return new Schema(fields, metadata);
}

/** Builds the one-row Arrow table for a scan. */
export function scanTable(row: ScanRow): Table {
  const schema = canonicalSchema();
  const columns: Vector[] = [
    vectorFromArray([BigInt(row.scan_number)], new Int64()),
    vectorFromArray([row.timestamp.getTime()], new TimestampMillisecond('UTC')),
    ...FLOAT_COLUMNS.map((c) => vectorFromArray([row[c]], new Float64())),
    vectorFromArray([row.regime], new Utf8()),
    vectorFromArray([row.assets], listOf(new Utf8())),
    vectorFromArray([row.prices], listOf(new Float64())),
    vectorFromArray([row.loadings], listOf(new Float64())),
  ];
  const data = makeData({
    type: new Struct(schema.fields),
    length: 1,
    nullCount: 0,
    children: columns.map((v) => v.data[0] as Data),
  });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

/** Serialises a scan as Arrow IPC (`file` format by default, or `stream`). */
export function encodeScan(row: ScanRow, format: 'file' | 'stream' = 'file'): Uint8Array {
  return tableToIPC(scanTable(row), format);
}

/** Writes the scan atomically under its contract name (see `writeScanFile`); returns the final path. */
export async function writeScanAtomically(arrowDir: string, row: ScanRow, bytes?: Uint8Array): Promise<string> {
  return writeScanFile(arrowDir, row.scan_number, row.timestamp, bytes ?? encodeScan(row));
}
