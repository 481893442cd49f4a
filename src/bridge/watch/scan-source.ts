/**
 * Where the bridge hears of scan files, by watch mode: inotify events plus a safety rescan
 * (`events`), or folder listings alone (`poll`). Either way each new or changed candidate is
 * handed to `file`, and the bridge reads it the same way.
 */
import type { WatchModeChoice } from './watch-mode.js';
import { watchScanFolder } from './watcher.js';
import { startFolderPoller } from './poller.js';

export interface ScanSourceEvents {
  file: (path: string) => void;
  /** The source failed for good: new scans can no longer be seen. */
  error: (err: Error) => void;
  /** A listing failed once; listing goes on. */
  problem: (message: string) => void;
  /** A day folder's inotify watch failed while the folder is still there (events mode). */
  watchProblem?: (message: string) => void;
}

export interface ScanSource {
  /** How it watches, for the start-up line: `by polling every 1000 ms`. */
  readonly how: string;
  close(): void;
}

export async function openScanSource(
  root: string,
  choice: WatchModeChoice,
  timing: { pollMs: number; rescanMs: number },
  on: ScanSourceEvents,
): Promise<ScanSource> {
  if (choice.mode === 'poll') {
    const poller = await startFolderPoller({ root, intervalMs: timing.pollMs, file: on.file, problem: on.problem });
    return { how: `by polling every ${timing.pollMs} ms`, close: () => poller.close() };
  }
  const watcher = await watchScanFolder(root, { file: on.file, error: on.error, problem: on.watchProblem ?? on.problem });
  // inotify drops events when its queue overflows and tells Node nothing: list now and then.
  const rescan = await startFolderPoller({ root, intervalMs: timing.rescanMs, file: on.file, problem: on.problem });
  return {
    how: `with inotify events and a rescan every ${timing.rescanMs} ms`,
    close() {
      watcher.close();
      rescan.close();
    },
  };
}
