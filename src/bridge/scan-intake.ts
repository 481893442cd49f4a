import { stat } from 'node:fs/promises';
import { coerceError } from '../errors.js';
import type { DecodedScan } from './hazelcast/payload.js';
import type { ReadOutcome } from './scan-decoder.js';
import { isScanCandidate, relativeToRoot } from './watch/scan-files.js';
import { preciseNow } from './scan-times.js';

export interface ScanFileReaderOptions {
  arrowDir: string;
  /** One read of one file, off the main thread (scan-decoder.ts). */
  read(path: string, relPath: string): Promise<ReadOutcome>;
  /** How long a file may stay incomplete without growing before it counts as broken. */
  incompleteTimeoutMs: number;
  /** A complete scan; `eventAt` is when its file was first seen (or seen changed); `mtimeMs` null: unknown. */
  onScan(scan: DecodedScan, relPath: string, eventAt: number, mtimeMs: number | null): void;
  /** A file that stays broken; told once per version of the file. */
  onReject(relPath: string, reason: string): void;
  /** A path not to be read: not a regular file, or quarantined. */
  onSkip(relPath: string, reason: string): void;
}

interface FileState {
  eventAt: number;
  attempts: number;
  size: number;
  mtimeMs: number;
  lastGrowth: number;
  status: 'reading' | 'waiting' | 'done' | 'broken';
  /** Another event came while reading: read again at once, and do not judge this read. */
  dirty: boolean;
  timer?: NodeJS.Timeout;
}

const RETRY_DELAYS_MS = [2, 5, 10, 20, 50, 100, 200, 300, 500];
/** Finished files remembered, so a late 'change' event does not read them again. */
const DONE_MEMORY = 2000;

/**
 * Per-file reading: reads a file on its event and, while it is incomplete, again after short
 * growing delays, until it is whole, broken, gone, or has stopped growing for
 * `incompleteTimeoutMs`. A file already finished is read again only when its size or time changed.
 */
export class ScanFileReader {
  /** Reads of files found incomplete and tried again. */
  retried = 0;
  private readonly files = new Map<string, FileState>();
  private stopped = false;

  constructor(private readonly o: ScanFileReaderOptions) {}

  /** Whether the file is known: being read, waiting for a retry, or finished with. */
  has(path: string): boolean {
    return this.files.has(path);
  }

  /** A file event (or a file found by a listing). */
  onFile(path: string): void {
    if (this.stopped || !isScanCandidate(path)) return;
    const now = preciseNow();
    let f = this.files.get(path);
    if (!f) {
      f = { eventAt: now, attempts: 0, size: -1, mtimeMs: -1, lastGrowth: now, status: 'waiting', dirty: false };
      this.files.set(path, f);
      this.forgetOldFiles();
    } else if (f.status === 'reading') {
      f.dirty = true;
      return;
    } else if (f.status === 'done' || f.status === 'broken') {
      // Rewritten after we finished with it: look again only if it really changed.
      const known = f;
      void this.changedSince(path, known).then((changed) => {
        if (changed) {
          known.status = 'waiting';
          known.eventAt = preciseNow();
          this.read(path, known);
        }
      });
      return;
    }
    clearTimeout(f.timer);
    this.read(path, f);
  }

  /** Forgets what it knew of the file (released from quarantine) and reads it as new. */
  readAgain(path: string): void {
    const f = this.files.get(path);
    if (f?.status === 'reading' || f?.status === 'waiting') return;
    this.files.delete(path);
    this.onFile(path);
  }

  stop(): void {
    this.stopped = true;
    for (const f of this.files.values()) clearTimeout(f.timer);
  }

  private async changedSince(path: string, f: FileState): Promise<boolean> {
    try {
      const s = await stat(path);
      return s.size !== f.size || s.mtimeMs !== f.mtimeMs;
    } catch {
      return false;
    }
  }

  private read(path: string, f: FileState): void {
    f.status = 'reading';
    f.dirty = false;
    const relPath = relativeToRoot(this.o.arrowDir, path);
    void (async () => {
      // The size and time (from the decoder's fstat) tell a growing file from a finished one later on.
      const res = await this.o.read(path, relPath);
      const size = res.kind === 'gone' ? -1 : res.size;
      const mtimeMs = res.kind === 'gone' ? -1 : res.mtimeMs;
      if (size !== f.size) f.lastGrowth = Date.now();
      f.size = size;
      f.mtimeMs = mtimeMs;
      if (this.stopped) return;
      if (res.kind === 'gone') {
        // Removed (cleaned up, or renamed away): nothing to push, nothing to complain about.
        this.files.delete(path);
        return;
      }
      if (res.kind === 'skip') {
        f.status = 'broken';
        this.o.onSkip(relPath, res.reason);
        return;
      }
      if (res.kind === 'ok') {
        f.status = 'done';
        this.o.onScan(res.scan, relPath, f.eventAt, mtimeMs >= 0 ? mtimeMs : null);
        return;
      }
      if (res.kind === 'broken' && !f.dirty) {
        f.status = 'broken';
        this.o.onReject(relPath, res.reason);
        return;
      }
      // Incomplete (or broken while still being written): try again soon, unless it stopped growing long ago.
      if (!f.dirty && Date.now() - f.lastGrowth > this.o.incompleteTimeoutMs) {
        f.status = 'broken';
        this.o.onReject(relPath, `${res.reason} (still incomplete after ${this.o.incompleteTimeoutMs} ms without growing)`);
        return;
      }
      this.retried++;
      f.status = 'waiting';
      const delay = f.dirty ? 0 : RETRY_DELAYS_MS[Math.min(f.attempts, RETRY_DELAYS_MS.length - 1)]!;
      f.attempts++;
      f.timer = setTimeout(() => this.read(path, f), delay);
    })().catch((err: unknown) => {
      f.status = 'broken';
      this.o.onReject(relPath, `unexpected error: ${coerceError(err).message}`);
    });
  }

  private forgetOldFiles(): void {
    if (this.files.size <= DONE_MEMORY) return;
    for (const [path, f] of this.files) {
      if (this.files.size <= DONE_MEMORY / 2) break;
      if (f.status === 'done' || f.status === 'broken') this.files.delete(path);
    }
  }
}
