import { readdir } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

const SCAN_NAME = /^scan_(\d+)_(\d{2})(\d{2})(\d{2})\.[A-Za-z0-9]+$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const SUFFIXES = ['.arrow', '.arrows', '.feather', '.ipc'];

/** Whether a path may hold a scan: not a dotfile, not `*.tmp`, an Arrow suffix. */
export function isScanCandidate(path: string): boolean {
  const name = basename(path);
  if (name.startsWith('.') || name.endsWith('.tmp')) return false;
  return SUFFIXES.some((s) => name.endsWith(s));
}

/** The scan number in `scan_<N>_<HHMMSS>.arrow`, or undefined. */
export function scanNumberFromName(path: string): number | undefined {
  const m = SCAN_NAME.exec(basename(path));
  return m ? Number(m[1]) : undefined;
}

/** Epoch ms of the scan from its day folder and the HHMMSS of its name (UTC), or undefined. */
export function scanTimeFromPath(relPath: string): number | undefined {
  const parts = relPath.split(/[\\/]/);
  const m = SCAN_NAME.exec(parts[parts.length - 1] ?? '');
  const d = DAY.exec(parts[parts.length - 2] ?? '');
  if (!m || !d) return undefined;
  const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(m[2]), Number(m[3]), Number(m[4]));
  return Number.isFinite(t) ? t : undefined;
}

export function relativeToRoot(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

export interface ScanFileRef {
  path: string;
  relPath: string;
  /** From the name; undefined when the name does not follow the contract. */
  scanNumber: number | undefined;
}

/**
 * Every scan candidate in `root/<day>/`, oldest first by scan number from the name (files
 * without one first, by name). Reads directory listings only, never the files.
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
    let names: string[];
    try {
      names = await readdir(join(root, day));
    } catch {
      continue;
    }
    for (const name of names) {
      if (!isScanCandidate(name)) continue;
      out.push({ path: join(root, day, name), relPath: `${day}/${name}`, scanNumber: scanNumberFromName(name) });
    }
  }
  return out.sort((a, b) => (a.scanNumber ?? -1) - (b.scanNumber ?? -1) || (a.relPath < b.relPath ? -1 : 1));
}

/** History key: the scan number zero-padded to six digits, as in the file names. */
export function historyKey(scanNumber: number): string {
  return String(scanNumber).padStart(6, '0');
}
