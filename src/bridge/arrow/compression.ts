/**
 * Synchronous body-compression codecs for apache-arrow's IPC reader.
 *
 * apache-arrow (>= 21.1) can read LZ4_FRAME / ZSTD compressed record batches once a codec with a
 * synchronous `decode()` is registered in `compressionRegistry`; it ships none. pyarrow's
 * `feather.write_feather` compresses with LZ4_FRAME by default, and producers may choose ZSTD.
 *
 * Arrow builds typed arrays (Float64Array, BigInt64Array, ...) directly over the buffers we
 * return, so each result is a fresh Uint8Array whose byteOffset is a multiple of 8.
 *
 * LZ4: lz4js's block decoder does no bounds checking: on a corrupted block it keeps "writing"
 * past the end of its output (typed arrays drop those writes silently) and a garbage match length
 * of ~2^31 spins for seconds. So LZ4 frames are decoded here by a bounds-checked decoder that
 * throws on any inconsistency; lz4js stays the reference it is tested against. ZSTD: fzstd.
 *
 * Both claim their output from the decode budget (MAX_SCAN_BYTES, see decode/limits.ts) before
 * allocating it: a 10 MB file must not make us allocate the 2.4 GB its header claims.
 */
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { claimBytes, refuseBytes, remainingBytes } from '../threads/limits.js';

/** Makes sure arrow can lay any typed array over the result. */
export function aligned(buf: Uint8Array): Uint8Array {
  if (buf.byteOffset % 8 === 0) return buf;
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy;
}

/**
 * Arrow IPC stores each compressed buffer as `int64 uncompressed_length` followed by the frame,
 * and apache-arrow 21 passes the codec a subarray that starts right after that prefix, within the
 * same ArrayBuffer. Reading it lets us allocate the output exactly once. It is only a hint: the
 * decoder checks the output against it and otherwise decodes without it.
 */
function uncompressedLengthHint(src: Uint8Array): number {
  if (src.byteOffset < 8) return -1;
  const view = new DataView(src.buffer, src.byteOffset - 8, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getInt32(4, true);
  if (hi !== 0) return -1; // negative (-1 = "not compressed") or >= 4 GiB: don't trust it
  return lo;
}

const LZ4_MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 1 << 16, 1 << 18, 1 << 20, 1 << 22];
/** LZ4 cannot expand a block by more than ~255x. */
const maxExpansion = (n: number) => n * 255 + 64;

class Lz4Error extends Error {}

function fail(what: string): never {
  throw new Lz4Error(`LZ4 frame: ${what}`);
}

function u32(src: Uint8Array, at: number): number {
  if (at + 4 > src.length) fail('unexpected end of data');
  return (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
}

type Frame = { blocks: { start: number; size: number; raw: boolean }[]; contentSize: number; blockMax: number };

/** Parses the frame headers and block table (no decoding). Skippable frames are ignored. */
function parseFrames(src: Uint8Array): Frame {
  const frame: Frame = { blocks: [], contentSize: -1, blockMax: 0 };
  let pos = 0;
  let frames = 0;
  while (pos < src.length) {
    const magic = u32(src, pos);
    pos += 4;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      pos += 4 + u32(src, pos); // skippable frame
      continue;
    }
    if (magic !== LZ4_MAGIC) fail(frames === 0 ? 'invalid magic number' : 'garbage after frame');
    frames++;
    if (pos + 3 > src.length) fail('unexpected end of data');
    const flg = src[pos++]!;
    const bd = src[pos++]!;
    if (flg >> 6 !== 1) fail('unsupported version');
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const hasDictId = (flg & 0x01) !== 0;
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (!blockMax) fail('invalid block size');
    frame.blockMax = Math.max(frame.blockMax, blockMax);
    if (hasContentSize) {
      const lo = u32(src, pos);
      const hi = u32(src, pos + 4);
      if (frames === 1) frame.contentSize = hi === 0 ? lo : -1;
      else frame.contentSize = -1;
      pos += 8;
    } else if (frames > 1) frame.contentSize = -1;
    if (hasDictId) fail('dictionary IDs are not supported');
    pos += 1; // header checksum
    for (;;) {
      const word = u32(src, pos);
      pos += 4;
      if (word === 0) break; // EndMark
      const raw = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMax || pos + size > src.length) fail('block exceeds the frame');
      frame.blocks.push({ start: pos, size, raw });
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) pos += 4;
    if (pos > src.length) fail('unexpected end of data');
  }
  if (frames === 0) fail('no frame');
  return frame;
}

/** Decodes one LZ4 block from src[s, sEnd) into dst at d; returns the new d. Never writes past dEnd. */
function decodeBlock(src: Uint8Array, s: number, sEnd: number, dst: Uint8Array, d: number, dEnd: number): number {
  while (s < sEnd) {
    const token = src[s++]!;
    let lit = token >> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= sEnd) fail('literal length runs past the block');
        b = src[s++]!;
        lit += b;
      } while (b === 255);
    }
    if (s + lit > sEnd) fail('literals run past the block');
    if (d + lit > dEnd) fail('output larger than expected');
    if (lit > 16) {
      dst.set(src.subarray(s, s + lit), d);
      d += lit;
      s += lit;
    } else {
      for (let k = 0; k < lit; k++) dst[d++] = src[s++]!;
    }
    if (s === sEnd) break; // the last sequence has literals only
    if (s + 2 > sEnd) fail('truncated match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d) fail('match offset out of range');
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        if (s >= sEnd) fail('match length runs past the block');
        b = src[s++]!;
        len += b;
      } while (b === 255);
    }
    len += 4;
    if (d + len > dEnd) fail('output larger than expected');
    let m = d - offset;
    if (offset >= len && len > 16) {
      dst.copyWithin(d, m, m + len);
      d += len;
    } else {
      for (let k = 0; k < len; k++) dst[d++] = dst[m++]!;
    }
  }
  return d;
}

function decodeFrames(src: Uint8Array, frame: Frame, capacity: number): Uint8Array {
  const dst = new Uint8Array(capacity);
  let d = 0;
  for (const b of frame.blocks) {
    if (b.raw) {
      if (d + b.size > capacity) fail('output larger than expected');
      dst.set(src.subarray(b.start, b.start + b.size), d);
      d += b.size;
    } else {
      d = decodeBlock(src, b.start, b.start + b.size, dst, d, capacity);
    }
  }
  if (d === capacity) return dst;
  return dst.slice(0, d); // fresh copy, byteOffset 0
}

/** LZ4 frame → bytes, bounds-checked; throws on corrupted input, LimitError past the decode budget. */
export function decodeLz4Frame(src: Uint8Array): Uint8Array {
  const frame = parseFrames(src);
  let bound = 0;
  for (const b of frame.blocks) bound += b.raw ? b.size : Math.min(frame.blockMax, maxExpansion(b.size));
  const hint = uncompressedLengthHint(src);
  const exact = hint >= 0 && hint <= bound ? hint : frame.contentSize >= 0 && frame.contentSize <= bound ? frame.contentSize : -1;
  if (exact >= 0) {
    claimBytes(exact, 'LZ4 output');
    try {
      const out = decodeFrames(src, frame, exact);
      if (out.length === exact) return out;
    } catch (e) {
      if (!(e instanceof Lz4Error)) throw e;
    }
  }
  // No size to trust: decode into what the frame could hold, but never more than the budget left.
  const capacity = Math.min(bound, remainingBytes());
  claimBytes(capacity, 'LZ4 output');
  try {
    return decodeFrames(src, frame, capacity);
  } catch (e) {
    if (e instanceof Lz4Error && capacity < bound && e.message.endsWith('output larger than expected')) {
      refuseBytes(`LZ4 output grew past the ${capacity} bytes left of MAX_SCAN_BYTES`);
    }
    throw e;
  }
}

/**
 * ZSTD → bytes. Inside an Arrow IPC buffer the output size is declared: it is claimed, then
 * allocated once and handed to fzstd, which then allocates no window of its own (a frame header
 * may ask for up to 2 GiB of window).
 */
export function decodeZstd(src: Uint8Array): Uint8Array {
  const hint = uncompressedLengthHint(src);
  if (hint >= 0) {
    claimBytes(hint, 'ZSTD output');
    return zstdDecompress(src, new Uint8Array(hint));
  }
  if (remainingBytes() !== Infinity) refuseBytes('ZSTD buffer without a declared size: cannot be checked against MAX_SCAN_BYTES');
  return aligned(zstdDecompress(src));
}

let registered = false;

/** Registers the LZ4_FRAME and ZSTD decoders in apache-arrow's registry. Idempotent. */
export function registerCompression(): void {
  if (registered) return;
  compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: decodeLz4Frame });
  compressionRegistry.set(CompressionType.ZSTD, { decode: decodeZstd });
  registered = true;
}
