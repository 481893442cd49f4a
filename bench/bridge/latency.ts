/**
 * Measure 1: latency at 10 scans/s. Interleaved in the same loop, on the same member and the same
 * LZ4 files: the same bridge decoding on its main thread (bench only, for issue 8's figure: what
 * the decode pool adds), the Python peer (python_peer.py, the old design), the floor (map.set of
 * the bridge's payload) and floor_cas (the bridge's compare-and-set pattern without the file path).
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
import { BridgeChild, childEnv, pickStats, type ChildSample } from './child.js';
import { decompose, destroyMaps, latencies, LatestWatch, mb, mono, progress, r2, sleepUntil, summarize } from './harness.js';
import { casCalls, cpuSplit, stageBreakdown } from './breakdown.js';
import { PythonPeer, recodeLz4 } from './peer.js';
import { compare, poolCost } from './comparison.js';
import { publish, scanFile, stage, type ScanFile } from './scans.js';
import { KEEP_DIRS, KEY, P, TARGETS } from './settings.js';
import { scanFileName } from '../../src/bridge/watch/scan-files.js';

export async function phaseLatency(member: Started, observer: Client, writer: Client, tmpRoot: string) {
  const id = randomUUID().slice(0, 8);
  const arrowDir = mkdtempSync(path.join(tmpRoot, 'latency-'));
  const peerDir = mkdtempSync(path.join(tmpRoot, 'latency-peer-'));
  const mainDir = mkdtempSync(path.join(tmpRoot, 'latency-main-thread-'));
  const maps = {
    bridge: `BENCH_LAT_${id}`,
    history: `BENCH_LAT_HIST_${id}`,
    mainThread: `BENCH_LAT_MAIN_${id}`,
    mainThreadHistory: `BENCH_LAT_MAIN_HIST_${id}`,
    peer: `BENCH_PEER_${id}`,
    floor: `BENCH_FLOOR_${id}`,
    floorCas: `BENCH_FLOORCAS_${id}`,
  };
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
  const files: ScanFile[] = [];
  const peerFiles: ScanFile[] = [];
  const mainFiles: ScanFile[] = [];
  const payloads: string[] = [];
  for (let i = 0; i < total; i++) {
    const n = i + 1;
    const bytes = new Uint8Array(readFileSync(path.join(lz4Dir, scanFileName(n, times[i]!))));
    const f = scanFile(arrowDir, n, times[i]!, bytes);
    const read = readScan(f.bytes, { relPath: f.relPath });
    if (read.kind !== 'ok') throw new Error(`scan ${n} does not read back: ${read.reason}`);
    payloads.push(buildPayload(read.scan, { sourceFile: f.relPath, bridgeId: `bench-floor:${process.pid}`, writtenAtMs: Date.now() }));
    files.push(f);
    peerFiles.push(scanFile(peerDir, n, times[i]!, bytes));
    mainFiles.push(scanFile(mainDir, n, times[i]!, bytes));
  }
  await Promise.all([rm(plainDir, { recursive: true, force: true }), rm(lz4Dir, { recursive: true, force: true })]);
  const fileBytes = files[0]!.bytes.length;
  mkdirSync(path.join(peerDir, path.dirname(peerFiles[0]!.relPath)), { recursive: true });

  const bridgeWatch = await LatestWatch.open(observer, maps.bridge);
  const mainWatch = await LatestWatch.open(observer, maps.mainThread);
  const peerWatch = await LatestWatch.open(observer, maps.peer);
  const floorWatch = await LatestWatch.open(observer, maps.floor);
  const casWatch = await LatestWatch.open(observer, maps.floorCas);
  const floorMap = await writer.getMap<string, string>(maps.floor);
  const casMap = await writer.getMap<string, string>(maps.floorCas);

  const child = await BridgeChild.spawn(childEnv(member, arrowDir, maps.bridge, maps.history));
  child.send({ cmd: 'start' });
  await child.next('started', 60_000);
  await child.next('caughtUp', 60_000);
  const mainChild = await BridgeChild.spawn(childEnv(member, mainDir, maps.mainThread, maps.mainThreadHistory), true, true);
  mainChild.send({ cmd: 'start' });
  await mainChild.next('started', 60_000);
  await mainChild.next('caughtUp', 60_000);
  const peer = await PythonPeer.start(member, peerDir, maps.peer);
  progress(
    `latency: bridge child ${child.pid} watching ${arrowDir}, main-thread-decoding bridge child ${mainChild.pid} watching ${mainDir}, python peer ${peer.pid} watching ${peerDir}; ${P.warmupScans} warm-up + ${P.latencyScans} measured scans at ${P.ratePerS}/s`,
  );

  const tBridge = new Map<number, number>();
  const tMain = new Map<number, number>();
  const tPeer = new Map<number, number>();
  const tFloor = new Map<number, number>();
  const tCas = new Map<number, number>();
  let casPrev: string | null = null;
  let casPending: Promise<unknown> = Promise.resolve();
  let floorErrors = 0;
  stage(files[0]!);
  stage(peerFiles[0]!);
  stage(mainFiles[0]!);
  let before: ChildSample | undefined;
  const start = mono() + 200;
  let lastReport = mono();
  for (let i = 0; i < total; i++) {
    const f = files[i]!;
    const n = f.n;
    const base = start + i * period;
    if (i === P.warmupScans) before = await child.sample(false);
    // slots 0 and 15%: the bridge and the main-thread-decoding bridge (rename into place), taking turns at going first
    const pair: Array<[Map<number, number>, ScanFile]> = [
      [tBridge, f],
      [tMain, mainFiles[i]!],
    ];
    if (i % 2 === 1) pair.reverse();
    for (const [k, [sent, file]] of pair.entries()) {
      await sleepUntil(base + period * 0.15 * k);
      sent.set(n, mono());
      publish(file);
    }
    // slot 30%: the python peer (rename into its own folder)
    await sleepUntil(base + period * 0.3);
    tPeer.set(n, mono());
    publish(peerFiles[i]!);
    // slot 55%: floor, a plain map.set of the same payload
    await sleepUntil(base + period * 0.55);
    tFloor.set(n, mono());
    floorMap.set(KEY, payloads[i]!).catch(() => void floorErrors++);
    // slot 75%: floor_cas, the bridge's write pattern on a key this writer owns
    await sleepUntil(base + period * 0.75);
    await casPending;
    const prev = casPrev;
    const payload = payloads[i]!;
    tCas.set(n, mono());
    casPending = (prev === null ? casMap.putIfAbsent(KEY, payload) : casMap.replaceIfSame(KEY, prev, payload)).then(
      () => void (casPrev = payload),
      () => void floorErrors++,
    );
    // slot 88%: the next files' temp copies, away from the timed moments
    await sleepUntil(base + period * 0.88);
    const nf = files[i + 1];
    if (nf) stage(nf);
    const np = peerFiles[i + 1];
    if (np) stage(np);
    const nm = mainFiles[i + 1];
    if (nm) stage(nm);
    if (mono() - lastReport > 5000) {
      lastReport = mono();
      const soFar = files.slice(P.warmupScans, i + 1).flatMap((g) => (bridgeWatch.seen.has(g.n) ? [bridgeWatch.seen.get(g.n)! - tBridge.get(g.n)!] : []));
      progress(`latency: ${Math.max(0, i + 1 - P.warmupScans)}/${P.latencyScans} scans (bridge p50 so far ${summarize(soFar).p50} ms)`);
    }
  }
  const lastN = files[total - 1]!.n;
  await Promise.all(
    [bridgeWatch, mainWatch, peerWatch, floorWatch, casWatch].map((w) =>
      w.signal.until(() => w.max >= lastN, 5000, 'the last scan').catch((err: unknown) => progress(String(err))),
    ),
  );
  await casPending;
  const after = await child.sample(false);
  const afterGc = await child.sample(true);

  const { latency: pushes, times: moments } = await child.pushes();
  const { times: mainMoments } = await mainChild.pushes();
  const measured = files.slice(P.warmupScans);
  const lat = (sent: Map<number, number>, w: LatestWatch) =>
    latencies(
      measured.map((f) => ({ n: f.n, t0: sent.get(f.n)! })),
      w.seen,
    );
  const b = lat(tBridge, bridgeWatch);
  const mt = lat(tMain, mainWatch);
  const pe = lat(tPeer, peerWatch);
  const fl = lat(tFloor, floorWatch);
  const cs = lat(tCas, casWatch);
  const bridge = { ...summarize(b.xs), superseded: b.superseded, missing: b.missing };
  const mainThread = { ...summarize(mt.xs), superseded: mt.superseded, missing: mt.missing };
  const pythonPeer = { ...summarize(pe.xs), superseded: pe.superseded, missing: pe.missing };
  const floor = { ...summarize(fl.xs), superseded: fl.superseded, missing: fl.missing };
  const floorCas = { ...summarize(cs.xs), superseded: cs.superseded, missing: cs.missing };
  const split = decompose(
    measured.map((f) => f.n),
    b.perScan,
    pushes,
  );
  const stages = stageBreakdown(
    measured.map((f) => f.n),
    tBridge,
    bridgeWatch.seen,
    moments,
  );
  const mainStages = stageBreakdown(
    measured.map((f) => f.n),
    tMain,
    mainWatch.seen,
    mainMoments,
  );
  const cpu = cpuSplit(
    arrowDir,
    measured.slice(0, 50).map((f) => f.relPath),
  );

  // Latency as the day folder fills up (files in the folder at the time of each scan).
  const chunks = 5;
  const byFolder = Array.from({ length: chunks }, (_, k) => {
    const lo = Math.floor((k * measured.length) / chunks);
    const hi = Math.floor(((k + 1) * measured.length) / chunks);
    const chunk = measured.slice(lo, hi).map((f) => f.n);
    const s = summarize(chunk.flatMap((n) => (b.perScan.has(n) ? [b.perScan.get(n)!] : [])));
    const d = decompose(chunk, b.perScan, pushes);
    return {
      files_in_folder: `${P.warmupScans + lo}-${P.warmupScans + hi - 1}`,
      p50_ms: s.p50,
      p99_ms: s.p99,
      add_to_written_p50_ms: d.add_to_written_ms.p50,
      rest_p50_ms: d.rest_ms.p50,
    };
  });
  const cpuMs = before ? (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 : null;

  await Promise.all([bridgeWatch.close(), mainWatch.close(), peerWatch.close(), floorWatch.close(), casWatch.close()]);
  await child.stop();
  await mainChild.stop();
  await peer.stop();
  await destroyMaps(observer, Object.values(maps));
  if (!KEEP_DIRS) await Promise.all([arrowDir, mainDir, peerDir].map((d) => rm(d, { recursive: true, force: true })));

  const ratio = (a: number | null, c: number | null) => (a !== null && c !== null && c > 0 ? r2(a / c) : null);
  return {
    method:
      `${P.ratePerS} scans/s; each file written to .<name>.tmp in the day folder 15 ms+ before its slot, t0 = performance.now() just before renameSync into place, ` +
      `t1 = performance.now() in a second Hazelcast client's entry listener (added/updated, key ${KEY}, includeValue) when that scan_number, or a newer one if the bridge coalesced it (counted in 'superseded'), first appears; ` +
      `${P.warmupScans} warm-up scans first, not counted. Files: canonical scans written by pyarrow's feather writer with LZ4 (${fileBytes} bytes). ` +
      `main_thread_decoding (issue 8 only): the same bridge in another child that decodes each file on its main thread (bench/bridge/main-thread-decode.ts), fed the same file 15 ms before or after the bridge, the two taking turns at going first; ` +
      `python_peer: python_peer.py (watchdog inotify observer, pyarrow, to_pylist()[0], json.dumps, one blocking map.set), the same file renamed into its own folder 30 ms after each bridge scan; ` +
      `floor: same payload strings, map.set by a writer client, 55 ms after; ` +
      `floor_cas: putIfAbsent then replaceIfSame(previous payload) like LatestStore, 75 ms after. Same observer client for all.`,
    file_bytes: fileBytes,
    comparison: compare(bridge, mainThread, pythonPeer, floor),
    pool_cost: poolCost(bridge, mainThread, stages, mainStages),
    bridge_ms: bridge,
    main_thread_decoding_ms: mainThread,
    python_peer_ms: pythonPeer,
    python_peer_errors: peer.errors.slice(0, 10),
    floor_ms: floor,
    floor_cas_ms: floorCas,
    stages,
    main_thread_decoding_stages: mainStages,
    cas_calls_per_write: casCalls(moments),
    cpu_per_scan_in_bench_process: cpu,
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
