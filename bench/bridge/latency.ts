/**
 * Measure 1: latency and cost at 10 scans/s, then idle. Interleaved in the same loop, on the same
 * member and the same LZ4 files: the bridge, the same bridge with one data-path mechanism taken
 * away (bench only, variants.ts: the mechanism table), the Python peer (python_peer.py, the old
 * design), the floor (map.set of the bridge's payload) and floor_cas (the bridge's compare-and-set
 * pattern without the file path). Each process's CPU (all threads) and memory are read from /proc.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from 'hazelcast-client';
import type { Started } from '../../scripts/servers/services.js';
import { encodeScan, makeScan } from '../../src/demo/scan-writer.js';
import { buildPayload } from '../../src/bridge/hazelcast/payload.js';
import { readScan } from '../../src/bridge/arrow/reference-decoder.js';
import { scanFileName, scanRelPath } from '../../src/bridge/watch/scan-files.js';
import { BridgeChild, childEnv, pickStats } from './child.js';
import { sleep } from '../../src/time.js';
import { destroyMaps, latencies, LatestWatch, mono, progress, r2, sleepUntil, summarize } from './harness.js';
import { casCalls, cpuSplit, stageBreakdown, tailCause } from './breakdown.js';
import { PythonPeer, recodeLz4 } from './peer.js';
import { compare, mechanisms } from './comparison.js';
import { procSample, cpuBetween, type ProcSample } from './proc.js';
import { publish, scanFile, stage, type ScanFile } from './scans.js';
import { IDLE_S, KEEP_DIRS, KEY, P, VARIANTS_RUN } from './settings.js';
import type { Variant } from './variants.js';

/** One process fed the files: a bridge child (a variant) or the Python peer. */
interface Contender {
  name: Variant | 'python_peer';
  dir: string;
  files: ScanFile[];
  sent: Map<number, number>;
  watch: LatestWatch;
  pid: number;
  child?: BridgeChild;
  maps: string[];
}

export async function phaseLatency(member: Started, observer: Client, writer: Client, tmpRoot: string) {
  const id = randomUUID().slice(0, 8);
  const total = P.warmupScans + P.latencyScans;
  const period = 1000 / P.ratePerS;

  progress(`latency: encoding ${total} scans of ${P.assets} assets, recoding them with pyarrow (feather, LZ4), and their payloads`);
  const t0Gen = Date.now() + 5000;
  const plainDir = mkdtempSync(path.join(tmpRoot, 'latency-plain-'));
  const lz4Dir = mkdtempSync(path.join(tmpRoot, 'latency-lz4-'));
  const times = Array.from({ length: total }, (_, i) => new Date(t0Gen + i * period));
  times.forEach((time, i) =>
    writeFileSync(path.join(plainDir, scanFileName(i + 1, time)), encodeScan(makeScan({ scanNumber: i + 1, time, assets: P.assets }))),
  );
  recodeLz4(plainDir, lz4Dir);
  const bytesOf = times.map((time, i) => new Uint8Array(readFileSync(path.join(lz4Dir, scanFileName(i + 1, time)))));
  await Promise.all([rm(plainDir, { recursive: true, force: true }), rm(lz4Dir, { recursive: true, force: true })]);
  const fileBytes = bytesOf[0]!.length;
  const filesIn = (dir: string) => bytesOf.map((bytes, i) => scanFile(dir, i + 1, times[i]!, bytes));

  const payloads = bytesOf.map((bytes, i) => {
    const relPath = scanRelPath(i + 1, times[i]!);
    const read = readScan(bytes, { relPath });
    if (read.kind !== 'ok') throw new Error(`scan ${i + 1} does not read back: ${read.reason}`);
    return buildPayload(read.scan, { sourceFile: relPath, bridgeId: `bench-floor:${process.pid}`, writtenAtMs: Date.now() });
  });

  const contenders: Contender[] = [];
  for (const variant of VARIANTS_RUN) {
    const dir = mkdtempSync(path.join(tmpRoot, `latency-${variant}-`));
    const maps = [`BENCH_LAT_${variant}_${id}`, `BENCH_LAT_HIST_${variant}_${id}`];
    const child = await BridgeChild.spawn(childEnv(member, dir, maps[0]!, maps[1]!), true, variant);
    child.send({ cmd: 'start' });
    await child.next('started', 60_000);
    await child.next('caughtUp', 60_000);
    contenders.push({
      name: variant,
      dir,
      files: filesIn(dir),
      sent: new Map(),
      watch: await LatestWatch.open(observer, maps[0]!),
      pid: child.pid,
      child,
      maps,
    });
  }
  const peerDir = mkdtempSync(path.join(tmpRoot, 'latency-peer-'));
  const peerFiles = filesIn(peerDir);
  mkdirSync(path.join(peerDir, path.dirname(peerFiles[0]!.relPath)), { recursive: true });
  const peerMap = `BENCH_PEER_${id}`;
  const peerWatch = await LatestWatch.open(observer, peerMap);
  const peer = await PythonPeer.start(member, peerDir, peerMap);
  const peerC: Contender = { name: 'python_peer', dir: peerDir, files: peerFiles, sent: new Map(), watch: peerWatch, pid: peer.pid, maps: [peerMap] };
  const bridges = [...contenders];
  contenders.push(peerC);

  const floorMapName = `BENCH_FLOOR_${id}`;
  const casMapName = `BENCH_FLOORCAS_${id}`;
  const floorWatch = await LatestWatch.open(observer, floorMapName);
  const casWatch = await LatestWatch.open(observer, casMapName);
  const floorMap = await writer.getMap<string, string>(floorMapName);
  const casMap = await writer.getMap<string, string>(casMapName);
  progress(
    `latency: ${contenders.map((c) => `${c.name} (pid ${c.pid})`).join(', ')}; ${P.warmupScans} warm-up + ${P.latencyScans} measured scans at ${P.ratePerS}/s`,
  );

  const tFloor = new Map<number, number>();
  const tCas = new Map<number, number>();
  let casPrev: string | null = null;
  let casPending: Promise<unknown> = Promise.resolve();
  let floorErrors = 0;
  for (const c of contenders) stage(c.files[0]!);
  // Bridges take the first 45 % of each period, in turns (each goes first as often), then the peer, the floor, floor_cas.
  const bridgeSlot = 0.45 / bridges.length;
  let before: { t: number; procs: ProcSample[] } | undefined;
  const sampleAll = () => ({ t: mono(), procs: contenders.map((c) => procSample(c.pid)) });
  const start = mono() + 200;
  let lastReport = mono();
  for (let i = 0; i < total; i++) {
    const n = i + 1;
    const base = start + i * period;
    if (i === P.warmupScans) before = sampleAll();
    for (let k = 0; k < bridges.length; k++) {
      const c = bridges[(i + k) % bridges.length]!;
      await sleepUntil(base + period * bridgeSlot * k);
      c.sent.set(n, mono());
      publish(c.files[i]!);
    }
    await sleepUntil(base + period * 0.5);
    peerC.sent.set(n, mono());
    publish(peerFiles[i]!);
    await sleepUntil(base + period * 0.65);
    tFloor.set(n, mono());
    floorMap.set(KEY, payloads[i]!).catch(() => void floorErrors++);
    await sleepUntil(base + period * 0.8);
    await casPending;
    const prev = casPrev;
    const payload = payloads[i]!;
    tCas.set(n, mono());
    casPending = (prev === null ? casMap.putIfAbsent(KEY, payload) : casMap.replaceIfSame(KEY, prev, payload)).then(
      () => void (casPrev = payload),
      () => void floorErrors++,
    );
    // The next files' temporary copies, away from the timed moments.
    await sleepUntil(base + period * 0.9);
    for (const c of contenders) if (c.files[i + 1]) stage(c.files[i + 1]!);
    if (mono() - lastReport > 5000) {
      lastReport = mono();
      progress(`latency: ${Math.max(0, n - P.warmupScans)}/${P.latencyScans} scans`);
    }
  }
  await Promise.all(
    [...contenders.map((c) => c.watch), floorWatch, casWatch].map((w) =>
      w.signal.until(() => w.max >= total, 5000, 'the last scan').catch((err: unknown) => progress(String(err))),
    ),
  );
  await casPending;
  const after = sampleAll();
  progress(`idle: ${IDLE_S} s without scans`);
  await sleep(IDLE_S * 1000);
  const idleEnd = sampleAll();

  const measured = Array.from({ length: P.latencyScans }, (_, k) => P.warmupScans + k + 1);
  const lat = (sent: Map<number, number>, w: LatestWatch) => {
    const l = latencies(
      measured.map((n) => ({ n, t0: sent.get(n)! })),
      w.seen,
    );
    return { ...summarize(l.xs), superseded: l.superseded, missing: l.missing };
  };
  const cost = (k: number) => ({
    while_scanning: cpuBetween(before!.procs[k]!, after.procs[k]!, after.t - before!.t, P.latencyScans),
    idle: {
      ...cpuBetween(after.procs[k]!, idleEnd.procs[k]!, idleEnd.t - after.t, 0),
      cpu_s_per_minute: r2(((idleEnd.procs[k]!.cpuMs - after.procs[k]!.cpuMs) / (idleEnd.t - after.t)) * 60),
    },
    rss_mb_after_scans: after.procs[k]!.rssMb,
    rss_mb_idle_end: idleEnd.procs[k]!.rssMb,
    threads: idleEnd.procs[k]!.threads,
  });
  type Entry = { latency_ms: ReturnType<typeof lat>; cost: ReturnType<typeof cost>; [more: string]: unknown };
  const results: Record<string, Entry> = {};
  for (const [k, c] of contenders.entries()) {
    const entry: Entry = { latency_ms: lat(c.sent, c.watch), cost: cost(k) };
    if (c.child) {
      const { times: moments } = await c.child.pushes();
      entry.stages = stageBreakdown(measured, c.sent, c.watch.seen, moments);
      entry.tail = tailCause(measured, c.sent, c.watch.seen, moments);
      entry.cas_calls_per_write = casCalls(moments);
      const s = await c.child.sample(false);
      entry.bridge_stats = pickStats(s.stats, s.rejected);
    }
    results[c.name] = entry;
  }
  const floor = lat(tFloor, floorWatch);
  const floorCas = lat(tCas, casWatch);
  const cpu = cpuSplit(
    bridges[0]!.dir,
    measured.slice(0, 50).map((n) => bridges[0]!.files[n - 1]!.relPath),
  );

  await Promise.all([...contenders.map((c) => c.watch.close()), floorWatch.close(), casWatch.close()]);
  for (const c of bridges) await c.child!.stop();
  await peer.stop();
  await destroyMaps(observer, [...contenders.flatMap((c) => c.maps), floorMapName, casMapName]);
  if (!KEEP_DIRS) await Promise.all(contenders.map((c) => rm(c.dir, { recursive: true, force: true })));

  const product = results.product!;
  const peerE = results.python_peer!;
  return {
    method:
      `${P.ratePerS} scans/s of ${P.assets} assets; each file written to .<name>.tmp in the day folder before its slot, t0 = performance.now() just before renameSync into place, ` +
      `t1 = performance.now() in a second Hazelcast client's entry listener (added/updated, key ${KEY}, includeValue) when that scan_number, or a newer one if the bridge coalesced it (counted in 'superseded'), first appears; ` +
      `${P.warmupScans} warm-up scans first, not counted. Files: canonical scans written by pyarrow's feather writer with LZ4 (${fileBytes} bytes). ` +
      `Bridges (${VARIANTS_RUN.join(', ')}; variants.ts) each in their own process and folder, fed the same file in turns in the first 45 % of each period (each goes first as often); ` +
      `python_peer: python_peer.py (watchdog inotify observer, pyarrow, to_pylist()[0], json.dumps, one blocking map.set) at 50 %; floor: map.set of the same payload by a writer client at 65 %; ` +
      `floor_cas: putIfAbsent then replaceIfSame(previous payload) at 80 %. CPU: utime + stime of every thread of each process from /proc, between the first measured scan and the last one seen (idle time between scans included), then over ${IDLE_S} s of no scans.`,
    file_bytes: fileBytes,
    contenders: results,
    floor_ms: floor,
    floor_cas_ms: floorCas,
    floor_write_errors: floorErrors,
    cpu_per_stage_in_bench_process: cpu,
    comparison: compare(product, peerE, floor),
    mechanisms: mechanisms(results),
  };
}
