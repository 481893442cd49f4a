/**
 * Watch-mode benchmark: `npx tsx bench/watch.ts [--quick] [--files N]`.
 *
 * What it costs to see new scan files in a day folder that already holds 10,000 of them, for:
 * - `poll`: scan-bridge's own listing (src/bridge/poller.ts), every 1000 ms (WATCH_POLL_MS);
 * - `events`: inotify per day folder plus the safety rescan every 5000 ms (WATCH_RESCAN_MS);
 * - `chokidar_poll`: chokidar 5 with `usePolling` at the same 1000 ms, the design card's option.
 *
 * Each runs alone in its own child process (`--child <kind>`) on its own copy of the folder:
 * start-up (until it watches), CPU while nothing happens (`process.cpuUsage` over an idle
 * window), RSS, and the latency of new files renamed into place one by one (from the rename to
 * the watcher's callback, one clock: both in the child). Prints ONE JSON object on stdout; a full
 * run also writes it to bench/results/watch-<YYYY-MM-DD>.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { watch as chokidarWatch } from 'chokidar';
import { startFolderPoller } from '../src/bridge/watch/poller.js';
import { openScanSource } from '../src/bridge/watch/scan-source.js';
import { decideWatchMode } from '../src/bridge/watch/watch-mode.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';

const KINDS = ['poll', 'events', 'chokidar_poll'] as const;
type Kind = (typeof KINDS)[number];

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const FILES = flag('--files', QUICK ? 2000 : 10_000);
const IDLE_MS = QUICK ? 3000 : 20_000;
const NEW_FILES = QUICK ? 5 : 20;
const POLL_MS = 1000;
const RESCAN_MS = 5000;
/** ~13 KB, the size of a 400-asset scan: listing and stat costs do not depend on the content. */
const FILE_BYTES = Buffer.alloc(13_000, 1);

interface ChildResult {
  kind: Kind;
  files: number;
  startMs: number;
  idleCpuMsPerS: number;
  idleCpuPercentOfOneCore: number;
  rssMb: number;
  latencyMs: { p50: number; max: number; all: number[] };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** A root with one day folder of `files` scan files, a second apart by name. */
function makeFolder(files: number): { root: string; day: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'watch-bench-'));
  const t0 = Date.UTC(2026, 10, 28, 0, 0, 0);
  const day = path.join(root, dayFolder(new Date(t0)));
  mkdirSync(day);
  for (let n = 1; n <= files; n++) writeFileSync(path.join(day, scanFileName(n, new Date(t0 + n * 1000))), FILE_BYTES);
  return { root, day };
}

/** Starts one watcher kind; resolves once it watches, with a way to stop it. */
async function startWatcher(kind: Kind, root: string, onFile: (p: string) => void): Promise<() => Promise<void>> {
  if (kind === 'poll') {
    const p = await startFolderPoller({ root, intervalMs: POLL_MS, file: onFile, problem: (m) => process.stderr.write(`${m}\n`) });
    return () => Promise.resolve(p.close());
  }
  if (kind === 'events') {
    const s = await openScanSource(
      root,
      decideWatchMode('events', null),
      { pollMs: POLL_MS, rescanMs: RESCAN_MS },
      { file: onFile, error: (e) => process.stderr.write(`${e.message}\n`), problem: (m) => process.stderr.write(`${m}\n`) },
    );
    return () => Promise.resolve(s.close());
  }
  const w = chokidarWatch(root, {
    usePolling: true,
    interval: POLL_MS,
    binaryInterval: POLL_MS,
    ignoreInitial: true,
    depth: 1,
    ignored: (p: string) => path.basename(p).startsWith('.'),
  });
  w.on('add', (p: string) => onFile(p));
  await new Promise<void>((ok) => w.once('ready', () => ok()));
  return () => w.close();
}

async function child(kind: Kind): Promise<ChildResult> {
  const { root, day } = makeFolder(FILES);
  const seen = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const t0 = performance.now();
  const stop = await startWatcher(kind, root, (p) => {
    const name = path.basename(p);
    if (!seen.has(name)) seen.set(name, performance.now());
    waiters.get(name)?.();
  });
  const startMs = performance.now() - t0;
  // Let start-up work (chokidar's stat of every file) settle before measuring the idle cost.
  await new Promise((r) => setTimeout(r, 2000));
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const cpu = process.cpuUsage(cpu0);
  const idleCpuMsPerS = (cpu.user + cpu.system) / 1000 / ((performance.now() - w0) / 1000);
  const rssMb = process.memoryUsage().rss / 1024 / 1024;

  const latencies: number[] = [];
  for (let i = 0; i < NEW_FILES; i++) {
    const n = FILES + 1 + i;
    const name = scanFileName(n, new Date(Date.UTC(2026, 10, 28, 0, 0, 0) + n * 1000));
    const tmp = path.join(day, `.${name}.tmp`);
    writeFileSync(tmp, FILE_BYTES);
    const got = new Promise<void>((ok) => waiters.set(name, ok));
    const at = performance.now();
    renameSync(tmp, path.join(day, name));
    await Promise.race([got, new Promise((r) => setTimeout(r, 15_000))]);
    latencies.push(seen.has(name) ? seen.get(name)! - at : Infinity);
    // Spread the arrivals over the polling cycle.
    await new Promise((r) => setTimeout(r, 150 + ((i * 373) % 600)));
  }
  await stop();
  rmSync(root, { recursive: true, force: true });
  return {
    kind,
    files: FILES,
    startMs: round(startMs),
    idleCpuMsPerS: round(idleCpuMsPerS, 2),
    idleCpuPercentOfOneCore: round(idleCpuMsPerS / 10, 2),
    rssMb: round(rssMb),
    latencyMs: { p50: round(quantile(latencies, 0.5)), max: round(Math.max(...latencies)), all: latencies.map((x) => round(x)) },
  };
}

function runChild(kind: Kind): Promise<ChildResult> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', kind, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => (code === 0 ? ok(JSON.parse(out) as ChildResult) : fail(new Error(`${kind} child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const i = args.indexOf('--child');
  if (i >= 0) {
    process.stdout.write(JSON.stringify(await child(args[i + 1] as Kind)));
    return;
  }
  const results: Record<string, ChildResult> = {};
  for (const kind of KINDS) {
    process.stderr.write(`watch bench: ${kind} on ${FILES} files…\n`);
    results[kind] = await runChild(kind);
  }
  const out = {
    bench: 'watch',
    command: `npx tsx bench/watch.ts${args.length ? ' ' + args.join(' ') : ''}`,
    at: new Date().toISOString(),
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    settings: { files: FILES, idleWindowMs: IDLE_MS, newFiles: NEW_FILES, pollMs: POLL_MS, rescanMs: RESCAN_MS, fileBytes: FILE_BYTES.length },
    results,
  };
  const json = JSON.stringify(out, null, 2);
  process.stdout.write(json + '\n');
  if (!QUICK) {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `watch-${out.at.slice(0, 10)}.json`), json + '\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
