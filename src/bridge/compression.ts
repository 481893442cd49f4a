/**
 * Synchronous body-compression codecs for apache-arrow's IPC reader.
 *
 * apache-arrow (>= 21.1) can read LZ4_FRAME / ZSTD compressed record batches once a codec with a
 * synchronous `decode()` is registered in `compressionRegistry`; it ships none. pyarrow's
 * `feather.write_feather` compresses with LZ4_FRAME by default, and producers may choose ZSTD.
 *
 * Arrow builds typed arrays (Float64Array, BigInt64Array, ...) directly over the buffers we
 * return, so each result is a Uint8Array whose byteOffset is a multiple of 8 (copied if needed).
 */
import { createRequire } from 'node:module';
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';

/** The part of lz4js (CommonJS, no type declarations) that we use. */
interface Lz4js {
  decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  decompressFrame(src: Uint8Array, dst: Uint8Array): number;
}

const require = createRequire(import.meta.url);
const lz4 = require('lz4js') as Lz4js;

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
 * caller verifies the decoded size against it and falls back to the self-sizing path.
 */
function uncompressedLengthHint(src: Uint8Array): number {
  if (src.byteOffset < 8) return -1;
  const view = new DataView(src.buffer, src.byteOffset - 8, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getInt32(4, true);
  if (hi !== 0) return -1; // negative (-1 = "not compressed") or >= 4 GiB: don't trust it
  return lo;
}

/** lz4js.decompress sizes its output by the frame's block size (64 KiB+), then slices (copies). */
export function decodeLz4Frame(src: Uint8Array): Uint8Array {
  const hint = uncompressedLengthHint(src);
  // LZ4 cannot expand data by more than ~255x: a larger "hint" is corruption, not a size.
  if (hint > 0 && hint <= src.length * 256 + 64) {
    const dst = new Uint8Array(hint);
    // Writes past the end of a typed array are dropped, so a wrong hint shows up as a size mismatch.
    const size = lz4.decompressFrame(src, dst);
    if (size === hint) return dst;
  }
  return aligned(lz4.decompress(src));
}

export function decodeZstd(src: Uint8Array): Uint8Array {
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
