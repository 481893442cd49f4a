/**
 * The scan files a bridge could not deliver, as its stats report them, so that health can tell
 * the newest *good* file on disk from a newer one that is refused, rejected, skipped or still
 * incomplete (a restart would find it the same way). A file leaves the list once it is read
 * whole; only the newest few, in scan order, are kept.
 */
import { compareScans, type ScanOrderKey } from './scan-order.js';
import { fileOrder, parseScanPath, scanFilesNewestFirst } from '../watch/scan-files.js';

/** A file the bridge could not deliver: refused for its stamp, rejected (broken, or quarantined at a decoding limit), skipped (quarantined and unchanged, not a regular file) or incomplete and waited on. */
export interface BadFile {
  relPath: string;
  scanNumber: number | null;
  /** Its scan time from the file name, epoch ms; null: the name does not say. */
  timestampMs: number | null;
  kind: 'refused' | 'rejected' | 'skipped' | 'incomplete';
  reason: string;
  /** When the bridge last found it so, epoch ms. */
  at: number;
}

/** Health looks at the newest files only; older ones are history. */
const KEEP = 20;

export class BadFiles {
  private readonly files = new Map<string, BadFile>();

  /** The file was found bad (again): its latest verdict is kept. */
  note(relPath: string, kind: BadFile['kind'], reason: string): void {
    const { scanNumber, timestampMs } = parseScanPath(relPath);
    this.files.set(relPath, { relPath, scanNumber: scanNumber ?? null, timestampMs: timestampMs ?? null, kind, reason, at: Date.now() });
    if (this.files.size > KEEP) this.files.delete(this.list()[KEEP]!.relPath);
  }

  /** The file was read whole (or went away): no longer bad. */
  clear(relPath: string): void {
    this.files.delete(relPath);
  }

  /** Newest first, in scan order (from the names). */
  list(): BadFile[] {
    const key = (f: BadFile) => fileOrder({ scanNumber: f.scanNumber ?? undefined, timestampMs: f.timestampMs ?? undefined });
    return [...this.files.values()].sort((a, b) => compareScans(key(b), key(a)));
  }
}

/**
 * The newest good scan file on disk (the newest the bridge has not found bad) and, when a newer
 * one is bad, the newest bad one. Walks newest first, past the bad files only.
 */
export async function newestGoodOnDisk(arrowDir: string, bad: BadFile[]): Promise<{ good: ScanOrderKey | null; bad: BadFile | null }> {
  const byPath = new Map(bad.map((f) => [f.relPath, f]));
  let newestBad: BadFile | null = null;
  for await (const f of scanFilesNewestFirst(arrowDir)) {
    const b = byPath.get(f.relPath);
    if (!b) return { good: f.key, bad: newestBad };
    newestBad ??= b;
  }
  return { good: null, bad: newestBad };
}
