/**
 * Bridge benchmark: `npm run bench:bridge -- [--quick] [--latency-only] [--keep-dirs]`.
 *
 * Starts its own Hazelcast member (startHazelcast, free port) and, per phase, a fresh bridge in a
 * child process (bench/bridge-child.ts) on a fresh temp ARROW_DIR and fresh map names. Prints ONE
 * JSON object on stdout; progress goes to stderr. A full run also writes the JSON to
 * bench/results/bridge-<YYYY-MM-DD>.json.
 *
 * Phases, all on 400-asset canonical wide scans, file bytes encoded before any timing:
 * 1. latency   — 10 scans/s of 400-asset LZ4 files (pyarrow's feather writer) renamed into the day
 *                folder (written to `.<name>.tmp` first, the time taken just before the rename); a
 *                second Hazelcast client in this process listens on `latest_eigen_scan` and records
 *                when each scan number becomes readable.
 *    main-thread decoding — issue 8's figure: the same bridge in a second child that decodes each
 *                file on its main thread (bench only, bench/bridge/main-thread-decode.ts), fed the
 *                same files in its own folder 15 ms before or after the bridge, by turns; the JSON's
 *                latency.pool_cost.added_p50_ms is the p50 the decode pool adds (target <= 0.3 ms).
 *    python peer — interleaved, the same files renamed into the folder of bench/bridge/python_peer.py,
 *                the old Python design (watchdog, pyarrow, json.dumps, one map.set), in its own process.
 *    floor     — interleaved in the same loop, the same payload strings (built with the bridge's
 *                own readScan + buildPayload up front) written with `map.set` by a writer client
 *                to another map, observed by the same listener client. `floor_cas` does the same
 *                with the bridge's write pattern (putIfAbsent, then replaceIfSame on the previous
 *                value) to split the overhead between the file path and the compare-and-set.
 * 2. backlog   — N files in <ARROW_DIR>/<today>/ before start-up; time from start() to the newest
 *                scan in `latest_eigen_scan`, and history throughput until caughtUp().
 * 3. memory    — scans pushed as fast as the bridge keeps up (bounded in-flight, acknowledged by
 *                the history entry appearing); RSS after GC at the first and last checkpoints.
 *
 * All latency times are taken in this process with performance.now() (one clock). The backlog
 * start time comes from the child as performance.timeOrigin + performance.now(), compared with the
 * same expression here (both processes read the same system clock).
 *
 * One file per measure under bench/bridge/ (latency.ts, backlog.ts, memory.ts, micro.ts), sharing
 * harness.ts (clocks, summaries, clean-up, the bench's clients), child.ts (the bridge process),
 * scans.ts (the files) and settings.ts.
 */
import { mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HAZELCAST_VERSION, startHazelcast } from '../scripts/servers/services.js';
import { phaseBacklog } from './bridge/backlog.js';
import { benchClient, cleanupAll, mono, onCleanup, progress } from './bridge/harness.js';
import { phaseLatency } from './bridge/latency.js';
import { phaseIdleProcess } from './bridge/idle.js';
import { runTargets, type Run } from './bridge/runs.js';
import { phaseMemory } from './bridge/memory.js';
import { microCosts } from './bridge/micro.js';
import { makeTemplates } from './bridge/scans.js';
import { argv, BACKLOG_ONLY, DELETE_PUSHED, KEEP_DIRS, LATENCY_ONLY, P, QUICK, ROOT, RUNS, TARGETS } from './bridge/settings.js';

const results: Record<string, unknown> = {};
let finished = false;
async function abort(reason: string, code: number): Promise<never> {
  if (finished) process.exit(code);
  finished = true;
  progress(`aborting: ${reason}`);
  await cleanupAll();
  process.stdout.write(JSON.stringify({ error: reason, partial: results }, null, 2) + '\n');
  process.exit(code);
}
process.on('SIGINT', () => void abort('interrupted (SIGINT)', 130));
process.on('SIGTERM', () => void abort('terminated (SIGTERM)', 143));
const watchdog = setTimeout(() => void abort(`deadline of ${P.deadlineMs / 60_000} min exceeded`, 2), P.deadlineMs);
watchdog.unref();

async function main(): Promise<void> {
  const t0 = mono();
  const startedAt = new Date().toISOString();
  const cpus = os.cpus();
  // The machine may be shared: the 1-minute load average around each phase says how busy it was.
  const loads: Record<string, number> = {};
  const load = (at: string) => void (loads[at] = Math.round(os.loadavg()[0]! * 100) / 100);
  results.bench = 'scan-bridge / bridge';
  results.command = `npm run bench:bridge${argv.length ? ' -- ' + argv.join(' ') : ''}`;
  results.started_at = startedAt;
  results.machine = {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    total_mem_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    load_avg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
    load_avg_1m: loads,
  };

  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'scan-bridge-bench-'));
  onCleanup('temp folder', () => (KEEP_DIRS ? Promise.resolve() : rm(tmpRoot, { recursive: true, force: true })));

  progress('measuring the per-scan cost of readScan and buildPayload');
  const micro = microCosts();
  progress(`preparing ${P.templates} scan templates for the backlog and memory phases`);
  const templates = makeTemplates(P.templates);

  progress(`starting a Hazelcast ${HAZELCAST_VERSION} member (heap ${P.hzHeap})`);
  const member = await startHazelcast({ heap: P.hzHeap });
  onCleanup('hazelcast member', () => member.stop());
  progress(`member at ${member.address}`);
  const observer = await benchClient(member, 'observer');
  const writer = await benchClient(member, 'writer');

  results.settings = {
    assets: P.assets,
    rate_per_s: P.ratePerS,
    file_bytes: micro.file_bytes,
    payload_chars: micro.payload_chars,
    warmup_scans: P.warmupScans,
    latency_scans: P.latencyScans,
    backlog_files: P.backlogFiles,
    memory_checkpoints: [P.memFirst, P.memTotal],
    memory_in_flight: P.memInFlight,
    history_ttl_s: P.historyTtlS,
    bridge_log_level: 'silent',
    hazelcast_member: { version: HAZELCAST_VERSION, heap: P.hzHeap, gc: 'SerialGC, TieredStopAtLevel=1 (startHazelcast defaults)', address: member.address },
    quick: QUICK,
  };
  results.micro_per_scan = {
    note: 'bench process (code run by tsx), warm JIT, uncompressed canonical scans; read_scan_ms: apache-arrow (readScan, no body JSON); read_scan_text_ms: what the decode worker does (readScanText: the fast decoder, head and body JSON); the bridge builds the payload once per scan (latest and history share it while it is under a second old)',
    read_scan_ms: micro.read_scan_ms,
    read_scan_text_ms: micro.read_scan_text_ms,
    build_payload_ms: micro.build_payload_ms,
  };

  if (BACKLOG_ONLY) {
    // Newest-first's measure: the same backlog with the product and with `--backlog-variant fifo`.
    results.backlog = await phaseBacklog(member, observer, tmpRoot, templates);
    finished = true;
    await cleanupAll();
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    process.exit(0);
  }
  load('latency_start');
  const latencyRuns: Array<Awaited<ReturnType<typeof phaseLatency>>> = [];
  for (let run = 1; run <= RUNS; run++) {
    latencyRuns.push(await phaseLatency(member, observer, writer, tmpRoot));
    progress(`latency run ${run}/${RUNS} done: ${JSON.stringify(latencyRuns.at(-1)!.comparison.table)}`);
    load(`latency_run_${run}_end`);
  }
  results.latency = latencyRuns[0];
  if (RUNS > 1) results.latency_runs = latencyRuns.slice(1);
  load('latency_end');
  results.idle_process = await phaseIdleProcess(member, tmpRoot);
  progress(`idle process done: ${JSON.stringify(results.idle_process)}`);
  load('idle_end');
  if (!LATENCY_ONLY) {
    results.backlog = await phaseBacklog(member, observer, tmpRoot, templates);
    progress('backlog done');
    load('backlog_end_memory_start');
    results.memory = await phaseMemory(member, observer, tmpRoot, templates);
    progress('memory done');
    load('memory_end');
  }

  const B = results.backlog as Awaited<ReturnType<typeof phaseBacklog>> | undefined;
  const M = results.memory as Awaited<ReturnType<typeof phaseMemory>> | undefined;
  const figures = (e: {
    latency_ms: { p50: number | null; p99: number | null; missing: number };
    cost: { while_scanning: { cpu_ms_per_scan: number | null }; rss_mb_idle_end: number };
  }) => ({
    p50: e.latency_ms.p50,
    p99: e.latency_ms.p99,
    cpuPerScan: e.cost.while_scanning.cpu_ms_per_scan,
    missing: e.latency_ms.missing,
    idleRssMb: e.cost.rss_mb_idle_end,
  });
  const runs: Run[] = latencyRuns.map((l) => ({ bridge: figures(l.contenders.product!), peer: figures(l.contenders.python_peer!) }));
  const short = (f: Run['bridge']) => ({ p50_ms: f.p50, p99_ms: f.p99, cpu_ms_per_scan: f.cpuPerScan });
  results.runs_table = runs.map((r, i) => ({ run: i + 1, scan_bridge: short(r.bridge), python_peer: short(r.peer) }));
  const targets = [
    ...runTargets(runs, results.idle_process as { percent_of_a_core: number; rss_mb: number } | undefined),
    ...(B ? [{ name: 'backlog newest', target: `<= ${TARGETS.backlogNewestMs} ms`, value: B.newest_ms, met: B.met.newest }] : []),
    ...(B ? [{ name: 'backlog history rate', target: `>= ${TARGETS.historyScansPerS} scans/s`, value: B.history_scans_per_s, met: B.met.history_rate }] : []),
    ...(M ? [{ name: 'memory growth', target: `<= ${TARGETS.memoryGrowthMb} MB`, value: M.growth_mb, met: M.met.growth }] : []),
  ];
  results.targets = targets;
  results.all_met = targets.every((t) => t.met);
  results.notes = [
    'Every phase uses a fresh temp ARROW_DIR, fresh map names and a fresh bridge child (node --expose-gc --import tsx bench/bridge-child.ts); maps are destroyed after each phase.',
    'Latency files are written without fsync (a pyarrow producer does not fsync either); the write happens before the timed rename.',
    DELETE_PUSHED
      ? 'Memory phase run with --delete-pushed: each file deleted once its history entry exists.'
      : `Memory phase keeps all ${P.memTotal} files, as a real scanner does; the bridge watches each day folder with one inotify watch, so the cost of an event does not grow with the folder (see latency.bridge_p50_by_folder_size and backlog.live_latency_with_folder_full_ms).`,
    'Backlog and memory files are patched copies of 32 encoded canonical scans (scan_number and timestamp rewritten in the Arrow body; each template read back with readScan); latency files are each encoded from their own makeScan.',
    'Both bench processes and the Hazelcast member share the machine; the bench process runs the observer and writer clients.',
  ];
  results.duration_s = Math.round((mono() - t0) / 100) / 10;

  finished = true;
  await cleanupAll();
  const json = JSON.stringify(results, null, 2);
  if (!QUICK) {
    const out = path.join(ROOT, 'bench', 'results', `bridge${LATENCY_ONLY ? '-latency' : ''}-${startedAt.slice(0, 10)}.json`);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, json + '\n');
    progress(`written to ${path.relative(ROOT, out)}`);
  }
  process.stdout.write(json + '\n');
  process.exit(0);
}

main().catch((err: unknown) => void abort(err instanceof Error ? (err.stack ?? err.message) : String(err), 1));
