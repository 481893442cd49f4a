/**
 * Chaos run, failover mode (`npx tsx bench/chaos.ts --failovers [--count N]`): 10 Redis master
 * failovers in a row with every role running (`start --role all` and a standby bridge), a
 * scanner at 10 scans/s, Redis master + replica + 3 sentinels, 2 Hazelcast members. Each time the
 * master is SIGKILLed, the sentinels promote the replica, and the old master is started again as
 * the new one's replica once the failover was measured. Prints one JSON object.
 *
 * Every second failover, the first sentinel of REDIS_SENTINELS (the one connections ask first)
 * is frozen (SIGSTOP) while the master dies and until the others promoted the replica: the
 * failover is announced while connections are still asking it (issue 21).
 *
 * Per failover: when checks resumed (a health check after the master's death, and a healthy one),
 * whether scans kept flowing (the longest stall of latest_eigen_scan), and processes that exited.
 */
import { loadavg } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { QUEUES } from '../src/jobs/table.js';
import { endTotals, machine, say, startWorld, until, type World } from './chaos-world.js';

const HEALTH_INTERVAL_MS = 5_000;
const DOWN_AFTER_MS = 3_000;
/** How long a failover may take to recover before it counts as not recovered. */
const WINDOW_MS = 60_000;
/** Quiet time after each repair, so each failover starts from a steady system. */
const SETTLE_MS = 5_000;
/** "Scans never stopped": no stall of latest_eigen_scan beyond three scan intervals. */
const MAX_STALL_MS = 300;

const count = Number(process.argv[process.argv.indexOf('--count') + 1]) || 10;

async function failover(w: World, i: number) {
  const firstAfter = w.scanner.last + 1;
  const exitsBefore = w.roles.unplannedExits.length;
  const port = await w.redis.masterPort();
  const frozen = i % 2 === 0 ? w.redis.sentinels[0]! : null;
  if (frozen) process.kill(frozen.pid, 'SIGSTOP');
  const t0 = Date.now();
  await w.redis.nodes.get(port)!.kill();
  const to = await w.redis.waitForFailover(port, WINDOW_MS).finally(() => frozen && process.kill(frozen.pid, 'SIGCONT'));
  const promotedMs = Date.now() - t0;
  const flowed = await until(() => w.observer.latest.find((e) => e.at >= t0 && e.scan >= firstAfter), WINDOW_MS);
  const checked = await until(() => w.observer.health.find((h) => h.checkedAt > t0 + promotedMs), WINDOW_MS);
  const healthy = await until(() => w.observer.health.find((h) => h.checkedAt > t0 + promotedMs && h.status === 'healthy'), WINDOW_MS);
  const end = Date.now();
  const pushes = w.observer.latest.filter((e) => e.at >= t0 && e.at <= end).map((e) => e.at);
  let stall = 0;
  [w.observer.latest.filter((e) => e.at < t0).at(-1)?.at ?? t0, ...pushes, end].reduce((a, b) => ((stall = Math.max(stall, b - a)), b));
  await w.redis.restartNode(port, 'replica');
  const result = {
    failover: i,
    at: new Date(t0).toISOString(),
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    first_sentinel_frozen: frozen !== null,
    master_killed: port,
    promoted: to,
    promoted_ms: promotedMs,
    flow_again_ms: flowed ? flowed.at - t0 : null,
    longest_stall_ms: stall,
    // The first check that ran once the new master was in place, counted from the master's death.
    check_again_ms: checked ? checked.at - t0 : null,
    check_again_status: checked?.status ?? null,
    ...(checked && checked.status !== 'healthy' ? { check_again_cause: checked.cause ?? null } : {}),
    healthy_again_ms: healthy ? healthy.at - t0 : null,
    process_exits: w.roles.unplannedExits.slice(exitsBefore),
  };
  say(`failover ${i}: ${JSON.stringify(result)}`);
  const repairedAt = Date.now();
  await until(() => w.observer.health.find((h) => h.checkedAt > repairedAt && h.status === 'healthy'), WINDOW_MS);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return result;
}

/** Lines the roles logged that say a connection was closed for good (the defect of issue 21). */
function closedForGood(logDir: string): number {
  return readdirSync(logDir)
    .map(
      (f) =>
        readFileSync(join(logDir, f), 'utf8')
          .split('\n')
          .filter((l) => l.includes('Connection is closed')).length,
    )
    .reduce((a, b) => a + b, 0);
}

export async function runFailovers(): Promise<void> {
  const loadStart = loadavg();
  const w = await startWorld({
    healthIntervalMs: HEALTH_INTERVAL_MS,
    downAfterMs: DOWN_AFTER_MS,
    roles: [
      ['all', 'all'],
      ['standby-bridge', 'bridge'],
    ],
    env: { BOARD_PORT: '0' },
  });
  try {
    w.scanner.start();
    say('waiting for scans to flow and a healthy check');
    const startedAt = Date.now();
    if (!(await until(() => w.observer.health.find((h) => h.status === 'healthy' && h.checkedAt > startedAt), 120_000)))
      throw new Error('the system never became healthy');
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const results = [];
    for (let i = 1; i <= count; i++) results.push(await failover(w, i));
    w.scanner.stop();

    const redis = createRedis(w.config);
    const queue = (name: string) => new Queue(name, { connection: redis, prefix: w.config.queuePrefix });
    const queues = [queue(QUEUES.bridge), queue(QUEUES.healthCheck), queue(QUEUES.restartBridge)];
    const [bridge, healthCheck, restart] = await Promise.all(queues.map((q) => q.getWorkersCount()));
    const schedules = (await queues[1]!.getJobSchedulers()).length;
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    const notShutDown = await w.roles.terminateAll(20_000);
    const workers = { bridge, health_check: healthCheck, restart_bridge: restart, schedules };
    const targets = {
      checks_resumed_every_time: results.every((r) => r.check_again_ms !== null && r.healthy_again_ms !== null),
      scans_never_stopped: results.every((r) => r.flow_again_ms !== null && r.longest_stall_ms <= MAX_STALL_MS),
      no_process_exited: w.roles.unplannedExits.length === 0 && notShutDown.length === 0,
      every_worker_connected_at_end: bridge === 2 && healthCheck === 1 && restart === 1 && schedules === 1,
    };
    console.log(
      JSON.stringify(
        {
          bench: 'chaos-failovers',
          command: `npx tsx bench/chaos.ts --failovers${count === 10 ? '' : ` --count ${count}`}`,
          machine: machine(loadStart),
          role_logs: w.roles.logDir,
          settings: {
            roles: 'start --role all, start --role bridge',
            scans_per_s: 10,
            health_interval_ms: HEALTH_INTERVAL_MS,
            sentinel_down_after_ms: DOWN_AFTER_MS,
            bridge_lock_ms: w.config.bridgeLockMs,
            max_stall_ms: MAX_STALL_MS,
          },
          failovers: results,
          totals: { ...endTotals(w, notShutDown, workers), connection_closed_lines: closedForGood(w.roles.logDir) },
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
