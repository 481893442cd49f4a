/**
 * Reading a scan file safely: only regular files, never more than MAX_SCAN_FILE_BYTES, never
 * blocking on a FIFO or a device. Synchronous on purpose: it runs in a decode worker thread,
 * where a slow read holds that thread only (and its time limit covers it), not libuv's shared
 * thread pool, which the main thread's file and DNS calls need.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { bytesText } from './limits.js';

export type FileRead =
  /** `identity`: device, inode and ctime of the file read ({@link fileIdentity}). */
  | { kind: 'bytes'; bytes: Uint8Array; size: number; mtimeMs: number; identity: string }
  | { kind: 'gone' }
  | { kind: 'not-regular'; what: string }
  | { kind: 'too-large'; size: number; mtimeMs: number; reason: string }
  | { kind: 'unchanged'; size: number; mtimeMs: number };

/** Device, inode and ctime: with the size and mtime, what tells the file read from a file that replaced or changed it. */
export function fileIdentity(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.ctimeMs}`;
}

/** What a non-regular file is, in words ("a FIFO"); null for a regular file. */
export function notRegular(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** `lstat`, then `stat` of a symlink's target: what reading the path would open. Null when it is gone. */
function statTarget(path: string): Stats | null {
  try {
    const l = lstatSync(path);
    return l.isSymbolicLink() ? statSync(path) : l;
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * Reads `path` if it is a regular file (directly or through symlinks) of at most `maxBytes`.
 * `skipIf` (size and mtime of a quarantined version) returns `unchanged` without reading.
 * Throws only on unexpected I/O errors (EACCES, EIO, ...).
 */
export function readScanFileSync(path: string, maxBytes: number, skipIf?: { size: number; mtimeMs: number }): FileRead {
  const before = statTarget(path);
  if (!before) return { kind: 'gone' };
  const what = notRegular(before);
  if (what) return { kind: 'not-regular', what };
  let fd: number;
  try {
    // Non-blocking: should the path have become a FIFO since the stat, opening it must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    if (errno(err) === 'ENOENT') return { kind: 'gone' };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const now = notRegular(st);
    if (now) return { kind: 'not-regular', what: now };
    const size = st.size;
    const mtimeMs = st.mtimeMs;
    if (skipIf && skipIf.size === size && skipIf.mtimeMs === mtimeMs) return { kind: 'unchanged', size, mtimeMs };
    if (size > maxBytes) return { kind: 'too-large', size, mtimeMs, reason: `${bytesText(size)} on disk, beyond MAX_SCAN_FILE_BYTES (${bytesText(maxBytes)})` };
    // Offset 0 of its own buffer: Arrow lays 8-byte typed arrays over it without a copy.
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, got, size - got, got);
      if (n === 0) break; // shrank while we read: what is there is what a retry will judge
      got += n;
    }
    return { kind: 'bytes', bytes: got === size ? bytes : bytes.subarray(0, got), size, mtimeMs, identity: fileIdentity(st) };
  } finally {
    closeSync(fd);
  }
}
