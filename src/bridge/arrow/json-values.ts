/**
 * The JSON value rules of the contract (docs/scan-format.md), one scalar at a time. The cell
 * readers (cells.ts) apply them to Arrow buffers; the scan's metadata strings go through
 * `metadataValue`.
 * - 64-bit integers: a number within ±(2^53−1), else the decimal string;
 * - NaN/±Infinity → null;
 * - timestamps → ISO-8601 UTC with milliseconds (floored), `null` when out of range; dates → `YYYY-MM-DD`;
 * - binary → base64; decimals → exact decimal strings;
 * - metadata strings → numbers when they are plain decimal numbers that survive the round trip
 *   (`String(Number(s)) === s`, integers within ±(2^53−1)), `null` for nan/inf/None/null
 *   spellings, else the string (`"2.0"`, `"007"`, `"50,150,300,750"` stay strings).
 */
/**
 * Arrow's time units (Schema.fbs) by number: this module is loaded by the main thread for the
 * payload, and a value import of apache-arrow's enum would load the whole library there (about
 * 15 MiB of resident memory).
 */
const SECOND = 0;
const MILLISECOND = 1;
const MICROSECOND = 2;

const MAX_SAFE = 9007199254740991n;
const MIN_SAFE = -9007199254740991n;

/** int64/uint64 → number when within ±(2^53−1), else its decimal string. */
export function int64ToJson(v: bigint): number | string {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v.toString();
}

export function floatToJson(v: number): number | null {
  return v === v && v !== Infinity && v !== -Infinity ? v : null;
}

function floorDiv(v: bigint, d: bigint): number {
  let q = v / d;
  if (v % d < 0n) q -= 1n;
  return Number(q);
}

/** A timestamp's raw value in `unit` (Arrow's TimeUnit) → epoch milliseconds (floored). */
export function timestampToMs(v: bigint, unit: number): number {
  switch (unit) {
    case SECOND:
      return Number(v) * 1000;
    case MILLISECOND:
      return Number(v);
    case MICROSECOND:
      return floorDiv(v, 1000n);
    default:
      return floorDiv(v, 1000000n);
  }
}

/** Epoch ms → ISO-8601 UTC with milliseconds, or null when out of JS Date range. */
export function isoMs(ms: number): string | null {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

export function dateFromMs(ms: number): string | null {
  const iso = isoMs(ms);
  return iso === null ? null : iso.slice(0, iso.indexOf('T'));
}

const textDecoder = new TextDecoder();

/** UTF-8 bytes [start, end) → string. */
export function utf8(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 0) return '';
  if (len <= 32) {
    // Short ASCII strings (most symbols) are cheaper to build by hand than via TextDecoder.
    let out = '';
    for (let k = start; k < end; k++) {
      const c = buf[k]!;
      if (c >= 0x80) return textDecoder.decode(buf.subarray(start, end));
      out += String.fromCharCode(c);
    }
    return out;
  }
  return textDecoder.decode(buf.subarray(start, end));
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A decimal's `stride` little-endian 32-bit words → its exact decimal string with `scale`. */
export function decimalToString(words: Uint32Array, offset: number, stride: number, scale: number): string {
  let v = 0n;
  for (let k = stride - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[offset + k]!);
  v = BigInt.asIntN(stride * 32, v);
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  } else if (scale < 0) {
    digits = digits === '0' ? digits : digits + '0'.repeat(-scale);
  }
  return neg ? `-${digits}` : digits;
}

/** Sets a key, `__proto__` included (as an own property, never the prototype). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const NULLISH = new Set(['nan', 'NaN', 'inf', '-inf', 'Infinity', '-Infinity', 'None', 'null']);

/** A schema-metadata string → JSON value (see the rules above). */
export function metadataValue(s: string): unknown {
  if (NULLISH.has(s)) return null;
  if (NUMBER_RE.test(s)) {
    const n = Number(s);
    if (String(n) === s && (!Number.isInteger(n) || Number.isSafeInteger(n))) return n;
  }
  return s;
}
