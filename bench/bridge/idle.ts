/**
 * Measure 4: the idle cost of the process an operator runs, `node dist/cli.js start --role bridge`
 * (the bridge, its BullMQ worker and its Redis connections, default settings), on this run's
 * Hazelcast member and a Redis of its own, with no scans arriving: CPU of all threads over IDLE_PROCESS_S
 * (after SETTLE_MS), resident memory and threads, from /proc. The same process runs with
 * `--cpu-prof`, and the profile's samples inside the measured window say what the main thread's
 * CPU was spent on, by the module whose code the timer or socket callback ran.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startRedis, type Started } from '../../scripts/servers/services.js';
import { sleep } from '../../src/time.js';
import { mono, onCleanup, progress, r2 } from './harness.js';
import { procSample, cpuBetween } from './proc.js';
import { IDLE_PROCESS_S as IDLE_S, ROOT } from './settings.js';

const SETTLE_MS = 20_000;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Who a stack's code belongs to: a package under node_modules, a file of ours, Node itself, or V8's own entries. */
function owner(url: string, fn: string): string | null {
  if (!url) return fn.startsWith('(') ? fn : null;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ours = /\/dist\/(.+)\.js$/.exec(url);
  if (ours) return `src/${ours[1]}`;
  return null; // node:internal and the like: look further up the stack
}

/** CPU ms of the profile's samples between `fromUs` and `toUs` after its start, by owner (the outermost frame that is not Node's own). */
export function attribute(p: Profile, fromUs: number, toUs: number): Array<{ owner: string; ms: number }> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ownerOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const cached = ownerOf.get(id);
    if (cached) return cached;
    let found = 'node (internal)';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      const o = owner(n.callFrame.url, n.callFrame.functionName);
      if (o && o !== '(root)') found = o;
    }
    ownerOf.set(id, found);
    return found;
  };
  const totals = new Map<string, number>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const o = resolve(p.samples[i]!);
    if (o === '(idle)') continue;
    totals.set(o, (totals.get(o) ?? 0) + dt / 1000);
  }
  return [...totals].map(([o, ms]) => ({ owner: o, ms: r2(ms)! })).sort((a, b) => b.ms - a.ms);
}

/** One `start --role bridge` process on its own prefix and maps; `profDir`: with --cpu-prof into it. */
function spawnBridge(member: Started, redis: Started, dir: string, name: string, profDir?: string) {
  const id = `${name}${process.pid}`;
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const child = spawn(process.execPath, [...prof, path.join(ROOT, 'dist', 'cli.js'), 'start', '--role', 'bridge'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redis.address,
      HZ_MEMBERS: member.address,
      HZ_CLUSTER_NAME: 'dev',
      HZ_MAP: `BENCH_IDLE_${id}`,
      HZ_HISTORY_MAP: `BENCH_IDLE_HIST_${id}`,
      ARROW_DIR: path.join(dir, `arrow-${name}`),
      QUEUE_PREFIX: id,
      BOARD_PORT: '0',
      LOG_PRETTY: '0',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<void>((ok) => child.on('exit', () => ok()));
  const forget = onCleanup(`idle bridge process ${name}`, () => Promise.resolve(void child.kill('SIGKILL')));
  return {
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      forget();
    },
  };
}

export async function phaseIdleProcess(member: Started, tmpRoot: string) {
  const redis = await startRedis();
  const forgetRedis = onCleanup('idle redis', () => redis.stop());
  const dir = mkdtempSync(path.join(tmpRoot, 'idle-'));
  const profDir = path.join(dir, 'prof');
  // Measured without a profiler (its sampling would cost CPU); a twin with --cpu-prof says where the CPU goes.
  const measured = spawnBridge(member, redis, dir, 'idle');
  const profiled = spawnBridge(member, redis, dir, 'idleprof', profDir);
  const spawnedAt = mono();
  progress(
    `idle process: start --role bridge (pid ${measured.pid}, and pid ${profiled.pid} with --cpu-prof), ${SETTLE_MS / 1000} s to settle, then ${IDLE_S} s measured`,
  );
  await sleep(SETTLE_MS);
  const a = procSample(measured.pid);
  const t0 = mono();
  await sleep(IDLE_S * 1000);
  const b = procSample(measured.pid);
  const t1 = mono();
  await Promise.all([measured.stop(), profiled.stop()]);
  const prof = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  // The profile starts as the process does: the window's times after the spawn, in µs.
  const spent = prof ? attribute(JSON.parse(readFileSync(path.join(profDir, prof), 'utf8')) as Profile, (t0 - spawnedAt) * 1000, (t1 - spawnedAt) * 1000) : [];
  await redis.stop();
  forgetRedis();
  await rm(dir, { recursive: true, force: true });
  const cpu = cpuBetween(a, b, t1 - t0, 0);
  return {
    what: 'node dist/cli.js start --role bridge, default settings, no scans; CPU of all threads from /proc over the window',
    idle_s: IDLE_S,
    cpu_s_per_minute: r2((cpu.cpu_ms / (t1 - t0)) * 60),
    percent_of_a_core: cpu.percent_of_a_core,
    rss_mb: b.rssMb,
    threads: b.threads,
    main_thread_cpu_ms_by_owner: spent.slice(0, 12),
    note: "main_thread_cpu_ms_by_owner: from a twin process run with --cpu-prof over the same window, its samples by the outermost frame that is not Node's own (idle samples left out); the main thread only: GC and the decode thread are not in it.",
  };
}
