/**
 * For issue 8's figure only: makes this process's bridge decode each file on its main thread,
 * with the very function the decode threads run (decodeScanFile), so that the latency benchmark
 * can set a bridge without the pool's trip beside the real one. A bench-only patch of the pool in
 * the bench's own bridge process: the product has no setting for it (the bridge must never run
 * code whose time depends on a file on its main thread).
 */
import { DecodePool } from '../../src/bridge/threads/pool.js';
import { decodeScanFile } from '../../src/bridge/threads/decode-file.js';

/** `limits`: the bridge's MAX_SCAN_BYTES and MAX_SCAN_FILE_BYTES, as its pool gets them. */
export function decodeOnMainThread(limits: { maxScanBytes: number; maxFileBytes: number }): void {
  const { maxScanBytes, maxFileBytes } = limits;
  DecodePool.prototype.decode = function (path, relPath, quarantined) {
    try {
      return Promise.resolve(decodeScanFile({ path, relPath, maxScanBytes, maxFileBytes, quarantined }));
    } catch (err) {
      // As the decode thread answers an unexpected I/O error.
      return Promise.resolve({ kind: 'incomplete', reason: err instanceof Error ? err.message : String(err), size: -1, mtimeMs: -1, decodeMs: 0 });
    }
  } satisfies DecodePool['decode'];
  // Nothing here asks a thread for a file: a thread decoding ahead would only take CPU from the others.
  DecodePool.prototype.decodeAhead = () => undefined;
}
