/**
 * Supervision benchmark: prints one JSON object.
 *   failover      SIGKILL of the process running the bridge → next scan pushed by a standby (5 kills)
 *   restart       a restart job of a live bridge → new generation confirmed
 *   stale         a frozen (SIGSTOP) bridge: data turns stale → restart confirmed
 *   health_check  the cost of one health check (gather, decide, record) against real servers
 *
 * Run: npm run build && npx tsx bench/supervision.ts [--quick]
 * Real Redis, Hazelcast and `scan-bridge start` processes, default lock and heartbeat settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast } from '../src/connections.js';
import { startHazelcast, startRedis, ROOT } from '../scripts/servers/services.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { scanFileName, writeScanFileSync } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { enqueueRestart, runHealthCheck } from '../src/jobs/health-check.js';
import { openJobQueue } from '../src/jobs/table.js';
import { createLogger } from '../src/log.js';
import { bridgeLockTimings } from '../src/workers/bridge-worker.js';

const quick = process.argv.includes('--quick');
const log = createLogger('silent');
const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
}
const median = (xs: number[]) => pct(xs, 50);

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function spawnBridge(env: Record<string, string>): ChildProcess {
  const p = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'start', '--role', 'bridge'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn', LOG_PRETTY: '0' },
    stdio: 'ignore',
  });
  return p;
}

/** Writes scans at 10/s into the folder, atomically, until stopped. */
function scanner(arrowDir: string) {
  let n = 0;
  const template = makeScan({ scanNumber: 1, time: new Date(), assets: 400 });
  const timer = setInterval(() => {
    n++;
    const at = new Date();
    writeScanFileSync(arrowDir, n, at, encodeScan({ ...template, scan_number: n, timestamp: at }));
  }, 100);
  return { stop: () => clearInterval(timer), last: () => n };
}

/** Watches latest_eigen_scan through an entry listener: who wrote which scan, when. */
async function observe(hz: Hazelcast, config: Config) {
  let latest: { scan: number; bridgeId: string; at: number } | null = null;
  const map = await hz.client.getMap<string, string>(config.hzMap);
  const on = (e: { value: string | null }) => {
    if (!e.value) return;
    const v = JSON.parse(e.value) as { scan_number: number; bridge_id: string };
    latest = { scan: v.scan_number, bridgeId: v.bridge_id, at: Date.now() };
  };
  await map.addEntryListener({ added: on, updated: on }, config.hzKey, true);
  return () => latest;
}

async function main(): Promise<void> {
  say('starting Redis and Hazelcast');
  const [redisServer, member] = await Promise.all([startRedis(), startHazelcast()]);
  const procs: ChildProcess[] = [];
  try {
    const env: Record<string, string> = {
      REDIS_URL: redisServer.address,
      HZ_MEMBERS: member.address,
      ARROW_DIR: mkdtempSync(join(tmpdir(), 'sb-bench-')),
      QUEUE_PREFIX: 'bench',
    };
    const config = resolveConfig(env);
    const hz = await createHazelcast(config, log, { kind: 'command', timeoutMs: 10_000 });
    const redis = createRedis(config);
    const latest = await observe(hz, config);
    const heartbeat = async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined;

    procs.push(spawnBridge(env), spawnBridge(env));
    const scans = scanner(config.arrowDir);

    // Failover: kill the holder, time the first scan pushed by another bridge.
    const kills = quick ? 2 : 5;
    const failoverMs: number[] = [];
    for (let i = 0; i < kills; i++) {
      const active = await until('a pushing bridge', () => {
        const l = latest();
        return l && Date.now() - l.at < 500 ? l : undefined;
      });
      const pid = Number(active.bridgeId.split(':').pop());
      const victim = procs.find((p) => p.pid === pid);
      if (!victim) throw new Error(`active bridge ${active.bridgeId} is not one of ours`);
      const t0 = Date.now();
      victim.kill('SIGKILL');
      const next = await until('a standby pushing', () => {
        const l = latest();
        return l && l.bridgeId !== active.bridgeId ? l : undefined;
      });
      failoverMs.push(next.at - t0);
      say(`failover ${i + 1}/${kills}: ${next.at - t0} ms (${active.bridgeId} → ${next.bridgeId})`);
      procs.splice(procs.indexOf(victim), 1);
      procs.push(spawnBridge(env));
    }

    // Restart of a live bridge by a restart job, through a job worker in this process.
    const { startJobWorkers } = await import('../src/workers/job-worker.js');
    const workers = await startJobWorkers(config, log);
    const restartQueue = openJobQueue('restart-bridge', redis, config, log);
    const restartMs: number[] = [];
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const { id } = await enqueueRestart(restartQueue, { reason: 'bench', requestedBy: 'bench' });
      const job = await until(
        'restart confirmed',
        async () => {
          const j = await restartQueue.getJob(id);
          return j?.finishedOn ? j : undefined;
        },
        60_000,
        20,
      );
      restartMs.push(job.finishedOn! - job.timestamp);
      say(`restart ${i + 1}: ${job.finishedOn! - job.timestamp} ms, returned ${JSON.stringify(job.returnvalue)}`);
    }

    // A frozen bridge: SIGSTOP its process; time from data going stale to a restart confirmed.
    // No start-up grace: the bridge was restarted moments ago, and stale is what is measured here.
    const staleEnv = { ...config, dataWarningS: 1, dataStaleS: 2, bridgeStartGraceS: 0 };
    const hb = await until('a heartbeat', heartbeat);
    const frozen = procs.find((p) => p.pid === hb.pid)!;
    const lastBefore = latest()!;
    frozen.kill('SIGSTOP');
    const frozenAt = Date.now();
    const staleAt = lastBefore.at + staleEnv.dataStaleS * 1000;
    const checks = setInterval(() => void runHealthCheck({ config: staleEnv, redis, hazelcast: hz, log, restartQueue }).catch(() => undefined), 1000);
    const confirmed = await until(
      'restart confirmed after stale',
      async () => {
        // Only a restart asked for after the freeze: the restarts above may be newer than the last push seen.
        const done = (await restartQueue.getJobs(['completed'])).filter((j) => j.timestamp > frozenAt);
        return done[0];
      },
      60_000,
      20,
    );
    clearInterval(checks);
    const staleToConfirmedMs = confirmed.finishedOn! - staleAt;
    say(`stale → restart confirmed: ${staleToConfirmedMs} ms`);
    frozen.kill('SIGKILL');

    // The cost of one health check, with a day folder of 5,000 files.
    const dir = join(config.arrowDir, '2099-01-01');
    mkdirSync(dir, { recursive: true });
    for (let n = 1; n <= 5000; n++) writeFileSync(join(dir, scanFileName(n, new Date(0))), '');
    const checkMs: number[] = [];
    for (let i = 0; i < (quick ? 100 : 500); i++) {
      const t0 = performance.now();
      await runHealthCheck({ config, redis, hazelcast: hz, log });
      checkMs.push(performance.now() - t0);
    }
    scans.stop();
    await workers.stop();
    await restartQueue.close();
    await hz.shutdown();
    redis.disconnect();

    const cpu = cpus();
    console.log(
      JSON.stringify(
        {
          bench: 'supervision',
          quick,
          machine: { cpus: cpu.length, model: cpu[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version },
          settings: {
            bridge_lock_ms: config.bridgeLockMs,
            stalled_check_ms: bridgeLockTimings(config).stalledInterval,
            lock_renew_ms: bridgeLockTimings(config).lockRenewTime,
            heartbeat_ms: config.bridgeHeartbeatMs,
            heartbeat_ttl_ms: config.bridgeHeartbeatTtlMs,
            scans_per_s: 10,
            assets: 400,
          },
          failover_ms: {
            kills: failoverMs.length,
            median: median(failoverMs),
            max: Math.max(...failoverMs),
            all: failoverMs,
            target_ms: 10_000,
            met: Math.max(...failoverMs) <= 10_000,
          },
          restart_live_bridge_ms: { median: median(restartMs), max: Math.max(...restartMs), all: restartMs },
          stale_to_restart_confirmed_ms: {
            value: staleToConfirmedMs,
            scenario: 'bridge process frozen with SIGSTOP, DATA_STALE_S=2, checks every 1 s, one standby',
          },
          health_check_ms: {
            p50: pct(checkMs, 50),
            p99: pct(checkMs, 99),
            max: Math.round(Math.max(...checkMs) * 10) / 10,
            runs: checkMs.length,
            day_folder_files: 5000,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all([redisServer.stop(), member.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
