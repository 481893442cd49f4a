/**
 * Finds new and grown scan files by listing folders, without inotify: the `poll` watch mode
 * (network and FUSE folders, where no file event arrives) and the safety rescan of the `events`
 * mode (inotify drops events when its queue overflows, and says nothing to Node when it does).
 *
 * Each tick lists the root (for new day folders) and the active day folders: the newest one,
 * plus any other in which a new file showed up in the last minute (a day just ended, or a
 * scanner whose clock is off). New names are reported as listed; only names first seen in the
 * last {@link GROWTH_WATCH_MS} are `stat`ed (for growth), so a tick over a folder of 10,000
 * settled files costs one directory listing.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { coerceError } from '../../errors.js';
import { fileOrder, isScanCandidate, parseScanPath } from './scan-files.js';
import { compareScans } from '../guards/scan-order.js';

/** A file is watched for growth this long after it first appeared (a writer writing in place). */
const GROWTH_WATCH_MS = 30_000;
/** A day folder that is not the newest is listed while new files arrived in it this recently. */
const ACTIVE_MS = 60_000;
const STAT_CONCURRENCY = 64;

export interface FolderPollerOptions {
  root: string;
  intervalMs: number;
  /** A new or grown scan candidate. */
  file(path: string): void;
  /** A listing failed; polling goes on (the bridge's folder check reports a folder that is gone). */
  problem(message: string): void;
}

export interface FolderPoller {
  /** Lists now and reports what is new; resolves when done. Ticks never overlap. */
  tick(): Promise<void>;
  close(): void;
}

interface Seen {
  size: number;
  mtimeMs: number;
  firstSeen: number;
}

interface DayFolder {
  files: Map<string, Seen> | undefined;
  lastNewAt: number;
}

/**
 * Takes a first listing of the root and the newest day folder as the baseline (files already
 * there are the start-up catch-up's business), then lists every `intervalMs`.
 */
export async function startFolderPoller(o: FolderPollerOptions): Promise<FolderPoller> {
  const days = new Map<string, DayFolder>();
  let closed = false;
  let running: Promise<void> | undefined;
  /** Whether the last tick met a failed listing: a failure is reported when it starts, not every tick. */
  let failing = false;
  let tickFailed = false;
  let newestSeen: string | undefined;

  const listRoot = async (): Promise<string[] | undefined> => {
    try {
      return (await readdir(o.root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
    } catch (err) {
      report(`cannot list ${o.root}: ${coerceError(err).message}`);
      return undefined;
    }
  };

  const report = (message: string) => {
    if (!failing && !tickFailed) o.problem(message);
    tickFailed = true;
  };

  /** Lists one day folder; returns the paths of new and grown files. */
  const listDay = async (name: string, day: DayFolder, emit: boolean, now: number): Promise<string[]> => {
    const dir = join(o.root, name);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') days.delete(name);
      else report(`cannot list ${dir}: ${coerceError(err).message}`);
      return [];
    }
    const files = (day.files ??= new Map<string, Seen>());
    const present = new Set<string>();
    const changed: string[] = [];
    const young: string[] = [];
    for (const n of names) {
      if (!isScanCandidate(n)) continue;
      present.add(n);
      const f = files.get(n);
      if (!f) {
        // New: reported at once, unstated; the reader reads and stats it anyway. Files there at
        // the first listing count as settled (not watched for growth).
        files.set(n, { size: -1, mtimeMs: -1, firstSeen: emit ? now : 0 });
        day.lastNewAt = now;
        if (emit) changed.push(n);
      } else if (now - f.firstSeen < GROWTH_WATCH_MS) {
        young.push(n);
      }
    }
    for (const n of files.keys()) if (!present.has(n)) files.delete(n);
    await pool(young, async (n) => {
      const s = await stat(join(dir, n)).catch(() => null);
      const f = files.get(n);
      if (!s?.isFile() || !f || (f.size === s.size && f.mtimeMs === s.mtimeMs)) return;
      const first = f.size < 0;
      f.size = s.size;
      f.mtimeMs = s.mtimeMs;
      // The first stat only learns the size; a later change is growth (a writer writing in place).
      if (!first && emit) changed.push(n);
    });
    return changed.map((n) => `${name}/${n}`);
  };

  const once = async (emit: boolean) => {
    tickFailed = false;
    try {
      await listAll(emit);
    } finally {
      failing = tickFailed;
    }
  };

  const listAll = async (emit: boolean) => {
    const now = Date.now();
    const names = await listRoot();
    if (!names) return;
    const newest = names.reduce<string | undefined>((a, b) => (a === undefined || b > a ? b : a), undefined);
    // The day that just ended stays active a while: its last scans may still be being written.
    const previous = newestSeen !== undefined && newestSeen !== newest ? days.get(newestSeen) : undefined;
    if (previous) previous.lastNewAt = now;
    newestSeen = newest;
    for (const n of names) {
      // A folder that appears while we run is listed whole; those there at start are old news.
      if (!days.has(n)) days.set(n, { files: undefined, lastNewAt: emit ? now : 0 });
    }
    for (const n of [...days.keys()]) if (!names.includes(n)) days.delete(n);
    const found: string[] = [];
    for (const [n, day] of days) {
      const active = n === newest || now - day.lastNewAt < ACTIVE_MS;
      if (active) found.push(...(await listDay(n, day, emit, now)));
      // A folder no longer listed forgets its files: memory stays bounded over many days.
      else day.files = undefined;
    }
    // Newest first: after a burst the scan that matters is read before the backlog.
    for (const rel of found.sort(newestFirst)) {
      if (closed) return;
      o.file(join(o.root, rel));
    }
  };

  const tick = (): Promise<void> => {
    running ??= once(true).finally(() => (running = undefined));
    return running;
  };

  await once(false);
  const timer = setInterval(() => {
    if (!closed && !running) void tick();
  }, o.intervalMs);

  return {
    tick,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

function newestFirst(a: string, b: string): number {
  return compareScans(fileOrder(parseScanPath(b)), fileOrder(parseScanPath(a))) || (a < b ? 1 : -1);
}

async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const work = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(STAT_CONCURRENCY, items.length) }, work));
}
