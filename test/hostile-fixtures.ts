import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';
import { PYTHON } from './python.js';

/**
 * Writes the hostile scan files of test/fixtures/make_hostile.py (pyarrow) into a new folder;
 * returns it. `seedsOnly`: only the small valid scans the fuzz test mutates.
 */
export function makeHostileFiles(opts: { seedsOnly?: boolean } = {}): string {
  const out = tempDir('scan-hostile-');
  const script = fileURLToPath(new URL('./fixtures/make_hostile.py', import.meta.url));
  execFileSync(PYTHON, [script, out, ...(opts.seedsOnly ? ['--seeds-only'] : [])], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  return out;
}

/** Highest RSS the process ever had (VmHWM), MiB. */
export function peakRssMb(pid: number | 'self', status: (p: string) => string): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(status(`/proc/${pid}/status`));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
