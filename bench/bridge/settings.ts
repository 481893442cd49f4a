/** The bridge benchmark's settings: command-line flags, sizes and targets. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VARIANTS, type Variant } from './variants.js';

export const argv = process.argv.slice(2);
export const QUICK = argv.includes('--quick');
export const KEEP_DIRS = argv.includes('--keep-dirs');
/** Only the latency measure (the three-way comparison): skips backlog and memory. */
export const LATENCY_ONLY = argv.includes('--latency-only');
/** Only the backlog measure (with --backlog-variant: newest-first's effect); prints its JSON, writes no file. */
export const BACKLOG_ONLY = argv.includes('--backlog-only');
/** Memory phase: delete each file once pushed (the folder stays small) instead of keeping all, as a real scanner does. */
export const DELETE_PUSHED = argv.includes('--delete-pushed');
/** `--profile-child DIR`: run each bridge child with --cpu-prof into DIR (evidence for bottlenecks). */
export const PROFILE_DIR = argv.includes('--profile-child') ? path.resolve(argv[argv.indexOf('--profile-child') + 1] ?? 'bench-profiles') : undefined;
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHILD = path.join(ROOT, 'bench', 'bridge-child.ts');
/** `--flag N`: a whole number given on the command line, or the default. */
function intFlag(name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a whole number above 0`);
  return v;
}
/** `--variants a,b`: the bridges of the latency measure (variants.ts); the product always first. */
export const VARIANTS_RUN: Variant[] = (() => {
  const i = argv.indexOf('--variants');
  const asked = i < 0 ? ['main-thread'] : (argv[i + 1] ?? '').split(',').filter((v) => v && v !== 'product');
  for (const v of asked) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: ${v} is not one of ${VARIANTS.join(', ')}`);
  return ['product', ...(asked as Variant[])];
})();
/** `--backlog-variant V`: the bridge of the backlog measure (variants.ts), e.g. `fifo` for newest-first's effect. */
export const BACKLOG_VARIANT: Variant = (() => {
  const i = argv.indexOf('--backlog-variant');
  const v = i < 0 ? 'product' : (argv[i + 1] ?? '');
  if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--backlog-variant: ${v} is not one of ${VARIANTS.join(', ')}`);
  return v as Variant;
})();
/** `--runs N`: the latency measure N times on the same member, for the p99 target (below the peer's in 4 of 5). */
export const RUNS = intFlag('--runs', 1);
/** `--idle-s N`: seconds of no scans after the latency measure, for the idle CPU. */
export const IDLE_S = intFlag('--idle-s', QUICK ? 15 : 60);
/** The idle `start --role bridge` process is measured over this long (a minute unless --quick). */
export const IDLE_PROCESS_S = QUICK ? 15 : 60;

export const P = {
  assets: intFlag('--assets', 400),
  ratePerS: 10,
  warmupScans: QUICK ? 10 : 20,
  latencyScans: intFlag('--scans', QUICK ? 200 : 1000),
  backlogFiles: QUICK ? 2000 : 10_000,
  backlogTailScans: QUICK ? 20 : 50,
  memFirst: 1000,
  memTotal: QUICK ? 5000 : 50_000,
  memSampleEvery: QUICK ? 1000 : 10_000,
  memInFlight: 16,
  historyTtlS: 86_400,
  templates: 32,
  hzHeap: QUICK ? '1g' : '3g',
  deadlineMs: (QUICK ? 6 : 40) * 60_000,
};
export const TARGETS = { latencyP50Ms: 10, latencyP99Ms: 30, backlogNewestMs: 2000, historyScansPerS: 1000, memoryGrowthMb: 20 };
export const KEY = 'latest_eigen_scan';
