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
import { rmSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { QUEUES } from '../src/jobs/table.js';
import { say, startWorld, until, type World } from './chaos-world.js';
import { runFailovers } from './chaos-failovers.js';

const quick = process.argv.includes('--quick');
/** How long each fault may take to recover before it counts as not recovered. */
const WINDOW_MS = 60_000;
/** Quiet time between faults, so each one starts from a steady system. */
const SETTLE_MS = quick ? 5_000 : 15_000;
const STOP_MS = quick ? 10_000 : 20_000;
const HEALTH_INTERVAL_MS = 5_000;

interface Applied {
  note: string;
  endsAt?: Promise<void>;
  repair?: () => Promise<string>;
}

interface Fault {
  name: string;
  redis?: boolean;
  /**
   * Applies the fault. Returns a note; for a pause, when it ends; for a killed server, how to put
   * it back as an operator would, after the fault was measured.
   */
  apply(w: World): Applied | Promise<Applied>;
}

function activeBridge(w: World) {
  const l = w.observer.recent(1000);
  if (!l) throw new Error('no bridge is pushing');
  const role = w.roles.byPid(Number(l.bridgeId.split(':').pop()));
  if (!role) throw new Error(`active bridge ${l.bridgeId} is not one of ours`);
  return role;
}

const FAULTS: Fault[] = [
  {
    name: 'redis_master_sigkill',
    redis: true,
    async apply(w) {
      const port = await w.redis.masterPort();
      await w.redis.nodes.get(port)!.kill();
      const repair = async () => {
        const to = await w.redis.waitForFailover(port, WINDOW_MS);
        await w.redis.restartNode(port, 'replica');
        return `sentinels promoted :${to}; the old master :${port} was started again as its replica`;
      };
      return { note: `master :${port} killed`, repair };
    },
  },
  {
    name: 'hazelcast_member_sigkill',
    async apply(w) {
      const ps = w.hz.client.getPartitionService();
      const owner = ps.getPartitionOwner(ps.getPartitionId(w.config.hzKey)).toString();
      const port = w.hz.client
        .getCluster()
        .getMembers()
        .find((m) => m.uuid.toString() === owner)?.address.port;
      const i = Math.max(
        0,
        w.hazelcast.members.findIndex((m) => m.port === port),
      );
      await w.hazelcast.members[i]!.kill();
      const repair = async () => {
        await w.hazelcast.restart(i);
        return `member :${w.hazelcast.members[i]!.port} started again and rejoined`;
      };
      return { note: `member :${w.hazelcast.members[i]!.port} killed (owner of latest_eigen_scan's partition: ${port !== undefined})`, repair };
    },
  },
  {
    name: 'active_bridge_sigkill',
    apply(w) {
      const role = activeBridge(w);
      const pid = role.proc.pid;
      const again = w.roles.crashAndRespawn(role);
      return { note: `${role.name} (pid ${pid}) killed; started again as pid ${again.proc.pid}` };
    },
  },
  {
    name: 'active_bridge_sigstop',
    apply(w) {
      const role = activeBridge(w);
      role.proc.kill('SIGSTOP');
      const endsAt = new Promise<void>((ok) =>
        setTimeout(() => {
          role.proc.kill('SIGCONT');
          ok();
        }, STOP_MS),
      );
      return { note: `${role.name} (pid ${role.proc.pid}) stopped for ${STOP_MS / 1000} s, then continued`, endsAt };
    },
  },
  {
    name: 'redis_restarted_empty',
    redis: true,
    async apply(w) {
      const port = await w.redis.masterPort();
      await w.redis.nodes.get(port)!.kill();
      await w.redis.restartNode(port, 'master');
      return { note: `master :${port} killed and started again at once without data (its replica resyncs to empty)` };
    },
  },
  {
    name: 'scan_folder_removed',
    apply(w) {
      rmSync(w.config.arrowDir, { recursive: true, force: true });
      mkdirSync(w.config.arrowDir);
      return { note: 'ARROW_DIR removed with every scan in it, and created again empty' };
    },
  },
];

async function measure(w: World, f: Fault) {
  const firstAfter = w.scanner.last + 1;
  const t0 = Date.now();
  const { note, endsAt, repair } = await f.apply(w);
  // Removing a folder of thousands of files takes this process a while: the bridge sees the fault only after.
  const appliedMs = Date.now() - t0;
  say(`${f.name}: ${note}`);
  const flowed = await until(() => w.observer.latest.find((e) => e.at >= t0 && e.scan >= firstAfter), WINDOW_MS);
  const checked = await until(() => w.observer.health.find((h) => h.checkedAt > t0), WINDOW_MS);
  const healthy = await until(() => w.observer.health.find((h) => h.checkedAt > t0 && h.status === 'healthy'), WINDOW_MS);
  await endsAt;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const end = Date.now();
  const repaired = repair ? await repair() : undefined;
  if (repaired) say(`${f.name}: ${repaired}`);
  // The longest time latest_eigen_scan stood still in the fault's window (scans come every 100 ms).
  const pushes = w.observer.latest.filter((e) => e.at >= t0 && e.at <= end).map((e) => e.at);
  const lastBefore = w.observer.latest.filter((e) => e.at < t0).at(-1);
  const before = lastBefore?.at ?? t0;
  let stall = 0;
  [before, ...pushes, end].reduce((a, b) => ((stall = Math.max(stall, b - a)), b));
  const result = {
    fault: f.name,
    note,
    repaired: repaired ?? null,
    at: new Date(t0).toISOString(),
    loadavg: loadavg(),
    applied_ms: appliedMs,
    flow_again_ms: flowed ? flowed.at - t0 : null,
    longest_stall_ms: stall,
    check_again_ms: checked ? checked.at - t0 : null,
    check_again_status: checked?.status ?? null,
    // Why, when it is not healthy: the check's cause and message.
    ...(checked && checked.status !== 'healthy' ? { check_again_cause: checked.cause ?? null, check_again_message: checked.message ?? null } : {}),
    healthy_again_ms: healthy ? healthy.at - t0 : null,
    // The bridge that pushed last before the fault, then those that pushed in its window, in turn.
    bridges: pushers([...(lastBefore ? [lastBefore.bridgeId] : []), ...w.observer.latest.filter((e) => e.at >= t0 && e.at <= end).map((e) => e.bridgeId)]),
    scans: { from: firstAfter, to: w.scanner.last },
  };
  say(`${f.name}: ${JSON.stringify(result)}`);
  // Steady again before the next fault: a healthy check after the repair.
  const repairedAt = Date.now();
  await until(() => w.observer.health.find((h) => h.checkedAt > repairedAt && h.status === 'healthy'), WINDOW_MS);
  return { ...result, t0 };
}

/** `a, a, b, a` → `[a, b, a]`. */
function pushers(ids: string[]): string[] {
  return ids.filter((id, i) => i === 0 || ids[i - 1] !== id);
}

async function lostScans(w: World): Promise<number[]> {
  const history = await w.hz.client.getMap<string, string>(w.config.hzHistoryMap);
  const written = [...w.scanner.writtenAt.keys()];
  const lost: number[] = [];
  for (let i = 0; i < written.length; i += 1000) {
    const chunk = written.slice(i, i + 1000);
    const got = await history.getAll(chunk.map((n) => String(n).padStart(6, '0')));
    const have = new Set(got.map(([k]) => Number(k)));
    lost.push(...chunk.filter((n) => !have.has(n)));
  }
  return lost;
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const w = await startWorld({ healthIntervalMs: HEALTH_INTERVAL_MS, downAfterMs: 3000 });
  try {
    w.scanner.start();
    say('waiting for scans to flow and a healthy check');
    const startedAt = Date.now();
    const steady = await until(() => w.observer.health.find((h) => h.status === 'healthy' && h.checkedAt > startedAt), 120_000);
    if (!steady) throw new Error('the system never became healthy');
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const results: Array<Awaited<ReturnType<typeof measure>>> = [];
    for (const f of FAULTS) results.push(await measure(w, f));

    w.scanner.stop();
    const lastScan = w.scanner.last;
    // Time for the last scans and any history backlog to land.
    await until(() => (w.observer.latest.at(-1)?.scan === lastScan ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 5000));
    const lost = await lostScans(w);
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
    const cpu = cpus();
    console.log(
      JSON.stringify(
        {
          bench: 'chaos',
          command: `npx tsx bench/chaos.ts${quick ? ' --quick' : ''}`,
          quick,
          machine: {
            cpus: cpu.length,
            model: cpu[0]?.model,
            memory_gb: Math.round(totalmem() / 2 ** 30),
            node: process.version,
            loadavg_start: loadStart,
            loadavg_end: loadavg(),
          },
          role_logs: w.roles.logDir,
          settings: {
            scans_per_s: 10,
            assets: 400,
            health_interval_ms: HEALTH_INTERVAL_MS,
            sentinel_down_after_ms: 3000,
            bridge_lock_ms: w.config.bridgeLockMs,
            restart_backoff_ms: w.config.restartBackoffMs,
            sigstop_ms: STOP_MS,
            settle_ms: SETTLE_MS,
          },
          faults: perFault,
          totals: {
            scans_written: w.scanner.writtenAt.size,
            lost: lost.length,
            never_in_latest: [...w.scanner.writtenAt.keys()].filter((n) => !seenInLatest.has(n)).length,
            latest_backwards: w.observer.backwards,
            unplanned_exits: w.roles.unplannedExits,
            // At the end every role gets SIGTERM: those that did not exit with 0 within 20 s.
            not_shut_down_by_sigterm: notShutDown,
            workers_at_end: workers,
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
