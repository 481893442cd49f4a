import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { coerceError } from '../../errors.js';

/**
 * inotify says nothing when the watched folder itself goes away, and a folder of the same name
 * made again is a new inode the watch does not see. Looks at the path every `intervalMs` and
 * tells `onGone` when it is missing, no longer a folder, or another folder than at the start.
 * Returns a stop function.
 */
export function checkFolderEvery(dir: string, intervalMs: number, onGone: (err: Error) => void): () => void {
  // A folder made again at once often gets the freed inode number back; its birth time differs.
  const identity = (s: { dev: number; ino: number; birthtimeMs: number }) => `${s.dev}:${s.ino}:${s.birthtimeMs}`;
  let watched: string | undefined;
  try {
    watched = identity(statSync(dir));
  } catch {
    /* missing already: the first check says so */
  }
  let stopped = false;
  const gone = (err: Error) => {
    if (!stopped) onGone(err);
  };
  const timer = setInterval(() => {
    stat(dir).then(
      (s) => {
        if (!s.isDirectory()) return gone(new Error(`the scan folder ${dir} is no longer a folder`));
        watched ??= identity(s);
        if (identity(s) !== watched) gone(new Error(`the scan folder ${dir} was replaced by another folder (removed and made again)`));
      },
      (err: unknown) => gone(new Error(`the scan folder ${dir} is gone: ${coerceError(err).message}`)),
    );
  }, intervalMs);
  timer.unref();
  // A check already under way when stopped says nothing.
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
