import { stat } from 'node:fs/promises';
import { coerceError } from '../errors.js';

/**
 * inotify says nothing when the watched folder itself goes away: looks for it every
 * `intervalMs` and tells `onGone` when it is missing or no longer a folder. Returns a stop function.
 */
export function checkFolderEvery(dir: string, intervalMs: number, onGone: (err: Error) => void): () => void {
  const timer = setInterval(() => {
    stat(dir).then(
      (s) => s.isDirectory() || onGone(new Error(`the scan folder ${dir} is no longer a folder`)),
      (err: unknown) => onGone(new Error(`the scan folder ${dir} is gone: ${coerceError(err).message}`)),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
