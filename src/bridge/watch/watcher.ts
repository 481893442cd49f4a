import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { coerceError } from '../../errors.js';
import { isScanCandidate } from './scan-files.js';

export interface ScanFolderEvents {
  /**
   * A scan candidate appeared or changed (or was removed: the caller finds out when it reads).
   * `how`: inotify's `rename` (created, moved in or out) or `change` (written), or `listed` (found
   * by listing a new day folder).
   */
  file(path: string, how: 'rename' | 'change' | 'listed'): void;
  /** A watch failed for good: the bridge can no longer see new scans. */
  error(err: Error): void;
  /** A day folder's watch failed while the folder is still there: its files are found by the rescan only. */
  problem(message: string): void;
}

export interface ScanFolderWatcher {
  /** Day folders being watched. */
  folders(): string[];
  close(): void;
}

/**
 * Watches `<root>/<day>/` with inotify (Node's fs.watch): one watch on the root for new day
 * folders and one per day folder for its files. Each event costs the same however many files a
 * folder holds; chokidar, by contrast, lists the whole folder again on every event, which grew
 * to half a second per scan at 10,000 files.
 *
 * A new folder is watched first and listed second, so a file that lands in it at once is seen
 * either by the watch or by the listing.
 */
export async function watchScanFolder(root: string, on: ScanFolderEvents): Promise<ScanFolderWatcher> {
  const days = new Map<string, FSWatcher>();
  let closed = false;

  const emit = (path: string, how: 'rename' | 'change' | 'listed') => {
    if (!closed && isScanCandidate(path)) on.file(path, how);
  };

  const watchDay = async (dir: string, list: boolean) => {
    if (closed || days.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true }, (event, name) => {
        if (name) emit(join(dir, name.toString()), event);
      });
    } catch {
      return; // gone already, or not a folder
    }
    // A day folder removed (old days cleaned up) ends its watch; that is not an error. Any
    // other failure is told: the folder's new files are then seen by the rescan only.
    w.on('error', (err) => {
      w.close();
      days.delete(dir);
      void stat(dir).then(
        () => {
          if (!closed)
            on.problem(`watching the day folder ${dir} failed (${coerceError(err).message}); its new files are found by the rescan every WATCH_RESCAN_MS`);
        },
        () => undefined, // removed: nothing to tell
      );
    });
    days.set(dir, w);
    if (list) {
      for (const name of await readdir(dir).catch(() => [] as string[])) emit(join(dir, name), 'listed');
    }
  };

  const consider = async (name: string, list: boolean) => {
    if (name.startsWith('.')) return;
    const dir = join(root, name);
    const s = await stat(dir).catch(() => null);
    if (s?.isDirectory()) await watchDay(dir, list);
  };

  let rootWatch: FSWatcher;
  try {
    rootWatch = watch(root, { persistent: true }, (_event, name) => {
      if (name) void consider(name.toString(), true);
    });
  } catch (err) {
    throw new Error(`cannot watch the scan folder ${root}: ${coerceError(err).message}`);
  }
  rootWatch.on('error', (err) => {
    if (!closed) on.error(new Error(`watching ${root} failed: ${coerceError(err).message}`));
  });
  // Folders that exist now: their files are the start-up catch-up's business, not events.
  for (const name of await readdir(root)) await consider(name, false);

  return {
    folders: () => [...days.keys()],
    close() {
      closed = true;
      rootWatch.close();
      for (const w of days.values()) w.close();
      days.clear();
    },
  };
}
