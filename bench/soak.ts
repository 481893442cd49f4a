/**
 * Soak: a week of production, compressed. The chaos run's system (chaos-world.ts: 2 bridges,
 * 2 workers, a scheduler, Redis master + replica + 3 sentinels, 2 Hazelcast members) runs 7 days
 * of scans (one per 5 s: 120,960) and of health checks (one per 30 s: 20,160), `--speed` times
 * faster, with a fault every few minutes in turn: a Redis failover (master SIGKILL), a Hazelcast
 * member SIGKILL and restart, the active bridge's SIGKILL (started again, as a process manager
 * would). Prints one JSON object; progress goes to stderr.
 *
 * Over time: resident memory, heap and open descriptors of every process; Redis `used_memory`
 * and keys; the size of every Hazelcast map; at the end, log lines per simulated day (roles at
 * `info`), scans lost. Exits 1 when a check fails (soak-judge.ts).
 *
 * Time-based settings are scaled by the speed: HEALTH_INTERVAL_MS (never below its minimum,
 * 100 ms), LOG_SUMMARY_INTERVAL_MS, and HZ_HISTORY_TTL_S (one simulated day; 30 s in the quick
 * mode, so entries expire within its two minutes). Failover timings (lock, heartbeat) are not.
 *
 * Run: npm run build && npm run bench:soak [-- --quick] [-- --speed 300]
 * `--judge <file>`: a saved run's JSON judged again by this version's rules (its old verdict kept).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '../src/connections.js';
import { machine, say, startWorld, until, type Role, type World } from './chaos-world.js';
import { chaosFaults, measure, missingFromHistory } from './chaos-faults.js';
import { cappedClasses, heapsMb, mapSizes, procFigures, redisFigures, reportOnSignal } from './soak-probe.js';
import {
  factsFromReport,
  growthAfterWarmup,
  judge,
  linesPerDay,
  redisBound,
  type Limits,
  type Point,
  type ProcessSeries,
  type SoakReport,
} from './soak-judge.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const quick = process.argv.includes('--quick');
const SPEED = Number(arg('--speed') ?? 300);
const DAY_S = 86_400;
const SCANS_PER_S = SPEED / 5;
const HEALTH_INTERVAL_MS = Math.max(100, Math.round((30_000 / SPEED) * 1000) / 1000);
const SIM_DAY_MS = (DAY_S * 1000) / SPEED;
const TOTAL_SCANS = quick ? SCANS_PER_S * 120 : (7 * DAY_S) / 5;
const HISTORY_TTL_S = quick ? 30 : Math.round(DAY_S / SPEED);
const FAULT_EVERY_MS = quick ? 25_000 : 150_000;
const SAMPLE_EVERY_MS = quick ? 5_000 : 15_000;
const WARMUP_MS = quick ? 30_000 : 120_000;
/** A scan not in history this long after it was written is lost (a takeover and its catch-up take seconds). */
const LOST_AFTER_MS = 90_000;
/**
 * Expired history entries stay in the map (and in its size) until the member's expiry task, which
 * visits a few partitions every 5 s, removes them: the bound allows them this long past their TTL.
 * At production rates (one scan per 5 s) that lag is a few dozen entries; at 60 scans/s, thousands.
 */
const EXPIRY_LAG_S = 180;
const TIMING = { windowMs: 60_000, settleMs: 5_000, stopMs: 0 };
const FAULTS = chaosFaults(TIMING).filter((f) => ['redis_master_sigkill', 'hazelcast_member_sigkill', 'active_bridge_sigkill'].includes(f.name));

interface Sample {
  t: number;
  procs: Array<{ name: string; pid: number; judged: boolean; rssMb: number; heapMb: number | null; fds: number }>;
  redis: { usedMemory: number; keys: number } | null;
  maps: Record<string, number>;
  /** The 1-minute load average. */
  load: number;
}

/**
 * Every process of the world: the roles (judged) and the servers (reported). A bridge is named
 * with its state, active (it pushed the newest scan) or standby: an active bridge holds decoded
 * scans and its threads' heaps, so its memory is compared with itself when active, not standby.
 */
function processes(w: World): Array<{ name: string; pid: number; judged: boolean }> {
  const live = w.roles.all.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null);
  const active = Number(w.observer.recent(2000)?.bridgeId.split(':').pop());
  const state = (r: Role) => (r.role !== 'bridge' ? '' : r.proc.pid === active ? ' (active)' : ' (standby)');
  return [
    ...live.map((r) => ({ name: r.name + state(r), pid: r.proc.pid!, judged: true })),
    ...[...w.redis.nodes.values()].map((n) => ({ name: `redis:${n.port}`, pid: n.pid, judged: false })),
    ...w.redis.sentinels.map((s) => ({ name: `sentinel:${s.port}`, pid: s.pid, judged: false })),
    ...w.hazelcast.members.map((m) => ({ name: `hazelcast:${m.port}`, pid: m.pid, judged: false })),
  ];
}

class Sampler {
  readonly samples: Sample[] = [];
  private readonly seen = new Set<number>();
  private readonly redis;

  constructor(
    private readonly w: World,
    private readonly reportDir: string,
  ) {
    this.redis = createRedis(w.config);
    this.redis.on('error', () => undefined);
  }

  async sample(): Promise<Sample> {
    const procs = processes(this.w);
    // A process seen in an earlier sample has finished starting: SIGUSR2 writes its report.
    const heaps = await heapsMb(
      procs.filter((p) => p.judged && this.seen.has(p.pid)).map((p) => p.pid),
      this.reportDir,
    );
    for (const p of procs) this.seen.add(p.pid);
    const s: Sample = {
      t: Date.now(),
      procs: procs.flatMap((p) => {
        const f = procFigures(p.pid);
        return f ? [{ ...p, ...f, heapMb: heaps.get(p.pid) ?? null }] : [];
      }),
      redis: await redisFigures(this.redis),
      maps: await mapSizes(this.w.hz),
      load: loadavg()[0]!,
    };
    this.samples.push(s);
    return s;
  }

  series(): ProcessSeries[] {
    const by = new Map<string, ProcessSeries>();
    for (const s of this.samples)
      for (const p of s.procs) {
        const key = `${p.pid} ${p.name}`;
        const series = by.get(key) ?? { name: p.name, pid: p.pid, judged: p.judged, rssMb: [], heapMb: [], fds: [] };
        by.set(key, series);
        series.rssMb.push({ t: s.t, v: p.rssMb });
        if (p.heapMb !== null) series.heapMb.push({ t: s.t, v: p.heapMb });
        series.fds.push({ t: s.t, v: p.fds });
      }
    return [...by.values()];
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Scans in history once, and those that never got there within LOST_AFTER_MS. */
class LossWatch {
  readonly lost: number[] = [];
  private pending: number[] = [];
  private next = 1;
  private running = false;

  constructor(private readonly w: World) {}

  async check(now = Date.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.checkOnce(now);
    } finally {
      this.running = false;
    }
  }

  private async checkOnce(now: number): Promise<void> {
    const written = this.w.scanner.writtenAt;
    while (this.next <= this.w.scanner.last) {
      if (written.has(this.next)) this.pending.push(this.next);
      this.next++;
    }
    try {
      const missing = new Set(await missingFromHistory(this.w, this.pending));
      this.lost.push(...this.pending.filter((n) => missing.has(n) && now - written.get(n)! > LOST_AFTER_MS));
      this.pending = this.pending.filter((n) => missing.has(n) && now - written.get(n)! <= LOST_AFTER_MS);
    } catch {
      // Hazelcast does not answer during a member's fault: the next check asks again.
    }
  }

  get waiting(): number {
    return this.pending.length;
  }
}

const mb = (x: number) => Math.round(x * 10) / 10;
const every = (ms: number, f: () => Promise<unknown>) => {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void f().finally(() => (busy = false));
  }, ms);
  return () => clearInterval(timer);
};

function progress(w: World, s: Sample, loss: LossWatch, t0: number): void {
  const roles = s.procs
    .filter((p) => p.judged)
    .map((p) => `${p.name} ${mb(p.rssMb)}/${p.heapMb === null ? '-' : mb(p.heapMb)} MB ${p.fds} fds`)
    .join(', ');
  const day = ((s.t - t0) / SIM_DAY_MS).toFixed(2);
  say(
    `day ${day}: scan ${w.scanner.last}/${TOTAL_SCANS}, latest ${w.observer.latest.at(-1)?.scan ?? '-'}, lost ${loss.lost.length}; redis ${s.redis ? `${mb(s.redis.usedMemory / 2 ** 20)} MB ${s.redis.keys} keys` : 'no answer'}; maps ${JSON.stringify(s.maps)}; ${roles}`,
  );
}

/** Log lines of every role: those of pino (JSON), by time and level, and any other line. */
function readLogs(dir: string) {
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  const lines: Array<{ role: string; time: number; level: string }> = [];
  let other = 0;
  for (const f of readdirSync(dir)) {
    const role = f.replace(/-\d+\.log$/, '');
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      // The diagnostic reports the soak asks for say so on stderr (without a line break before
      // the next output): not the role's own lines.
      const own = line.replace(/^Writing Node\.js report to file: \S+?\.json/, '').replace(/^Node\.js report completed/, '');
      if (!own) continue;
      try {
        const l = JSON.parse(own) as { time: number; level: number };
        lines.push({ role, time: l.time, level: names[l.level] ?? String(l.level) });
      } catch {
        other++;
      }
    }
  }
  return { lines, other };
}

/**
 * The limits of the verdict. The full run is steady after a simulated day (every bounded structure
 * has reached its size by then); the quick mode, shorter than a day, only after each warm-up.
 */
function limitsFor(isQuick: boolean, warmupMs: number, simDayMs: number): Limits {
  return { warmupMs, steadyFromMs: isQuick ? 0 : simDayMs, memoryMb: 20, fds: 5 };
}

/** Prints the soak's JSON with its verdict (each process's growth, the failures); the exit code. */
function printJudged(report: SoakReport & object, limits: Limits, extra: Record<string, unknown> = {}): number {
  const facts = factsFromReport(report);
  const failures = judge(facts, limits);
  const summary = (p: Point[]) => {
    const g = growthAfterWarmup(p, limits);
    return { first: p[0]?.v, last: p.at(-1)?.v, max: Math.max(...p.map((x) => x.v)), growth_after_warmup: g && mb(g.growth) };
  };
  const processes = facts.processes.map((p) => ({
    name: p.name,
    pid: p.pid,
    judged: p.judged,
    samples: p.rssMb.length,
    rss_mb: summary(p.rssMb),
    heap_mb: p.heapMb.length ? summary(p.heapMb) : null,
    fds: summary(p.fds),
  }));
  console.log(JSON.stringify({ ...report, limits, processes, ...extra, failures, pass: failures.length === 0 }, null, 2));
  return failures.length === 0 ? 0 : 1;
}

/** `--judge <file>`: a soak's JSON judged again by this version's rules. */
function judgeAgain(file: string): number {
  const r = JSON.parse(readFileSync(file, 'utf8')) as SoakReport & {
    quick: boolean;
    failures: string[];
    settings: { warmup_s: number; simulated_day_s: number };
  };
  const limits = limitsFor(r.quick, r.settings.warmup_s * 1000, r.settings.simulated_day_s * 1000);
  return printJudged(r, limits, { failures_when_run: r.failures, judged_again_at: new Date().toISOString() });
}

async function main(): Promise<number> {
  const loadStart = loadavg();
  const reportDir = mkdtempSync(join(tmpdir(), 'sb-soak-reports-'));
  const w = await startWorld({
    healthIntervalMs: HEALTH_INTERVAL_MS,
    downAfterMs: 3000,
    logLevel: 'info',
    // A simulated day of history is 17,280 scans of about 17 KB, on each member (one backup each).
    hzHeap: '1g',
    env: {
      QUEUE_PREFIX: 'soak',
      HZ_HISTORY_TTL_S: String(HISTORY_TTL_S),
      LOG_SUMMARY_INTERVAL_MS: String(Math.max(100, Math.round(300_000 / SPEED))),
      NODE_OPTIONS: reportOnSignal(reportDir),
    },
    // The scanner keeps a simulated day of files, as the newest day folder holds at most.
    scanner: { scansPerS: SCANS_PER_S, keepFiles: (DAY_S / 5) | 0, count: TOTAL_SCANS },
  });
  const sampler = new Sampler(w, reportDir);
  const loss = new LossWatch(w);
  try {
    say(
      `${quick ? 'quick' : 'full'} soak: ${TOTAL_SCANS} scans at ${SCANS_PER_S}/s, a health check every ${HEALTH_INTERVAL_MS} ms, history TTL ${HISTORY_TTL_S} s`,
    );
    const t0 = Date.now();
    w.scanner.start();
    const steady = await until(() => w.observer.health.find((h) => h.status === 'healthy' && h.checkedAt > t0), 120_000);
    if (!steady) throw new Error('the system never became healthy');
    const stopSampling = every(SAMPLE_EVERY_MS, async () => progress(w, await sampler.sample(), loss, t0));
    const stopLossWatch = every(2000, () => loss.check());
    const faults: Array<Awaited<ReturnType<typeof measure>>> = [];
    for (let i = 0; ; i++) {
      const at = t0 + FAULT_EVERY_MS * (i + 1);
      await until(() => (Date.now() >= at || w.scanner.done ? true : undefined), Infinity);
      if (w.scanner.done) break;
      faults.push(await measure(w, FAULTS[i % FAULTS.length]!, TIMING));
    }
    say('every scan written: waiting for the last to arrive and for history');
    await until(() => (w.observer.latest.at(-1)?.scan === w.scanner.last ? true : undefined), 60_000);
    stopLossWatch();
    await until(async () => (await loss.check(), loss.waiting === 0 ? true : undefined), LOST_AFTER_MS + 10_000);
    stopSampling();
    await loss.check(Date.now() + LOST_AFTER_MS + 1);
    const end = await sampler.sample();

    const redis = createRedis(w.config);
    const classes = await cappedClasses(redis, w.config);
    redis.disconnect();
    const bound = redisBound({ usedMemoryBytes: end.redis?.usedMemory ?? 0, keys: end.redis?.keys ?? 0 }, classes);
    const notShutDown = await w.roles.terminateAll(20_000);
    const logs = readLogs(w.roles.logDir);

    const redisSamples = sampler.samples.flatMap((s) => (s.redis ? [s.redis] : []));
    const mapNames = [...new Set(sampler.samples.flatMap((s) => Object.keys(s.maps)))];
    const historyBound = Math.ceil(SCANS_PER_S * (HISTORY_TTL_S + EXPIRY_LAG_S));
    const maps = mapNames.map((m) => ({
      map: m,
      max: Math.max(...sampler.samples.map((s) => s.maps[m] ?? 0)),
      end: end.maps[m] ?? null,
      // latest_eigen_scan and the health result; every scan for a TTL.
      bound: m === w.config.hzMap ? 2 : m === w.config.hzHistoryMap ? historyBound : null,
    }));
    const seenInLatest = new Set(w.observer.latest.map((e) => e.scan));
    const report = {
      bench: 'soak',
      command: `npm run bench:soak${quick ? ' -- --quick' : ''}${SPEED !== 300 ? ` -- --speed ${SPEED}` : ''}`,
      quick,
      machine: machine(loadStart),
      role_logs: w.roles.logDir,
      settings: {
        speed: SPEED,
        simulated_day_s: SIM_DAY_MS / 1000,
        scans: TOTAL_SCANS,
        scans_per_s: SCANS_PER_S,
        assets: 400,
        hazelcast_heap: '1g',
        files_kept: (DAY_S / 5) | 0,
        health_interval_ms: HEALTH_INTERVAL_MS,
        hz_history_ttl_s: HISTORY_TTL_S,
        log_summary_interval_ms: Math.max(100, Math.round(300_000 / SPEED)),
        fault_every_s: FAULT_EVERY_MS / 1000,
        sample_every_s: SAMPLE_EVERY_MS / 1000,
        warmup_s: WARMUP_MS / 1000,
      },
      wall_s: Math.round((Date.now() - t0) / 1000),
      faults: faults.map(({ t0: _t0, ...f }) => f),
      processes: sampler.series().map((p) => ({ name: p.name, pid: p.pid, judged: p.judged })),
      redis: {
        used_memory_max: Math.max(...redisSamples.map((r) => r.usedMemory)),
        keys_max: Math.max(...redisSamples.map((r) => r.keys)),
        at_end: end.redis,
        bound,
        capped: classes,
      },
      hazelcast: { maps, history_bound: `${SCANS_PER_S} scans/s × (TTL ${HISTORY_TTL_S} s + ${EXPIRY_LAG_S} s expiry lag)` },
      logs: {
        per_simulated_day: linesPerDay(logs.lines, t0, SIM_DAY_MS),
        per_role: Object.fromEntries(
          [...new Set(logs.lines.map((l) => l.role))].map((r) => [
            r,
            linesPerDay(
              logs.lines.filter((l) => l.role === r),
              t0,
              SIM_DAY_MS,
            ).map((d) => d.total),
          ]),
        ),
        other_lines: logs.other,
      },
      totals: {
        scans_written: w.scanner.writtenAt.size,
        lost: loss.lost.length,
        lost_scans: loss.lost.slice(0, 20),
        never_in_latest: [...w.scanner.writtenAt.keys()].filter((n) => !seenInLatest.has(n)).length,
        latest_backwards: w.observer.backwards.length,
        health_checks_seen: w.observer.health.length,
        unplanned_exits: w.roles.unplannedExits,
        not_shut_down_by_sigterm: notShutDown,
      },
      // Over time, compact: seconds since the start, then per process [rss MB, heap MB, fds].
      samples: sampler.samples.map((s) => ({
        t_s: Math.round((s.t - t0) / 1000),
        procs: Object.fromEntries(
          s.procs.map((p) => [`${p.name}:${p.pid}`, [mb(p.rssMb), p.heapMb === null ? null : mb(p.heapMb), p.fds] as [number, number | null, number]]),
        ),
        redis: s.redis,
        maps: s.maps,
        load: s.load,
      })),
    };
    return printJudged(report, limitsFor(quick, WARMUP_MS, SIM_DAY_MS));
  } finally {
    sampler.close();
    await w.stop();
  }
}

(arg('--judge') ? Promise.resolve(judgeAgain(arg('--judge')!)) : main()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
