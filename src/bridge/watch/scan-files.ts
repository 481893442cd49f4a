/**
 * The scan-file contract on disk (docs/scan-format.md), written once: where a scan lives
 * (`<arrowDir>/<YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow`, also .arrows/.feather/.ipc, UTC), what
 * its path says (number, time), which files are candidates, the newest scan on disk, and the
 * atomic writer (a dotted `.tmp` name in the day folder, then a rename) that producers, tests
 * and benchmarks use.
 */
import { mkdirSync, renameSync, writeFileSync, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { toScanNumber } from '../arrow/scan-values.js';
import { compareScans, type ScanOrderKey } from '../guards/scan-order.js';

const SUFFIXES = ['.arrow', '.arrows', '.feather', '.ipc'];
const FILE_RE = /^scan_(\d+)_(\d{2})(\d{2})(\d{2})\.(?:arrow|arrows|feather|ipc)$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether a path may hold a scan: not a dotfile, not `*.tmp`, an Arrow suffix. */
export function isScanCandidate(path: string): boolean {
  const name = basename(path);
  if (name.startsWith('.') || name.endsWith('.tmp')) return false;
  return SUFFIXES.some((s) => name.endsWith(s));
}

/**
 * Scan number and time from `<YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow`: the number from the
 * name, the time from the name and the nearest day folder above it (UTC). Either is absent when
 * the path does not say it.
 */
export function parseScanPath(relPath: string): { scanNumber?: number; timestampMs?: number } {
  const parts = relPath.split(/[\\/]+/).filter(Boolean);
  const name = parts[parts.length - 1] ?? '';
  const m = FILE_RE.exec(name);
  if (!m) return {};
  const out: { scanNumber?: number; timestampMs?: number } = {};
  const n = toScanNumber(m[1]);
  if (n !== undefined) out.scanNumber = n;
  const [h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4])];
  for (let k = parts.length - 2; k >= 0; k--) {
    const d = DAY_RE.exec(parts[k]!);
    if (!d) continue;
    if (h < 24 && mi < 60 && s < 61) {
      const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), h, mi, s);
      if (Number.isFinite(ms)) out.timestampMs = ms;
    }
    break;
  }
  return out;
}

export function relativeToRoot(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

export interface ScanFileRef {
  path: string;
  relPath: string;
  /** From the name; undefined when the name does not follow the contract. */
  scanNumber: number | undefined;
  /** From the name and day folder, epoch ms; undefined when they do not say it. */
  timestampMs: number | undefined;
}

/** A file's place in the scan order (scan-order.ts); files whose names say nothing come first. */
export function fileOrder(f: { scanNumber?: number | undefined; timestampMs?: number | undefined }): ScanOrderKey {
  return { timestampMs: f.timestampMs ?? -Infinity, scanNumber: f.scanNumber ?? -1 };
}

function byOrder(a: ScanFileRef, b: ScanFileRef): number {
  return compareScans(fileOrder(a), fileOrder(b)) || (a.relPath < b.relPath ? -1 : 1);
}

/** From the listing alone: a regular file, or a symlink that may point to one (FIFOs, sockets, folders are not). */
function mayBeRegular(entry: Dirent): boolean {
  return entry.isFile() || entry.isSymbolicLink();
}

/** Whether `path` is a regular file, directly or through symlinks (`lstat`, then `stat` of the target). */
export async function isRegularFile(path: string): Promise<boolean> {
  try {
    const l = await lstat(path);
    return (l.isSymbolicLink() ? await stat(path) : l).isFile();
  } catch {
    return false;
  }
}

/**
 * Every scan candidate in `root/<folder>/` (any folder not starting with a dot), oldest first in
 * scan order (time, then number) from the path; files whose names say neither first, by name.
 * Reads directory listings only.
 */
export async function listScanFiles(root: string): Promise<ScanFileRef[]> {
  let days: string[];
  try {
    days = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return [];
  }
  const out: ScanFileRef[] = [];
  for (const day of days.sort()) {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, day), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = entry.name;
      if (!isScanCandidate(name) || !mayBeRegular(entry)) continue;
      const relPath = `${day}/${name}`;
      const { scanNumber, timestampMs } = parseScanPath(relPath);
      out.push({ path: join(root, day, name), relPath, scanNumber, timestampMs });
    }
  }
  return out.sort(byOrder);
}

/** The number of {@link newestScanFileOnDisk}, or null. */
export async function newestScanOnDisk(arrowDir: string): Promise<number | null> {
  return (await newestScanFileOnDisk(arrowDir))?.scanNumber ?? null;
}

/**
 * The newest scan (in scan order: time, then number) in the newest `YYYY-MM-DD` folder that
 * holds scans, from file names only; null when the folder does not exist or holds none. Other
 * errors listing it are thrown.
 */
export async function newestScanFileOnDisk(arrowDir: string): Promise<ScanOrderKey | null> {
  for await (const f of scanFilesNewestFirst(arrowDir)) return f.key;
  return null;
}

/**
 * The numbered scan files in the `YYYY-MM-DD` folders, newest first (scan order, from the
 * names), regular files only; each day folder is listed only when the walk gets to it. Nothing
 * when the folder does not exist; other errors listing it are thrown.
 */
export async function* scanFilesNewestFirst(arrowDir: string): AsyncGenerator<{ relPath: string; key: ScanOrderKey }> {
  let days: string[];
  try {
    days = (await readdir(arrowDir, { withFileTypes: true })).filter((d) => d.isDirectory() && DAY_RE.test(d.name)).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const day of days.sort().reverse()) {
    // A folder removed or unreadable meanwhile holds nothing we can see.
    const entries = await readdir(join(arrowDir, day), { withFileTypes: true }).catch(() => [] as Dirent[]);
    const numbered = entries
      .filter((e) => isScanCandidate(e.name) && mayBeRegular(e))
      .map((e) => ({ e, p: parseScanPath(`${day}/${e.name}`) }))
      .filter((x) => x.p.scanNumber !== undefined)
      .map(({ e, p }) => ({ e, k: fileOrder(p) }))
      .sort((a, b) => compareScans(b.k, a.k));
    // Only a regular file can be a scan: a FIFO or a folder named like a newer one is not "newer on disk".
    for (const { e, k } of numbered) {
      if (!e.isSymbolicLink() || (await isRegularFile(join(arrowDir, day, e.name)))) yield { relPath: `${day}/${e.name}`, key: k };
    }
  }
}

const pad = (v: number, n: number) => String(v).padStart(n, '0');

/** `scan_<NNNNNN>_<HHMMSS>.arrow`, time in UTC. */
export function scanFileName(scanNumber: number, time: Date): string {
  const hms = pad(time.getUTCHours(), 2) + pad(time.getUTCMinutes(), 2) + pad(time.getUTCSeconds(), 2);
  return `scan_${pad(scanNumber, 6)}_${hms}.arrow`;
}

/** `YYYY-MM-DD`, UTC. */
export function dayFolder(time: Date): string {
  return `${pad(time.getUTCFullYear(), 4)}-${pad(time.getUTCMonth() + 1, 2)}-${pad(time.getUTCDate(), 2)}`;
}

/** `<YYYY-MM-DD>/scan_<NNNNNN>_<HHMMSS>.arrow`, relative to the scan folder. */
export function scanRelPath(scanNumber: number, time: Date): string {
  return `${dayFolder(time)}/${scanFileName(scanNumber, time)}`;
}

interface ScanPaths {
  dir: string;
  /** Where readers find the scan. */
  path: string;
  relPath: string;
  /** Beside it, ignored by readers (a dotfile ending in .tmp) until renamed into place. */
  tempPath: string;
}

function scanPaths(arrowDir: string, scanNumber: number, time: Date): ScanPaths {
  const relPath = scanRelPath(scanNumber, time);
  const path = join(arrowDir, relPath);
  const dir = dirname(path);
  return { dir, path, relPath, tempPath: join(dir, `.${basename(path)}.tmp`) };
}

/**
 * Writes the scan to `<arrowDir>/<day>/.<name>.tmp`, flushes it to disk and renames it into
 * place, so readers never see a partial file. Returns the final path; on failure no temp file
 * is left behind.
 */
export async function writeScanFile(arrowDir: string, scanNumber: number, time: Date, bytes: Uint8Array): Promise<string> {
  const p = scanPaths(arrowDir, scanNumber, time);
  await mkdir(p.dir, { recursive: true });
  try {
    const fh = await open(p.tempPath, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(p.tempPath, p.path);
  } catch (err) {
    await unlink(p.tempPath).catch(() => undefined);
    throw err;
  }
  return p.path;
}

export interface StagedScanFile {
  path: string;
  relPath: string;
  /** Renames the scan into place: the moment readers see it. */
  publish(): void;
}

/**
 * The first half of the atomic write, synchronously and without fsync (as a pyarrow producer
 * writes): the bytes under the temporary name, published later. Benchmarks time from `publish`.
 */
export function stageScanFile(arrowDir: string, scanNumber: number, time: Date, bytes: Uint8Array): StagedScanFile {
  const p = scanPaths(arrowDir, scanNumber, time);
  mkdirSync(p.dir, { recursive: true });
  writeFileSync(p.tempPath, bytes);
  return { path: p.path, relPath: p.relPath, publish: () => renameSync(p.tempPath, p.path) };
}

/** `stageScanFile` and `publish` at once; returns the final path. */
export function writeScanFileSync(arrowDir: string, scanNumber: number, time: Date, bytes: Uint8Array): string {
  const staged = stageScanFile(arrowDir, scanNumber, time, bytes);
  staged.publish();
  return staged.path;
}
