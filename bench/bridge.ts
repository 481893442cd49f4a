/**
 * Bridge benchmark: `npx tsx bench/bridge.ts [--quick] [--keep-dirs]`.
 *
 * Starts its own Hazelcast member (startHazelcast, free port) and, per phase, a fresh bridge in a
 * child process (bench/bridge-child.ts) on a fresh temp ARROW_DIR and fresh map names. Prints ONE
 * JSON object on stdout; progress goes to stderr. A full run also writes the JSON to
 * bench/results/bridge-<YYYY-MM-DD>.json.
 *
 * Phases, all on 400-asset canonical wide scans, file bytes encoded before any timing:
 * 1. latency   — 10 scans/s renamed into the day folder (written to `.<name>.tmp` first, the time
 *                taken just before the rename); a second Hazelcast client in this process listens
 *                on `latest_eigen_scan` and records when each scan number becomes readable.
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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Client, type IMap, type EntryEvent } from 'hazelcast-client';
import { hazelcastClientConfig } from '../src/connections.js';
import { createLogger } from '../src/log.js';
import { startHazelcast, HAZELCAST_VERSION, type Started } from '../src/dev/services.js';
import { makeScan, encodeScan, type ScanRow } from '../src/demo/scan-writer.js';
import { buildPayload } from '../src/bridge/payload.js';
import { readScan, type Scan } from '../src/bridge/read-scan.js';
import { dayFolder, scanRelPath, stageScanFile, writeScanFileSync, type StagedScanFile } from '../src/bridge/scan-files.js';
import { registerCompression } from '../src/bridge/compression.js';

// ---------------------------------------------------------------------------------------------
// Settings

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const KEEP_DIRS = argv.includes('--keep-dirs');
/** Memory phase: delete each file once pushed (the folder stays small) instead of keeping all, as a real scanner does. */
const DELETE_PUSHED = argv.includes('--delete-pushed');
/** `--profile-child DIR`: run each bridge child with --cpu-prof into DIR (evidence for bottlenecks). */
const PROFILE_DIR = argv.includes('--profile-child') ? path.resolve(argv[argv.indexOf('--profile-child') + 1] ?? 'bench-profiles') : undefined;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = path.join(ROOT, 'bench', 'bridge-child.ts');

const P = {
  assets: 400,
  ratePerS: 10,
  warmupScans: QUICK ? 10 : 20,
  latencyScans: QUICK ? 200 : 1000,
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
const TARGETS = { latencyP50Ms: 10, latencyP99Ms: 30, backlogNewestMs: 2000, historyScansPerS: 1000, memoryGrowthMb: 20 };
const KEY = 'latest_eigen_scan';

// ---------------------------------------------------------------------------------------------
// Small helpers

const mono = (): number => performance.now();
const epoch = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const sleepUntil = (t: number) => sleep(t - mono());
const r2 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Summary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  min: number | null;
  mean: number | null;
}

function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : null);
  return {
    count: s.length,
    p50: r2(q(50)),
    p90: r2(q(90)),
    p99: r2(q(99)),
    max: r2(s[s.length - 1]),
    min: r2(s[0]),
    mean: r2(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null),
  };
}

/** Wakes up waiters whenever something changes; `until` re-checks a predicate on each change. */
class Signal {
  private waiters: Array<() => void> = [];
  fire(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until(pred: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    const deadline = mono() + timeoutMs;
    while (!pred()) {
      const left = deadline - mono();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
  }
}

/**
 * Latency of each sent scan: until that scan, or a newer one, became readable (a consumer that
 * reads the key then has data at least as new). The bridge may coalesce: when two files are seen
 * at once only the newest is written to the key. `superseded` counts scans first covered by a
 * newer one; `missing` counts scans nothing covered.
 */
function latencies(sent: Array<{ n: number; t0: number }>, seen: Map<number, number>) {
  const ordered = [...seen].sort((a, b) => a[0] - b[0]);
  const xs: number[] = [];
  const perScan = new Map<number, number>();
  let superseded = 0;
  let missing = 0;
  for (const { n, t0 } of sent) {
    let t1 = seen.get(n);
    if (t1 === undefined) {
      // the earliest time any scan >= n was seen
      for (const [m, t] of ordered) if (m >= n && (t1 === undefined || t < t1)) t1 = t;
      if (t1 === undefined) {
        missing++;
        continue;
      }
      superseded++;
    }
    xs.push(t1 - t0);
    perScan.set(n, t1 - t0);
  }
  return { xs, perScan, superseded, missing };
}

function scanNumberOf(value: string): number {
  const m = /^\{"scan_number":(\d+)[,}]/.exec(value);
  if (m) return Number(m[1]);
  const n = (JSON.parse(value) as { scan_number?: unknown }).scan_number;
  return typeof n === 'number' ? n : Number(n);
}

// ---------------------------------------------------------------------------------------------
// Clean-up, interruption and the deadline

const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
function onCleanup(what: string, run: () => Promise<void>): () => void {
  const entry = { what, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    await Promise.race([c.run().catch((err: unknown) => progress(`clean-up of ${c.what} failed: ${String(err)}`)), sleep(20_000)]);
  }
}

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

// ---------------------------------------------------------------------------------------------
// Hazelcast clients of the bench (observer and writer)

const benchLog = createLogger('silent', 'bench');

async function benchClient(member: Started, role: string): Promise<Client> {
  const cfg = hazelcastClientConfig({ hzMembers: [member.address], hzClusterName: 'dev' }, benchLog, { kind: 'command', timeoutMs: 30_000 });
  cfg.instanceName = `bench-${role}-${process.pid}`;
  const client = await Client.newHazelcastClient(cfg);
  onCleanup(`hazelcast client ${role}`, () => client.shutdown());
  return client;
}

/** Records, on one key of one map, when each scan number first became readable (mono ms). */
class LatestWatch {
  readonly seen = new Map<number, number>();
  max = -1;
  readonly signal = new Signal();
  private constructor(private readonly map: IMap<string, string>, private id = '') {}

  static async open(client: Client, mapName: string): Promise<LatestWatch> {
    const map = await client.getMap<string, string>(mapName);
    const w = new LatestWatch(map);
    const on = (e: EntryEvent<string, string>) => w.onValue(e.value);
    w.id = await map.addEntryListener({ added: on, updated: on }, KEY, true);
    return w;
  }

  private onValue(value: string | null | undefined): void {
    const t = mono();
    if (typeof value !== 'string') return;
    const n = scanNumberOf(value);
    if (!this.seen.has(n)) this.seen.set(n, t);
    if (n > this.max) this.max = n;
    this.signal.fire();
  }

  async close(): Promise<void> {
    await this.map.removeEntryListener(this.id).catch(() => undefined);
  }
}

/** Counts history entries as they are added (key = zero-padded scan number). */
class HistoryWatch {
  count = 0;
  readonly signal = new Signal();
  private constructor(private readonly map: IMap<string, string>, private id = '', private readonly onAdded?: (n: number) => void) {}

  static async open(client: Client, mapName: string, onAdded?: (n: number) => void): Promise<HistoryWatch> {
    const map = await client.getMap<string, string>(mapName);
    const w = new HistoryWatch(map, '', onAdded);
    w.id = await map.addEntryListener(
      {
        added: (e: EntryEvent<string, string>) => {
          w.count++;
          w.onAdded?.(Number(e.key));
          w.signal.fire();
        },
      },
      undefined,
      false,
    );
    return w;
  }

  async close(): Promise<void> {
    await this.map.removeEntryListener(this.id).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The bridge child process

type ChildMsg = { type: string; [k: string]: unknown };
interface ChildSample {
  t: number;
  gcRan: boolean;
  mem: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  maxRssKb: number;
  stats: Record<string, unknown> & { historyBacklog: number; historyWritten: number; pushed: number; pendingLatest: number | null };
  rejected: number;
}

class BridgeChild {
  private readonly inbox: ChildMsg[] = [];
  private readonly signal = new Signal();
  private exited: string | undefined;
  private readonly forget: () => void;
  readyInfo: ChildMsg | undefined;

  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m) => {
      const msg = m as ChildMsg;
      if (msg.type === 'error') progress(`bridge child error: ${String(msg.message)}`);
      this.inbox.push(msg);
      this.signal.fire();
    });
    proc.on('exit', (code, sig) => {
      this.exited = `exited with ${code ?? sig}`;
      this.signal.fire();
    });
    this.forget = onCleanup(`bridge child ${proc.pid}`, () => this.kill());
  }

  static async spawn(env: Record<string, string>, recordPushes = true): Promise<BridgeChild> {
    const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const proc = spawn(process.execPath, ['--expose-gc', ...prof, '--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: { ...process.env, BENCH_BRIDGE_ENV: JSON.stringify(env), BENCH_RECORD_PUSHES: recordPushes ? '1' : '0', LOG_PRETTY: '0' },
      // The child's stdout goes to our stderr: our stdout carries only the JSON result.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const c = new BridgeChild(proc);
    c.readyInfo = await c.next('ready', 60_000);
    return c;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The next message of this type (taken from the inbox). */
  async next(type: string, timeoutMs: number): Promise<ChildMsg> {
    let found: ChildMsg | undefined;
    await this.signal.until(
      () => {
        const i = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) found = this.inbox.splice(i, 1)[0];
        if (!found && this.exited) throw new Error(`bridge child ${this.exited} while waiting for '${type}'`);
        return found !== undefined;
      },
      timeoutMs,
      `'${type}' from the bridge child`,
    );
    if (found!.type === 'error' && type !== 'error') throw new Error(`bridge child: ${String(found!.message)}`);
    return found!;
  }

  send(msg: Record<string, unknown>): void {
    this.proc.send(msg);
  }

  async sample(gc: boolean): Promise<ChildSample> {
    this.send({ cmd: 'sample', gc });
    return (await this.next('sample', 30_000)) as unknown as ChildSample;
  }

  /** The bridge's own 'pushed' events since the last call: scan number → its latencyMs. */
  async pushes(): Promise<Map<number, number>> {
    this.send({ cmd: 'pushes' });
    return new Map((await this.next('pushes', 30_000)).pushes as Array<[number, number]>);
  }

  async stop(): Promise<void> {
    if (this.exited) return this.forget();
    this.send({ cmd: 'stop' });
    try {
      await this.signal.until(() => this.exited !== undefined, 15_000, 'the bridge child to exit');
    } catch {
      await this.kill();
    }
    this.forget();
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGKILL');
    await this.signal.until(() => this.exited !== undefined, 5000, 'the bridge child to die').catch(() => undefined);
  }
}

function childEnv(member: Started, arrowDir: string, map: string, history: string): Record<string, string> {
  return {
    HZ_MEMBERS: member.address,
    HZ_CLUSTER_NAME: 'dev',
    HZ_MAP: map,
    HZ_KEY: KEY,
    HZ_HISTORY_MAP: history,
    HZ_HISTORY_TTL_S: String(P.historyTtlS),
    ARROW_DIR: arrowDir,
    LOG_LEVEL: 'silent',
  };
}

// ---------------------------------------------------------------------------------------------
// Scan files

interface Template {
  bytes: Uint8Array;
  snOff: number;
  tsOff: number;
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return b;
}

function findUnique(hay: Uint8Array, needle: Uint8Array): number {
  let at = -1;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    if (at >= 0) throw new Error('template value found twice');
    at = i;
  }
  if (at < 0) throw new Error('template value not found');
  return at;
}

/**
 * Encoded canonical scans whose scan_number and timestamp can be patched in place: Arrow IPC
 * stores each int64 value as 8 plain bytes in the body, and nothing in the file depends on them.
 * Used for the backlog and memory phases (tens of thousands of files); every template is checked
 * by reading a patched copy back with the bridge's own reader.
 */
function makeTemplates(count: number): Template[] {
  const SN = 987_654_321_987n;
  const TS = 1_234_567_890_123n;
  const out: Template[] = [];
  for (let j = 0; j < count; j++) {
    const base = makeScan({ scanNumber: 5000 + j * 7, time: new Date(), assets: P.assets });
    const row: ScanRow = { ...base, scan_number: Number(SN), timestamp: new Date(Number(TS)) };
    const bytes = encodeScan(row);
    const t = { bytes, snOff: findUnique(bytes, le64(SN)), tsOff: findUnique(bytes, le64(TS)) };
    const probe = readScan(patch(t, 123_456 + j, 1_700_000_000_000 + j), { relPath: 'probe' });
    if (probe.kind !== 'ok' || probe.scan.scanNumber !== 123_456 + j || probe.scan.timestampMs !== 1_700_000_000_000 + j || probe.scan.assetCount !== P.assets) {
      throw new Error(`patched template ${j} does not read back: ${JSON.stringify(probe.kind === 'ok' ? { n: probe.scan.scanNumber, t: probe.scan.timestampMs } : probe)}`);
    }
    out.push(t);
  }
  return out;
}

function patch(t: Template, scanNumber: number, timeMs: number): Uint8Array {
  const b = new Uint8Array(t.bytes);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setBigInt64(t.snOff, BigInt(scanNumber), true);
  dv.setBigInt64(t.tsOff, BigInt(timeMs), true);
  return b;
}

interface ScanFile {
  n: number;
  time: Date;
  arrowDir: string;
  relPath: string;
  bytes: Uint8Array;
  /** Written under its temporary name, waiting for its timed rename. */
  staged?: StagedScanFile;
}

function scanFile(arrowDir: string, n: number, time: Date, bytes: Uint8Array): ScanFile {
  return { n, time, arrowDir, relPath: scanRelPath(n, time), bytes };
}

const stage = (f: ScanFile) => void (f.staged = stageScanFile(f.arrowDir, f.n, f.time, f.bytes));
const publish = (f: ScanFile) => f.staged!.publish();

// ---------------------------------------------------------------------------------------------
// Phase 1: latency, floor and floor_cas, interleaved at 10 scans/s each

async function phaseLatency(member: Started, observer: Client, writer: Client, tmpRoot: string) {
  const id = randomUUID().slice(0, 8);
  const arrowDir = mkdtempSync(path.join(tmpRoot, 'latency-'));
  const maps = { bridge: `BENCH_LAT_${id}`, history: `BENCH_LAT_HIST_${id}`, floor: `BENCH_FLOOR_${id}`, floorCas: `BENCH_FLOORCAS_${id}` };
  const total = P.warmupScans + P.latencyScans;
  const period = 1000 / P.ratePerS;

  progress(`latency: encoding ${total} scans of ${P.assets} assets and their payloads`);
  const t0Gen = Date.now() + 5000;
  const files: ScanFile[] = [];
  const payloads: string[] = [];
  for (let i = 0; i < total; i++) {
    const n = i + 1;
    const time = new Date(t0Gen + i * period);
    const f = scanFile(arrowDir, n, time, encodeScan(makeScan({ scanNumber: n, time, assets: P.assets })));
    const read = readScan(f.bytes, { relPath: f.relPath });
    if (read.kind !== 'ok') throw new Error(`scan ${n} does not read back: ${read.reason}`);
    payloads.push(buildPayload(read.scan, { sourceFile: f.relPath, bridgeId: `bench-floor:${process.pid}`, writtenAtMs: Date.now() }));
    files.push(f);
  }

  const bridgeWatch = await LatestWatch.open(observer, maps.bridge);
  const floorWatch = await LatestWatch.open(observer, maps.floor);
  const casWatch = await LatestWatch.open(observer, maps.floorCas);
  const floorMap = await writer.getMap<string, string>(maps.floor);
  const casMap = await writer.getMap<string, string>(maps.floorCas);

  const child = await BridgeChild.spawn(childEnv(member, arrowDir, maps.bridge, maps.history));
  child.send({ cmd: 'start' });
  await child.next('started', 60_000);
  await child.next('caughtUp', 60_000);
  progress(`latency: bridge child ${child.pid} watching ${arrowDir}; ${P.warmupScans} warm-up + ${P.latencyScans} measured scans at ${P.ratePerS}/s`);

  const tBridge = new Map<number, number>();
  const tFloor = new Map<number, number>();
  const tCas = new Map<number, number>();
  let casPrev: string | null = null;
  let casPending: Promise<unknown> = Promise.resolve();
  let floorErrors = 0;
  stage(files[0]!);
  let before: ChildSample | undefined;
  const start = mono() + 200;
  let lastReport = mono();
  for (let i = 0; i < total; i++) {
    const f = files[i]!;
    const n = f.n;
    const base = start + i * period;
    if (i === P.warmupScans) before = await child.sample(false);
    // slot 0: the bridge (rename into place)
    await sleepUntil(base);
    tBridge.set(n, mono());
    publish(f);
    // slot 35%: floor, a plain map.set of the same payload
    await sleepUntil(base + period * 0.35);
    tFloor.set(n, mono());
    floorMap.set(KEY, payloads[i]!).catch(() => void floorErrors++);
    // slot 70%: floor_cas, the bridge's write pattern on a key this writer owns
    await sleepUntil(base + period * 0.7);
    await casPending;
    const prev = casPrev;
    const payload = payloads[i]!;
    tCas.set(n, mono());
    casPending = (prev === null ? casMap.putIfAbsent(KEY, payload) : casMap.replaceIfSame(KEY, prev, payload)).then(
      () => void (casPrev = payload),
      () => void floorErrors++,
    );
    // slot 85%: the next file's temp copy, away from the timed moments
    await sleepUntil(base + period * 0.85);
    const nf = files[i + 1];
    if (nf) stage(nf);
    if (mono() - lastReport > 5000) {
      lastReport = mono();
      const soFar = files.slice(P.warmupScans, i + 1).flatMap((g) => (bridgeWatch.seen.has(g.n) ? [bridgeWatch.seen.get(g.n)! - tBridge.get(g.n)!] : []));
      progress(`latency: ${Math.max(0, i + 1 - P.warmupScans)}/${P.latencyScans} scans (bridge p50 so far ${summarize(soFar).p50} ms)`);
    }
  }
  const lastN = files[total - 1]!.n;
  await Promise.all(
    [bridgeWatch, floorWatch, casWatch].map((w) => w.signal.until(() => w.max >= lastN, 5000, 'the last scan').catch((err: unknown) => progress(String(err)))),
  );
  await casPending;
  const after = await child.sample(false);
  const afterGc = await child.sample(true);

  const pushes = await child.pushes();
  const measured = files.slice(P.warmupScans);
  const lat = (sent: Map<number, number>, w: LatestWatch) => latencies(measured.map((f) => ({ n: f.n, t0: sent.get(f.n)! })), w.seen);
  const b = lat(tBridge, bridgeWatch);
  const fl = lat(tFloor, floorWatch);
  const cs = lat(tCas, casWatch);
  const bridge = { ...summarize(b.xs), superseded: b.superseded, missing: b.missing };
  const floor = { ...summarize(fl.xs), superseded: fl.superseded, missing: fl.missing };
  const floorCas = { ...summarize(cs.xs), superseded: cs.superseded, missing: cs.missing };
  const split = decompose(measured.map((f) => f.n), b.perScan, pushes);

  // Latency as the day folder fills up (files in the folder at the time of each scan).
  const chunks = 5;
  const byFolder = Array.from({ length: chunks }, (_, k) => {
    const lo = Math.floor((k * measured.length) / chunks);
    const hi = Math.floor(((k + 1) * measured.length) / chunks);
    const chunk = measured.slice(lo, hi).map((f) => f.n);
    const s = summarize(chunk.flatMap((n) => (b.perScan.has(n) ? [b.perScan.get(n)!] : [])));
    const d = decompose(chunk, b.perScan, pushes);
    return { files_in_folder: `${P.warmupScans + lo}-${P.warmupScans + hi - 1}`, p50_ms: s.p50, p99_ms: s.p99, add_to_written_p50_ms: d.add_to_written_ms.p50, rest_p50_ms: d.rest_ms.p50 };
  });
  const cpuMs = before ? (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 : null;

  await Promise.all([bridgeWatch.close(), floorWatch.close(), casWatch.close()]);
  await child.stop();
  await destroyMaps(observer, Object.values(maps));
  if (!KEEP_DIRS) await rm(arrowDir, { recursive: true, force: true });

  const ratio = (a: number | null, c: number | null) => (a !== null && c !== null && c > 0 ? r2(a / c) : null);
  return {
    method:
      `${P.ratePerS} scans/s; each file written to .<name>.tmp in the day folder 15 ms+ before its slot, t0 = performance.now() just before renameSync into place, ` +
      `t1 = performance.now() in a second Hazelcast client's entry listener (added/updated, key ${KEY}, includeValue) when that scan_number, or a newer one if the bridge coalesced it (counted in 'superseded'), first appears; ` +
      `${P.warmupScans} warm-up scans first, not counted. floor: same payload strings, map.set by a writer client, 35 ms after each bridge scan; ` +
      `floor_cas: putIfAbsent then replaceIfSame(previous payload) like LatestStore, 70 ms after. Same observer client for all three.`,
    bridge_ms: bridge,
    floor_ms: floor,
    floor_cas_ms: floorCas,
    bridge_split: split,
    overhead_ratio: ratio(bridge.p50, floor.p50),
    overhead_ratio_p99: ratio(bridge.p99, floor.p99),
    cas_share_of_overhead_p50_ms: r2(floorCas.p50 !== null && floor.p50 !== null ? floorCas.p50 - floor.p50 : null),
    bridge_p50_by_folder_size: byFolder,
    floor_write_errors: floorErrors,
    child: {
      cpu_ms_per_scan: r2(cpuMs !== null ? cpuMs / P.latencyScans : null),
      cpu_percent_at_10_per_s: r2(cpuMs !== null ? (cpuMs / (after.t - before!.t)) * 100 : null),
      rss_mb_after_gc: mb(afterGc.mem.rss),
      heap_used_mb_after_gc: mb(afterGc.mem.heapUsed),
    },
    bridge_stats: pickStats(after.stats, after.rejected),
    met: {
      p50: bridge.p50 !== null && bridge.p50 <= TARGETS.latencyP50Ms && bridge.missing === 0,
      p99: bridge.p99 !== null && bridge.p99 <= TARGETS.latencyP99Ms && bridge.missing === 0,
    },
  };
}

/**
 * Splits each scan's latency with the bridge's own measure (its 'pushed' event: from the file
 * event to the CAS acknowledged, whole ms): `add_to_written` is that part, `rest` the
 * remainder = rename → the bridge's file event (inotify via fs.watch, then its read and stat of
 * the new file) plus listener delivery to the observer (the floor's p50 is an estimate of the latter).
 * Only scans the bridge itself wrote to the key count (not superseded ones). Approximate: the
 * bridge's figure ends when its event loop handles the CAS reply, which can come after the
 * observer already got the entry event (a busy loop), so single `rest` values can be negative.
 */
function decompose(ns: number[], total: Map<number, number>, pushes: Map<number, number>) {
  const inner: number[] = [];
  const rest: number[] = [];
  for (const n of ns) {
    const own = pushes.get(n);
    const t = total.get(n);
    if (own === undefined || t === undefined) continue;
    inner.push(own);
    rest.push(t - own);
  }
  return { scans: inner.length, add_to_written_ms: summarize(inner), rest_ms: summarize(rest) };
}

function pickStats(s: ChildSample['stats'], rejected: number) {
  const { pushed, historyWritten, olderSkipped, rejected: rej, retried, hazelcastErrors, historyBacklog, lastPushedScan } = s as Record<string, unknown>;
  return { pushed, historyWritten, olderSkipped, rejected: rej ?? rejected, retried, hazelcastErrors, historyBacklog, lastPushedScan };
}

async function destroyMaps(client: Client, names: string[]): Promise<void> {
  for (const name of names) await (await client.getMap(name)).destroy().catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Phase 2: backlog at start-up

async function phaseBacklog(member: Started, observer: Client, tmpRoot: string, templates: Template[]) {
  const id = randomUUID().slice(0, 8);
  const arrowDir = mkdtempSync(path.join(tmpRoot, 'backlog-'));
  const maps = { bridge: `BENCH_BL_${id}`, history: `BENCH_BL_HIST_${id}` };
  const N = P.backlogFiles;

  // Times spread over the hours before now, all in today's UTC folder (inside the history TTL).
  const now = Date.now();
  const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  const step = Math.max(0, Math.min(1000, Math.floor((now - midnight - 2000) / N)));
  progress(`backlog: writing ${N} files (${step} ms apart in scan time) into ${arrowDir}/${dayFolder(new Date(now))}`);
  let bytesTotal = 0;
  const tWrite = mono();
  for (let i = 0; i < N; i++) {
    const n = i + 1;
    const time = new Date(now - (N - i) * step - 1000);
    const f = scanFile(arrowDir, n, time, patch(templates[i % templates.length]!, n, time.getTime()));
    writeScanFileSync(arrowDir, n, time, f.bytes);
    bytesTotal += f.bytes.length;
  }
  progress(`backlog: ${N} files (${mb(bytesTotal)} MB) written in ${Math.round(mono() - tWrite)} ms; starting a fresh bridge`);

  const watch = await LatestWatch.open(observer, maps.bridge);
  const child = await BridgeChild.spawn(childEnv(member, arrowDir, maps.bridge, maps.history));
  const sentAt = epoch();
  child.send({ cmd: 'start' });
  const started = await child.next('started', 120_000);
  const tCall = started.tCall as number;
  progress(`backlog: start() resolved after ${Math.round((started.tResolved as number) - tCall)} ms (watches in place)`);
  await watch.signal.until(() => watch.seen.has(N), 120_000, `scan #${N} in ${KEY}`);
  const newestMs = performance.timeOrigin + watch.seen.get(N)! - tCall;
  progress(`backlog: newest scan #${N} readable ${Math.round(newestMs)} ms after start()`);
  let lastReport = mono();
  const reporter = setInterval(() => {
    void child.sample(false).then(
      (s) => {
        if (mono() - lastReport < 4000) return;
        lastReport = mono();
        progress(`backlog: ${s.stats.historyWritten}/${N} scans in history`);
      },
      () => undefined,
    );
  }, 5000);
  let caught: ChildMsg;
  try {
    caught = await child.next('caughtUp', 600_000);
  } finally {
    clearInterval(reporter);
  }
  const caughtMs = (caught.t as number) - tCall;
  const statsAtCaught = caught.stats as ChildSample['stats'];
  // Let the live history queue (the newest scan) drain before the next measurements.
  let s = await child.sample(false);
  const drainDeadline = mono() + 30_000;
  while ((s.stats.historyBacklog > 0 || s.stats.historyWritten < N) && mono() < drainDeadline) {
    await sleep(100);
    s = await child.sample(false);
  }
  const afterGc = await child.sample(true);

  // Tail: live latency with the folder now holding N files (same method as phase 1, no floor).
  const tailXs: number[] = [];
  let tailMissing = 0;
  const period = 1000 / P.ratePerS;
  const tailFiles: ScanFile[] = [];
  for (let k = 0; k < P.backlogTailScans; k++) {
    const n = N + 1 + k;
    const time = new Date(Date.now() + k * period);
    tailFiles.push(scanFile(arrowDir, n, time, patch(templates[n % templates.length]!, n, time.getTime())));
  }
  stage(tailFiles[0]!);
  const tSent = new Map<number, number>();
  const start = mono() + 200;
  for (let k = 0; k < tailFiles.length; k++) {
    const f = tailFiles[k]!;
    await sleepUntil(start + k * period);
    tSent.set(f.n, mono());
    publish(f);
    await sleepUntil(start + k * period + period * 0.85);
    const nf = tailFiles[k + 1];
    if (nf) stage(nf);
  }
  const lastTail = tailFiles[tailFiles.length - 1]!.n;
  await watch.signal.until(() => watch.max >= lastTail, 10_000, 'the last tail scan').catch((err: unknown) => progress(String(err)));
  const tail = latencies(tailFiles.map((f) => ({ n: f.n, t0: tSent.get(f.n)! })), watch.seen);
  const tailPushes = await child.pushes();
  tailXs.push(...tail.xs);
  tailMissing = tail.missing;
  const end = await child.sample(false);

  await watch.close();
  await child.stop();
  await destroyMaps(observer, Object.values(maps));
  if (!KEEP_DIRS) await rm(arrowDir, { recursive: true, force: true });

  const historyPerS = N / (caughtMs / 1000);
  return {
    files: N,
    method:
      `${N} files present in ARROW_DIR/<today>/ (scan times ${step} ms apart, ending 1 s before the run), fresh maps, fresh bridge child already connected to Hazelcast; ` +
      `newest_ms = time from the child's start() call to the bench's listener seeing scan #${N} under ${KEY}; ` +
      `history_scans_per_s = files / (caughtUp() resolution - start() call).`,
    newest_ms: r2(newestMs),
    start_resolved_ms: r2((started.tResolved as number) - tCall),
    ipc_start_delay_ms: r2(tCall - sentAt),
    caught_up_ms: r2(caughtMs),
    history_scans_per_s: r2(historyPerS),
    history_written_at_caught_up: statsAtCaught.historyWritten,
    history_written_after_drain: s.stats.historyWritten,
    child_rss_mb_after_gc_watching_files: mb(afterGc.mem.rss),
    live_latency_with_folder_full_ms: {
      files_in_folder: N,
      ...summarize(tailXs),
      superseded: tail.superseded,
      missing: tailMissing,
      split: decompose(tailFiles.map((f) => f.n), tail.perScan, tailPushes),
    },
    bridge_stats: pickStats(end.stats, end.rejected),
    met: {
      newest: newestMs <= TARGETS.backlogNewestMs,
      history_rate: historyPerS >= TARGETS.historyScansPerS,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 3: memory

async function phaseMemory(member: Started, observer: Client, tmpRoot: string, templates: Template[]) {
  const id = randomUUID().slice(0, 8);
  const arrowDir = mkdtempSync(path.join(tmpRoot, 'memory-'));
  const maps = { bridge: `BENCH_MEM_${id}`, history: `BENCH_MEM_HIST_${id}` };
  const total = P.memTotal;
  const K = P.memInFlight;

  const paths = new Map<number, string>();
  let deletes = 0;
  let deleteErrors = 0;
  const pendingDeletes = new Set<Promise<void>>();
  let acked = 0;
  const hist = await HistoryWatch.open(observer, maps.history, (n) => {
    acked++;
    const p = paths.get(n);
    if (p === undefined) return;
    paths.delete(n);
    if (!DELETE_PUSHED) return;
    // Pushed (its history entry exists, so the bridge has read it): delete it, keeping the folder small.
    const d = unlink(p).then(
      () => void deletes++,
      () => void deleteErrors++,
    );
    pendingDeletes.add(d);
    void d.finally(() => pendingDeletes.delete(d));
  });
  const latestMap = await observer.getMap<string, string>(maps.bridge);

  const child = await BridgeChild.spawn(childEnv(member, arrowDir, maps.bridge, maps.history), false);
  const idle = await child.sample(true);
  const t0 = Date.now();
  const dirs = new Set<string>();
  for (let i = 0; i < total; i++) dirs.add(dayFolder(new Date(t0 + i * 100)));
  for (const d of dirs) mkdirSync(path.join(arrowDir, d), { recursive: true });
  child.send({ cmd: 'start' });
  await child.next('started', 60_000);
  await child.next('caughtUp', 60_000);
  progress(`memory: bridge child ${child.pid}; pushing ${total} scans, at most ${K} in flight, ${DELETE_PUSHED ? 'each deleted once its history entry exists' : 'all kept in the folder'}`);

  const checkpoints = new Set<number>([P.memFirst, total]);
  for (let c = P.memSampleEvery; c < total; c += P.memSampleEvery) if (c > P.memFirst) checkpoints.add(c);
  const curve: Array<{ scans: number; rss_mb: number; heap_used_mb: number; external_mb: number; array_buffers_mb: number; scans_per_s_since_last: number | null }> = [];
  let written = 0;
  let lastCheck = { t: mono(), n: 0 };
  let lastReport = mono();
  const tStart = mono();
  let stats: ChildSample['stats'] | undefined;
  let rejected = 0;
  const stall = () => `history acks (written ${written}, acked ${acked})`;
  while (written < total) {
    await hist.signal.until(() => written - acked < K, 60_000, stall);
    const n = ++written;
    const time = new Date(t0 + (n - 1) * 100);
    paths.set(n, writeScanFileSync(arrowDir, n, time, patch(templates[n % templates.length]!, n, time.getTime())));
    if (mono() - lastReport > 5000) {
      lastReport = mono();
      progress(`memory: ${n}/${total} scans (${Math.round((n / (mono() - tStart)) * 1000)}/s)`);
    }
    if (checkpoints.has(n)) {
      await hist.signal.until(() => acked >= n, 60_000, stall);
      let s = await child.sample(false);
      const deadline = mono() + 30_000;
      while ((s.stats.historyBacklog > 0 || s.stats.pendingLatest !== null) && mono() < deadline) {
        await sleep(50);
        s = await child.sample(false);
      }
      const g = await child.sample(true);
      const now = mono();
      curve.push({
        scans: n,
        rss_mb: mb(g.mem.rss),
        heap_used_mb: mb(g.mem.heapUsed),
        external_mb: mb(g.mem.external),
        array_buffers_mb: mb(g.mem.arrayBuffers),
        scans_per_s_since_last: r2(((n - lastCheck.n) / (now - lastCheck.t)) * 1000),
      });
      progress(`memory: after ${n} scans rss ${mb(g.mem.rss)} MB, heap used ${mb(g.mem.heapUsed)} MB`);
      lastCheck = { t: mono(), n };
      stats = g.stats;
      rejected = g.rejected;
    }
  }
  const elapsedS = (mono() - tStart) / 1000;
  await Promise.all(pendingDeletes);
  let latestFinal = -1;
  const deadline = mono() + 10_000;
  while (mono() < deadline) {
    const v = await latestMap.get(KEY);
    latestFinal = v ? scanNumberOf(v) : -1;
    if (latestFinal === total) break;
    await sleep(50);
  }
  const maxRss = (await child.sample(false)).maxRssKb;

  await hist.close();
  await child.stop();
  await destroyMaps(observer, Object.values(maps));
  if (!KEEP_DIRS) await rm(arrowDir, { recursive: true, force: true });

  const first = curve[0]!;
  const last = curve[curve.length - 1]!;
  const growth = Math.round((last.rss_mb - first.rss_mb) * 10) / 10;
  return {
    method:
      `scans 1..${total} written (.tmp + rename) as fast as the bridge keeps up: at most ${K} files not yet in the history map; ` +
      (DELETE_PUSHED ? `each file is deleted once its history entry appears (folder stays <= ~${K} files); ` : `every file is kept, as a real scanner keeps them (the folders end with ${total} files); `) +
      `RSS read in the child after global.gc() twice, once the history queue is empty.`,
    scans: total,
    rss_mb_idle_before_start: mb(idle.mem.rss),
    rss_mb_after_first: first.rss_mb,
    first_checkpoint_scans: first.scans,
    rss_mb_after_total: last.rss_mb,
    growth_mb: growth,
    heap_used_growth_mb: Math.round((last.heap_used_mb - first.heap_used_mb) * 10) / 10,
    max_rss_mb: Math.round((maxRss / 1024) * 10) / 10,
    curve,
    scans_per_s: r2(total / elapsedS),
    elapsed_s: r2(elapsedS),
    files_deleted: deletes,
    delete_errors: deleteErrors,
    latest_final_scan: latestFinal,
    latest_final_ok: latestFinal === total,
    history_entries_seen: hist.count,
    bridge_stats: stats ? pickStats(stats, rejected) : null,
    met: { growth: growth <= TARGETS.memoryGrowthMb },
  };
}

// ---------------------------------------------------------------------------------------------
// Per-scan CPU cost of the bridge's pure steps (evidence for the bottleneck notes)

function microCosts() {
  registerCompression();
  const rows = Array.from({ length: 50 }, (_, i) => makeScan({ scanNumber: 100 + i, time: new Date(), assets: P.assets }));
  const bytes = rows.map((r) => encodeScan(r));
  const scans: Scan[] = [];
  for (let k = 0; k < 3; k++) for (const b of bytes) readScan(b, { relPath: 'warm' });
  let t = mono();
  const rounds = 10;
  for (let k = 0; k < rounds; k++) {
    for (const b of bytes) {
      const r = readScan(b, { relPath: '2026-01-01/scan_000100_000000.arrow' });
      if (r.kind === 'ok' && k === 0) scans.push(r.scan);
    }
  }
  const readMs = (mono() - t) / (rounds * bytes.length);
  let chars = 0;
  for (const s of scans) buildPayload(s, { sourceFile: 'a', bridgeId: 'b', writtenAtMs: 0 });
  t = mono();
  for (let k = 0; k < rounds; k++) for (const s of scans) chars = buildPayload(s, { sourceFile: '2026-01-01/scan_000100_000000.arrow', bridgeId: 'host:1', writtenAtMs: Date.now() }).length;
  const payloadMs = (mono() - t) / (rounds * scans.length);
  return { file_bytes: bytes[0]!.length, payload_chars: chars, read_scan_ms: Math.round(readMs * 1000) / 1000, build_payload_ms: Math.round(payloadMs * 1000) / 1000 };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = mono();
  const startedAt = new Date().toISOString();
  const cpus = os.cpus();
  // The machine may be shared: the 1-minute load average around each phase says how busy it was.
  const loads: Record<string, number> = {};
  const load = (at: string) => void (loads[at] = Math.round(os.loadavg()[0]! * 100) / 100);
  results.bench = 'scan-bridge / bridge';
  results.command = `npx tsx bench/bridge.ts${argv.length ? ' ' + argv.join(' ') : ''}`;
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
    note: 'bench process, warm JIT; the bridge builds the payload twice per live scan (latest + history) and once per backfilled scan',
    read_scan_ms: micro.read_scan_ms,
    build_payload_ms: micro.build_payload_ms,
  };

  load('latency_start');
  results.latency = await phaseLatency(member, observer, writer, tmpRoot);
  progress(`latency done: ${JSON.stringify((results.latency as { bridge_ms: unknown }).bridge_ms)}`);
  load('latency_end_backlog_start');
  results.backlog = await phaseBacklog(member, observer, tmpRoot, templates);
  progress('backlog done');
  load('backlog_end_memory_start');
  results.memory = await phaseMemory(member, observer, tmpRoot, templates);
  progress('memory done');
  load('memory_end');

  const L = results.latency as Awaited<ReturnType<typeof phaseLatency>>;
  const B = results.backlog as Awaited<ReturnType<typeof phaseBacklog>>;
  const M = results.memory as Awaited<ReturnType<typeof phaseMemory>>;
  const targets = [
    { name: 'latency p50', target: `<= ${TARGETS.latencyP50Ms} ms`, value: L.bridge_ms.p50, met: L.met.p50 },
    { name: 'latency p99', target: `<= ${TARGETS.latencyP99Ms} ms`, value: L.bridge_ms.p99, met: L.met.p99 },
    { name: 'backlog newest', target: `<= ${TARGETS.backlogNewestMs} ms`, value: B.newest_ms, met: B.met.newest },
    { name: 'backlog history rate', target: `>= ${TARGETS.historyScansPerS} scans/s`, value: B.history_scans_per_s, met: B.met.history_rate },
    { name: 'memory growth', target: `<= ${TARGETS.memoryGrowthMb} MB`, value: M.growth_mb, met: M.met.growth },
  ];
  results.targets = targets;
  results.all_met = targets.every((t) => t.met);
  results.notes = [
    'Every phase uses a fresh temp ARROW_DIR, fresh map names and a fresh bridge child (node --expose-gc --import tsx bench/bridge-child.ts); maps are destroyed after each phase.',
    'Latency files are written without fsync (a pyarrow producer does not fsync either); the write happens before the timed rename.',
    DELETE_PUSHED ? 'Memory phase run with --delete-pushed: each file deleted once its history entry exists.' : `Memory phase keeps all ${P.memTotal} files, as a real scanner does; the bridge watches each day folder with one inotify watch, so the cost of an event does not grow with the folder (see latency.bridge_p50_by_folder_size and backlog.live_latency_with_folder_full_ms).`,
    'Backlog and memory files are patched copies of 32 encoded canonical scans (scan_number and timestamp rewritten in the Arrow body; each template read back with readScan); latency files are each encoded from their own makeScan.',
    'Both bench processes and the Hazelcast member share the machine; the bench process runs the observer and writer clients.',
  ];
  results.duration_s = Math.round((mono() - t0) / 100) / 10;

  finished = true;
  await cleanupAll();
  const json = JSON.stringify(results, null, 2);
  if (!QUICK) {
    const out = path.join(ROOT, 'bench', 'results', `bridge-${startedAt.slice(0, 10)}.json`);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, json + '\n');
    progress(`written to ${path.relative(ROOT, out)}`);
  }
  process.stdout.write(json + '\n');
  process.exit(0);
}

main().catch((err: unknown) => void abort(err instanceof Error ? (err.stack ?? err.message) : String(err), 1));
