/**
 * A scan's number and time from the values a file may carry them in (a column, a metadata entry,
 * the file name): the parsing rules of docs/scan-format.md.
 */

/** A non-negative safe integer, or a string of 1 to 15 digits, → the scan number; else undefined. */
export function toScanNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v)) return Number(v);
  return undefined;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Epoch → ms with the unit guessed from the magnitude: < 1e11 seconds (until year 5138),
 * < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds. Sub-millisecond parts are cut.
 */
function epochStringToMs(sign: string, intPart: string, frac: string): number {
  const v = BigInt(intPart);
  let ms: bigint;
  if (v < 100_000_000_000n) ms = v * 1000n + BigInt((frac + '000').slice(0, 3));
  else if (v < 100_000_000_000_000n) ms = v;
  else if (v < 100_000_000_000_000_000n) ms = v / 1000n;
  else ms = v / 1_000_000n;
  return sign === '-' ? -Number(ms) : Number(ms);
}

/** ISO-8601 (no zone = UTC) or epoch seconds/ms/us/ns → epoch ms; undefined when unparseable. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    value = Number.isInteger(value) ? BigInt(value).toString() : String(value);
  }
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  const e = EPOCH_RE.exec(s);
  if (e) return epochStringToMs(e[1]!, e[2]!, e[3] ?? '');
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac = '', zone] = m;
  const month = Number(mo),
    day = Number(d),
    h = Number(hh),
    min = Number(mi),
    sec = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || min > 59 || sec > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, h, min, sec, Number((frac + '000').slice(0, 3)));
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return undefined;
    const offset = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * 60000;
    ms += zm[1] === '+' ? -offset : offset;
  }
  return Number.isFinite(ms) ? ms : undefined;
}
