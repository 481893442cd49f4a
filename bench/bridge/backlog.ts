/** Measure 2: a backlog of files at start-up: the newest scan's delay, history throughput, then live latency with the folder full. */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from 'hazelcast-client';
import type { Started } from '../../scripts/servers/services.js';
import { dayFolder, writeScanFileSync } from '../../src/bridge/watch/scan-files.js';
import { BridgeChild, childEnv, pickStats, type ChildMsg, type ChildSample } from './child.js';
import { decompose, destroyMaps, epoch, latencies, LatestWatch, mb, mono, progress, r2, sleepUntil, summarize } from './harness.js';
import { sleep } from '../../src/time.js';
import { patch, publish, scanFile, stage, type ScanFile, type Template } from './scans.js';
import { BACKLOG_VARIANT, KEEP_DIRS, KEY, P, TARGETS } from './settings.js';

export async function phaseBacklog(member: Started, observer: Client, tmpRoot: string, templates: Template[]) {
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
  const child = await BridgeChild.spawn(childEnv(member, arrowDir, maps.bridge, maps.history), true, BACKLOG_VARIANT);
  const sentAt = epoch();
  child.send({ cmd: 'start' });
  const started = await child.next('started', 120_000);
  const tCall = started.tCall as number;
  progress(`backlog: start() resolved after ${Math.round((started.tResolved as number) - tCall)} ms (watches in place)`);
  await watch.signal.until(() => watch.seen.has(N), 120_000, `scan #${N} in ${KEY}`);
  const newestMs = performance.timeOrigin + watch.seen.get(N)! - tCall;
  progress(`backlog: newest scan #${N} readable ${Math.round(newestMs)} ms after start()`);
  // Live scans while the catch-up still reads history (up to BACKFILL_WORKERS files in the decode queue): what newest-first is for.
  const period = 1000 / P.ratePerS;
  const during: ScanFile[] = [];
  const duringSent = new Map<number, number>();
  let catching = true;
  const live = (async () => {
    const t0 = mono();
    for (let k = 0; catching && k < 6000; k++) {
      const n = N + 1 + k;
      const time = new Date();
      const f = scanFile(arrowDir, n, time, patch(templates[n % templates.length]!, n, time.getTime()));
      stage(f);
      await sleepUntil(t0 + k * period);
      if (!catching) break;
      duringSent.set(n, mono());
      publish(f);
      during.push(f);
    }
  })();
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
    catching = false;
  }
  await live;
  const lastDuring = during.at(-1)?.n ?? N;
  await watch.signal.until(() => watch.max >= lastDuring, 10_000, 'the last scan sent during the catch-up').catch((err: unknown) => progress(String(err)));
  const duringCatchUp = latencies(
    during.map((f) => ({ n: f.n, t0: duringSent.get(f.n)! })),
    watch.seen,
  );
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
  const tailFiles: ScanFile[] = [];
  for (let k = 0; k < P.backlogTailScans; k++) {
    const n = lastDuring + 1 + k;
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
  const tail = latencies(
    tailFiles.map((f) => ({ n: f.n, t0: tSent.get(f.n)! })),
    watch.seen,
  );
  const tailPushes = (await child.pushes()).latency;
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
    live_latency_during_catch_up_ms: {
      variant: BACKLOG_VARIANT,
      ...summarize(duringCatchUp.xs),
      superseded: duringCatchUp.superseded,
      missing: duringCatchUp.missing,
    },
    live_latency_with_folder_full_ms: {
      files_in_folder: N,
      ...summarize(tailXs),
      superseded: tail.superseded,
      missing: tailMissing,
      split: decompose(
        tailFiles.map((f) => f.n),
        tail.perScan,
        tailPushes,
      ),
    },
    bridge_stats: pickStats(end.stats, end.rejected),
    met: {
      newest: newestMs <= TARGETS.backlogNewestMs,
      history_rate: historyPerS >= TARGETS.historyScansPerS,
    },
  };
}
