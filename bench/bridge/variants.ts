/**
 * The bridge with one data-path mechanism taken away, for the mechanism table of
 * docs/performance.md: bench-only patches applied in the bench's own bridge process, each beside
 * the real bridge in the same run. The product has no setting for any of them.
 *
 * - `main-thread`: no decode threads; each file is decoded on the main thread with the very
 *   function the threads run (decodeScanFile). Nothing decodes ahead either.
 *
 * Decoding ahead and the warm-up were measured the same way (variant `no-ahead`, at commit
 * ed4a698) and removed: docs/performance.md has the figures.
 * - `fifo`: the decode queue in arrival order instead of newest first (newest-first.ts).
 */
import { DecodePool } from '../../src/bridge/threads/pool.js';
import { decodeScanFile } from '../../src/bridge/threads/decode-file.js';
import { NewestFirst } from '../../src/bridge/threads/newest-first.js';

export const VARIANTS = ['product', 'main-thread', 'fifo'] as const;
export type Variant = (typeof VARIANTS)[number];

/** `limits`: the bridge's MAX_SCAN_BYTES and MAX_SCAN_FILE_BYTES, as its pool gets them. */
export function applyVariant(variant: Variant, limits: { maxScanBytes: number; maxFileBytes: number }): void {
  switch (variant) {
    case 'product':
      return;
    case 'main-thread': {
      const { maxScanBytes, maxFileBytes } = limits;
      DecodePool.prototype.decode = function (path, relPath, quarantined) {
        try {
          return Promise.resolve(decodeScanFile({ path, relPath, maxScanBytes, maxFileBytes, quarantined }));
        } catch (err) {
          // As the decode thread answers an unexpected I/O error.
          return Promise.resolve({ kind: 'incomplete', reason: err instanceof Error ? err.message : String(err), size: -1, mtimeMs: -1, decodeMs: 0 });
        }
      } satisfies DecodePool['decode'];
      return;
    }
    case 'fifo':
      NewestFirst.prototype.add = function <T>(this: NewestFirst<T>, item: T, order: Parameters<NewestFirst<T>['add']>[1]) {
        (this as unknown as { items: Array<{ item: T; order: typeof order }> }).items.push({ item, order });
      };
      return;
  }
}
