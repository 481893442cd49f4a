/**
 * The decoding limits a scan file can break, and the budget of decoded bytes one decode may use.
 *
 * The budget is a scope, not an argument: apache-arrow calls our codecs through its global
 * registry, so the codecs ask the scope of the decode that is running (one per worker thread).
 * Outside a scope (tests of the pure functions, tools) nothing is limited.
 */

/** What stopped a decode: the setting that names the limit, or a decoder crash. */
export type Limit = 'DECODE_TIMEOUT_MS' | 'MAX_SCAN_BYTES' | 'MAX_SCAN_FILE_BYTES' | 'decoder memory' | 'decoder crash';

/** Thrown when a file would make the decoder go past a limit; the file counts as broken and is quarantined. */
export class LimitError extends Error {
  constructor(
    readonly limit: Limit,
    message: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

const MIB = 1024 * 1024;

/** `300 MiB` or `1234 bytes`, for reasons people read. */
export function bytesText(n: number): string {
  return n >= MIB ? `${(n / MIB).toFixed(n % MIB === 0 ? 0 : 1)} MiB` : `${n} bytes`;
}

class Budget {
  used = 0;
  /** The first claim refused: apache-arrow may wrap or swallow what a codec throws, so it is kept here. */
  hit: LimitError | undefined;
  constructor(readonly max: number) {}
}

let current: Budget | undefined;

/**
 * Runs `fn` with a budget of `maxBytes` decoded bytes; claims inside it past the budget throw
 * LimitError. `hit` is the refused claim, if any, however `fn` ended.
 */
export function withDecodeBudget<T>(maxBytes: number, fn: () => T): { value?: T; error?: unknown; hit: LimitError | undefined } {
  const outer = current;
  const budget = new Budget(maxBytes);
  current = budget;
  try {
    return { value: fn(), hit: budget.hit };
  } catch (error) {
    return { error, hit: budget.hit };
  } finally {
    current = outer;
  }
}

/** Bytes still allowed in this decode (Infinity outside a budget). */
export function remainingBytes(): number {
  return current ? current.max - current.used : Infinity;
}

/** Call before allocating `bytes` for `what`: throws LimitError when the decode would pass MAX_SCAN_BYTES. */
export function claimBytes(bytes: number, what: string): void {
  if (!current) return;
  if (!(bytes <= current.max - current.used)) {
    current.hit ??= new LimitError(
      'MAX_SCAN_BYTES',
      `${what} would take ${bytesText(bytes)}, beyond MAX_SCAN_BYTES (${bytesText(current.max)} a scan, ${bytesText(current.used)} used)`,
    );
    throw current.hit;
  }
  current.used += bytes;
}

/** Refuses the decode for MAX_SCAN_BYTES with this reason (also when arrow swallows the throw). */
export function refuseBytes(message: string): never {
  const err = new LimitError('MAX_SCAN_BYTES', message);
  if (current) current.hit ??= err;
  throw err;
}

/** Bytes claimed so far in this decode (0 outside a budget): see {@link releaseTo}. */
export function claimedBytes(): number {
  return current ? current.used : 0;
}

/**
 * Gives back what was claimed since `claimedBytes()` returned `mark`: for a decoder that gives
 * up on a file (without passing the budget) before another decodes it again from the start.
 */
export function releaseTo(mark: number): void {
  if (current && !current.hit && current.used > mark) current.used = mark;
}
