/**
 * Decoding ahead, the decode thread's side. One thread of the pool watches the scan folder
 * itself (inotify, as the main thread does) and starts decoding a scan file the moment it is
 * created or renamed into place. The main thread hears of the same file at the same moment and
 * asks the pool for it; the pool sends that task to this thread, which finds the decode done or
 * under way and answers from it. What that saves is the thread's wake-up to the task (0.14 ms at
 * p50, bench/decode-trip.ts): the file event wakes it instead.
 *
 * A result is given only for the file it was read from: the path must still name the same
 * inode, with the same size, mtime and ctime, as the read found; otherwise the task reads the
 * file again. Each result answers one task; the next task for the path reads again.
 *
 * Warming up: when the files land on a regular clock (cadence.ts), the thread decodes the last
 * file's bytes again, from memory, just before the next is due, and throws the result away. A
 * decode after 100 ms of idle finds the caches cold: timed in this thread in the bridge benchmark
 * (2026-12-03), 0.62–0.72 ms at p50 without a warm-up, 0.49–0.59 ms after one. It costs one
 * decode per scan, and is done only for a file of at most 4 MiB whose decode took at most 5 % of
 * the period.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { watchScanFolder, type ScanFolderWatcher } from '../watch/watcher.js';
import { relativeToRoot } from '../watch/scan-files.js';
import { decodeScanBytes, decodeScanFile, type DecodeResult, type DecodeTask } from './decode-file.js';
import { Cadence } from './cadence.js';
import { fileIdentity } from './read-file.js';

/** Sent by the pool to the thread that decodes ahead; `root` null: stop. */
export interface AheadMessage {
  ahead: { root: string | null; maxScanBytes: number; maxFileBytes: number };
}

/** Sent by the thread: it started decoding `path` ahead (`started`), or is done with it (`done`). */
export type AheadNotice = { aheadStarted: string; at: number } | { aheadDone: string };

interface Decoded {
  /** A result of a read: it has the file's size, mtime and identity. */
  result: DecodeResult & { size: number; mtimeMs: number; identity: string };
  /** When the decode ended, ms (this thread's performance.now()). */
  ended: number;
}

/** Results older than this are dropped unused: the task for them went to another thread, or never came. */
const KEEP_MS = 1000;
const KEEP_COUNT = 8;
const ORIGIN = performance.timeOrigin;
/** A warm-up is timed to end this long before the next file is due: timers fire up to 1 ms late. */
const WARM_LEAD_MS = 3;
/** Warm up only with a file whose decode took at most this share of the period (the CPU it costs). */
const WARM_MAX_SHARE = 0.05;
/** The largest file kept in memory for warming up (the usual scan is 14 KB). */
const WARM_MAX_BYTES = 4 * 1024 * 1024;

/** A result of a read of the file (not gone, not a non-regular file): it names what was read. */
function wasRead(r: DecodeResult): r is Decoded['result'] {
  return 'identity' in r && r.identity !== undefined;
}

/** Whether `path` names the file the result was read from, unchanged. */
function stillThere(path: string, r: Decoded['result']): boolean {
  try {
    const st = statSync(path);
    return st.size === r.size && st.mtimeMs === r.mtimeMs && fileIdentity(st) === r.identity;
  } catch {
    return false;
  }
}

export class DecodeAhead {
  private watcher: ScanFolderWatcher | undefined;
  private readonly decoded = new Map<string, Decoded>();
  /** The file to decode ahead at the end of this turn of the event loop ({@link soon}). */
  private next: { path: string; relPath: string; limits: AheadMessage['ahead'] } | undefined;
  /** Bumped by every `watch`: a watcher that opens after a newer call is closed at once. */
  private epoch = 0;
  private readonly cadence = new Cadence();
  /** The last file decoded ahead that read as a scan: what a warm-up decodes again. */
  private warm: { bytes: Uint8Array; relPath: string; maxScanBytes: number; decodeMs: number } | undefined;
  private warmTimer: NodeJS.Timeout | undefined;
  /** Warm-ups run, and warm-ups due that found no file to decode (too large, or too slow for the period): for tests. */
  warmUps = 0;
  warmSkips = 0;

  constructor(
    private readonly post: (notice: AheadNotice) => void,
    /** Called after each decode ahead: tasks that came meanwhile are answered at once, from it. */
    private readonly drain: () => void,
    /** Larger files are not kept for warming up: their decode dwarfs what warm caches save. */
    private readonly warmMaxBytes = WARM_MAX_BYTES,
  ) {}

  /** Watches `root` (null: stops watching). */
  async watch(m: AheadMessage['ahead']): Promise<void> {
    const epoch = ++this.epoch;
    this.watcher?.close();
    this.watcher = undefined;
    this.decoded.clear();
    this.cadence.reset();
    this.warm = undefined;
    clearTimeout(this.warmTimer);
    const { root } = m;
    if (root === null) return;
    const watcher = await watchScanFolder(root, {
      // Only files created or moved in: a file written in place raises `change` events all along,
      // and is read by the task when the main thread asks.
      file: (path, how) => {
        if (how !== 'rename') return;
        this.planWarmUp(this.cadence.arrive(performance.now()));
        this.soon(path, relativeToRoot(root, path), m);
      },
      // The main thread watches the same folder and tells of its failures.
      error: () => undefined,
      problem: () => undefined,
    }).catch(() => undefined);
    if (epoch === this.epoch) this.watcher = watcher;
    else watcher?.close();
  }

  /** The result decoded ahead for this task, if it was read from the file the path names now; used once. */
  take(task: DecodeTask): DecodeResult | undefined {
    const d = this.decoded.get(task.path);
    if (!d) return undefined;
    this.decoded.delete(task.path);
    const r = d.result;
    if (!stillThere(task.path, r)) return undefined;
    const q = task.quarantined;
    if (q && r.size === q.size && r.mtimeMs === q.mtimeMs) return { kind: 'quarantined', size: r.size, mtimeMs: r.mtimeMs };
    return r;
  }

  /**
   * Decodes the last file of this turn of the event loop: in a burst (a catch-up, a copied
   * folder) the events come many to a turn, and decoding each ahead would keep this thread from
   * the tasks of the main thread, which reads them all anyway.
   */
  private soon(path: string, relPath: string, limits: AheadMessage['ahead']): void {
    const first = this.next === undefined;
    this.next = { path, relPath, limits };
    if (!first) return;
    setImmediate(() => {
      const n = this.next!;
      this.next = undefined;
      this.decode(n.path, n.relPath, n.limits);
    });
  }

  private decode(path: string, relPath: string, limits: AheadMessage['ahead']): void {
    this.post({ aheadStarted: path, at: ORIGIN + performance.now() });
    let result: DecodeResult | undefined;
    let bytes: Uint8Array | undefined;
    try {
      result = decodeScanFile({ path, relPath, maxScanBytes: limits.maxScanBytes, maxFileBytes: limits.maxFileBytes }, (b) => (bytes = b));
    } catch {
      // An I/O error: the task reads again and reports it.
    }
    if (result?.kind === 'ok' && bytes && bytes.length <= this.warmMaxBytes)
      this.warm = { bytes, relPath, maxScanBytes: limits.maxScanBytes, decodeMs: result.decodeMs };
    // Kept only what was read: gone, not a regular file and the like are for the task to find.
    if (result && wasRead(result)) this.keep(path, { result, ended: performance.now() });
    this.drain();
    this.post({ aheadDone: path });
  }

  private keep(path: string, d: Decoded): void {
    this.decoded.delete(path);
    this.decoded.set(path, d);
    for (const [p, old] of this.decoded) {
      if (this.decoded.size <= KEEP_COUNT && d.ended - old.ended <= KEEP_MS) break;
      this.decoded.delete(p);
    }
  }

  /** Sets the warm-up before the next file, due at `due` (undefined: the arrivals are not regular, no warm-up). */
  private planWarmUp(due: number | undefined): void {
    clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    if (due === undefined) return;
    // Called as a file lands: the next is due one period from now.
    const period = due - performance.now();
    // Timed by the decode of the file before this one; the timer finds this one's by then.
    const decodeMs = this.warm?.decodeMs ?? 0;
    const wait = period - WARM_LEAD_MS - decodeMs;
    if (wait <= 0) return;
    this.warmTimer = setTimeout(() => {
      this.warmTimer = undefined;
      const w = this.warm;
      if (!w || w.decodeMs > period * WARM_MAX_SHARE) return void this.warmSkips++;
      decodeScanBytes(w.bytes, w.relPath, w.maxScanBytes);
      this.warmUps++;
    }, wait);
  }
}
