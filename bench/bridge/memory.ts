/** Measure 3: memory while scans are pushed as fast as the bridge keeps up. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Client } from 'hazelcast-client';
import type { Started } from '../../scripts/servers/services.js';
import { dayFolder, writeScanFileSync } from '../../src/bridge/watch/scan-files.js';
import { BridgeChild, childEnv, pickStats, type ChildSample } from './child.js';
import { destroyMaps, HistoryWatch, mb, mono, progress, r2, scanNumberOf } from './harness.js';
import { sleep } from '../../src/time.js';
import { patch, type Template } from './scans.js';
import { DELETE_PUSHED, KEEP_DIRS, KEY, P, TARGETS } from './settings.js';

export async function phaseMemory(member: Started, observer: Client, tmpRoot: string, templates: Template[]) {
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
  progress(
    `memory: bridge child ${child.pid}; pushing ${total} scans, at most ${K} in flight, ${DELETE_PUSHED ? 'each deleted once its history entry exists' : 'all kept in the folder'}`,
  );

  const checkpoints = new Set<number>([P.memFirst, total]);
  for (let c = P.memSampleEvery; c < total; c += P.memSampleEvery) if (c > P.memFirst) checkpoints.add(c);
  const curve: Array<{
    scans: number;
    rss_mb: number;
    heap_used_mb: number;
    external_mb: number;
    array_buffers_mb: number;
    scans_per_s_since_last: number | null;
  }> = [];
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
      (DELETE_PUSHED
        ? `each file is deleted once its history entry appears (folder stays <= ~${K} files); `
        : `every file is kept, as a real scanner keeps them (the folders end with ${total} files); `) +
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
