/** Measure 1: latency at 10 scans/s, with the floor (map.set) and floor_cas interleaved in the same loop. */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from 'hazelcast-client';
import type { Started } from '../../src/dev/services.js';
import { encodeScan, makeScan } from '../../src/demo/scan-writer.js';
import { buildPayload } from '../../src/bridge/payload.js';
import { readScan } from '../../src/bridge/read-scan.js';
import { BridgeChild, childEnv, pickStats, type ChildSample } from './child.js';
import { decompose, destroyMaps, latencies, LatestWatch, mb, mono, progress, r2, sleepUntil, summarize } from './harness.js';
import { publish, scanFile, stage, type ScanFile } from './scans.js';
import { KEEP_DIRS, KEY, P, TARGETS } from './settings.js';

export async function phaseLatency(member: Started, observer: Client, writer: Client, tmpRoot: string) {
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
