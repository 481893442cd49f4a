/**
 * Chaos run: the whole system on real servers, one fault after another; prints one JSON object.
 *
 *   2 bridge processes, 2 workers, 1 scheduler (`scan-bridge start --role …`), a scanner writing
 *   10 scans/s; Redis master + replica + 3 sentinels; 2 Hazelcast members.
 *   Faults: Redis master SIGKILL (Sentinel fails over), one Hazelcast member SIGKILL, the active
 *   bridge's process SIGKILL, the active bridge SIGSTOP for 20 s then SIGCONT, Redis restarted
 *   empty, the scan folder removed and recreated.
 *
 * Per fault: time until scans flow again, the longest stall of latest_eigen_scan, time until a
 * health check runs again (and is healthy again), scans lost, latest moving backwards.
 * A killed process is started again, as a process manager would; a killed server too, after
 * its fault is measured. Nothing of scan-bridge is restarted by hand.
 *
 * Run: npm run build && npx tsx bench/chaos.ts [--quick]
 * `--failovers`: another run, 10 Redis master failovers in a row (chaos-failovers.ts).
 * Settings of scan-bridge in the environment reach the roles: `BRIDGE_LOCK_MS=8000 npx tsx bench/chaos.ts`.
 */
import { loadavg } from 'node:os';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { QUEUES } from '../src/jobs/table.js';
import { endTotals, machine, say, startWorld, until } from './chaos-world.js';
import { chaosFaults, measure, missingFromHistory } from './chaos-faults.js';
import { runFailovers } from './chaos-failovers.js';

const quick = process.argv.includes('--quick');
/** How long each fault may take to recover, quiet time between faults, the SIGSTOP's length. */
const TIMING = {
  windowMs: 60_000,
  settleMs: quick ? 5_000 : 15_000,
  stopMs: quick ? 10_000 : 20_000,
};
const HEALTH_INTERVAL_MS = 5_000;
const FAULTS = chaosFaults(TIMING);

async function main(): Promise<void> {
  const loadStart = loadavg();
  const w = await startWorld({ healthIntervalMs: HEALTH_INTERVAL_MS, downAfterMs: 3000 });
  try {
    w.scanner.start();
    say('waiting for scans to flow and a healthy check');
    const startedAt = Date.now();
    const steady = await until(() => w.observer.health.find((h) => h.status === 'healthy' && h.checkedAt > startedAt), 120_000);
    if (!steady) throw new Error('the system never became healthy');
    await new Promise((r) => setTimeout(r, TIMING.settleMs));

    const results: Array<Awaited<ReturnType<typeof measure>>> = [];
    for (const f of FAULTS) results.push(await measure(w, f, TIMING));

    w.scanner.stop();
    const lastScan = w.scanner.last;
    // Time for the last scans and any history backlog to land.
    await until(() => (w.observer.latest.at(-1)?.scan === lastScan ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 5000));
    const lost = await missingFromHistory(w, [...w.scanner.writtenAt.keys()]);
    const seenInLatest = new Set(w.observer.latest.map((e) => e.scan));

    const redis = createRedis(w.config);
    const queue = (name: string) => new Queue(name, { connection: redis, prefix: w.config.queuePrefix });
    const [bridgeQ, healthQ] = [queue(QUEUES.bridge), queue(QUEUES.healthCheck)];
    const workers = {
      bridge: await bridgeQ.getWorkersCount(),
      health_check: await healthQ.getWorkersCount(),
      schedules: (await healthQ.getJobSchedulers()).length,
    };
    await Promise.all([bridgeQ.close(), healthQ.close()]);
    redis.disconnect();
    // A hung process would not shut down on SIGTERM.
    const notShutDown = await w.roles.terminateAll(20_000);

    const perFault = results.map((r, i) => {
      const end = results[i + 1]?.t0 ?? Infinity;
      const inWindow = (n: number) => (w.scanner.writtenAt.get(n) ?? 0) >= r.t0 && (w.scanner.writtenAt.get(n) ?? 0) < end;
      const mine = lost.filter(inWindow);
      // By design a bridge that catches up puts only the newest scan in latest, the rest in history.
      const skipped = [...w.scanner.writtenAt.keys()].filter((n) => inWindow(n) && !seenInLatest.has(n));
      const { t0: _t0, ...rest } = r;
      return {
        ...rest,
        lost: mine.length,
        lost_scans: mine.slice(0, 20),
        never_in_latest: skipped.length,
        backwards: w.observer.backwards.filter((b) => b.at >= r.t0 && b.at < end).length,
      };
    });
    const master = perFault.find((r) => r.fault === 'redis_master_sigkill');
    const targets = {
      zero_lost: lost.length === 0,
      never_backwards: w.observer.backwards.length === 0,
      flow_again_within_10s: perFault.every((r) => r.flow_again_ms !== null && r.flow_again_ms <= 10_000),
      // "Do not stop at all": no stall beyond three scan intervals (300 ms at 10 scans/s) during a Redis fault.
      // The bridge changing hands during a Redis fault is a stop too, however short.
      no_handover_for_redis_faults: perFault.filter((r) => FAULTS.find((f) => f.name === r.fault)?.redis).every((r) => r.bridges.length <= 1),
      no_stall_for_redis_faults: perFault.filter((r) => FAULTS.find((f) => f.name === r.fault)?.redis).every((r) => r.longest_stall_ms <= 300),
      checks_again_within_30s_of_master_death: master?.check_again_ms != null && master.check_again_ms <= 30_000,
      no_process_exit_or_hang:
        w.roles.unplannedExits.length === 0 && notShutDown.length === 0 && workers.bridge === 2 && workers.health_check === 2 && workers.schedules === 1,
    };
    console.log(
      JSON.stringify(
        {
          bench: 'chaos',
          command: `npx tsx bench/chaos.ts${quick ? ' --quick' : ''}`,
          quick,
          machine: machine(loadStart),
          role_logs: w.roles.logDir,
          settings: {
            scans_per_s: 10,
            assets: 400,
            health_interval_ms: HEALTH_INTERVAL_MS,
            sentinel_down_after_ms: 3000,
            bridge_lock_ms: w.config.bridgeLockMs,
            restart_backoff_ms: w.config.restartBackoffMs,
            sigstop_ms: TIMING.stopMs,
            settle_ms: TIMING.settleMs,
          },
          faults: perFault,
          totals: {
            ...endTotals(w, notShutDown, workers),
            lost: lost.length,
            never_in_latest: [...w.scanner.writtenAt.keys()].filter((n) => !seenInLatest.has(n)).length,
          },
          targets,
        },
        null,
        2,
      ),
    );
  } finally {
    await w.stop();
  }
}

(process.argv.includes('--failovers') ? runFailovers() : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
