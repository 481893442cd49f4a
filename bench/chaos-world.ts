/**
 * The system the chaos run breaks: Redis under Sentinel, a Hazelcast cluster, the scan-bridge
 * processes, a scanner at 10 scans/s, and an observer of what reaches Hazelcast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../src/config.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { startHazelcastCluster, ROOT } from '../scripts/servers/services.js';
import { startSentinelGroup, type SentinelGroup } from '../test/servers/sentinel.js';
import { writeScanFileSync } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { createLogger } from '../src/log.js';

export const say = (msg: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

export interface Role {
  name: string;
  role: 'bridge' | 'worker' | 'scheduler' | 'all';
  proc: ChildProcess;
  /** Set when the run itself killed it; any other exit is a finding. */
  killedByUs: boolean;
}

/** `scan-bridge start --role …` processes; an exit the run did not cause is recorded. */
export class Roles {
  readonly all: Role[] = [];
  readonly unplannedExits: Array<{ name: string; code: number | null; signal: string | null; at: number }> = [];

  /** Each process's output (warnings and errors, JSON lines) goes to `<logDir>/<name>-<pid>.log`. */
  readonly logDir = mkdtempSync(join(tmpdir(), 'sb-chaos-logs-'));

  constructor(
    private readonly env: Record<string, string>,
    private readonly logLevel: 'warn' | 'info' = 'warn',
  ) {}

  spawn(name: string, role: Role['role']): Role {
    const proc = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'start', '--role', role], {
      env: { ...process.env, ...this.env, LOG_LEVEL: this.logLevel, LOG_PRETTY: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = openSync(join(this.logDir, `${name}-${proc.pid}.log`), 'a');
    for (const stream of [proc.stdout, proc.stderr]) stream.on('data', (b: Buffer) => writeSync(log, b));
    const r: Role = { name, role, proc, killedByUs: false };
    proc.once('exit', (code, signal) => {
      if (!r.killedByUs) this.unplannedExits.push({ name, code, signal, at: Date.now() });
    });
    this.all.push(r);
    return r;
  }

  byPid(pid: number): Role | undefined {
    return this.all.find((r) => r.proc.pid === pid && r.proc.exitCode === null && r.proc.signalCode === null);
  }

  /** SIGKILL, then started again under the same name, as a process manager (systemd, k8s) would. */
  crashAndRespawn(r: Role): Role {
    r.killedByUs = true;
    r.proc.kill('SIGKILL');
    return this.spawn(r.name, r.role);
  }

  /**
   * SIGTERM to every live role: a process whose event loop hangs does not shut down. Resolves with
   * the ones that did not exit with code 0 within `timeoutMs` (they are then killed).
   */
  async terminateAll(timeoutMs: number): Promise<Array<{ name: string; pid: number; code: number | null; signal: string | null; exitedInMs: number | null }>> {
    const live = this.all.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null);
    const t0 = Date.now();
    const outcomes = await Promise.all(
      live.map(
        (r) =>
          new Promise<{ name: string; pid: number; code: number | null; signal: string | null; exitedInMs: number | null }>((ok) => {
            r.killedByUs = true;
            const timer = setTimeout(() => ok({ name: r.name, pid: r.proc.pid!, code: null, signal: null, exitedInMs: null }), timeoutMs);
            r.proc.once('exit', (code, signal) => {
              clearTimeout(timer);
              ok({ name: r.name, pid: r.proc.pid!, code, signal, exitedInMs: Date.now() - t0 });
            });
            r.proc.kill('SIGTERM');
          }),
      ),
    );
    return outcomes.filter((o) => o.code !== 0);
  }

  stopAll(): void {
    for (const r of this.all) {
      r.killedByUs = true;
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    }
  }
}

/**
 * Writes scans at `scansPerS` (10 unless told), atomically, numbering on, each with its own values
 * (the same values in a row are frozen content to health); remembers when each was written. With `keepFiles`, the oldest file goes when there are more, as a scanner cleaning up
 * its folder would.
 */
export class Scanner {
  readonly writtenAt = new Map<number, number>();
  private n = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly paths: string[] = [];

  constructor(
    private readonly arrowDir: string,
    private readonly o: { scansPerS?: number; keepFiles?: number; count?: number } = {},
  ) {}

  start(): void {
    const rate = this.o.scansPerS ?? 10;
    const t0 = Date.now();
    const first = this.n;
    // Every scan that is due, so a late timer does not lower the rate.
    this.timer = setInterval(
      () => {
        const due = Math.min(first + Math.floor(((Date.now() - t0) * rate) / 1000), this.o.count ?? Infinity);
        while (this.n < due) this.write();
        if (this.n === this.o.count) this.stop();
      },
      Math.max(10, 1000 / rate),
    );
  }

  private write(): void {
    const at = new Date();
    const n = ++this.n;
    try {
      this.paths.push(writeScanFileSync(this.arrowDir, n, at, encodeScan(makeScan({ scanNumber: n, time: at, assets: 400 }))));
      this.writtenAt.set(n, Date.now());
    } catch (err) {
      say(`scanner could not write scan #${n}: ${(err as Error).message}`);
    }
    if (this.o.keepFiles !== undefined && this.paths.length > this.o.keepFiles) rmSync(this.paths.shift()!, { force: true });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get last(): number {
    return this.n;
  }

  get done(): boolean {
    return this.n === this.o.count;
  }
}

export interface LatestEvent {
  scan: number;
  bridgeId: string;
  at: number;
}

/**
 * Entry listeners on latest_eigen_scan and the health result, for the whole run. Every change
 * of latest is kept, and any change to a lower scan number is counted as moving backwards.
 */
export class Observer {
  readonly latest: LatestEvent[] = [];
  readonly backwards: Array<{ from: number; to: number; at: number }> = [];
  readonly health: Array<{ status: string; cause?: string; message?: string; checkedAt: number; at: number }> = [];
  private max = 0;

  /**
   * Registers both listeners and proves each one hears its key before the run starts. With two
   * members, the client 5.6 sometimes registers a listener on one member only when it is added
   * while the second connection is still being made; the probe catches that, and it registers again.
   */
  static async watch(hz: Hazelcast, config: Config, members: number): Promise<Observer> {
    const o = new Observer();
    const map = await hz.client.getMap<string, string>(config.hzMap);
    const deadline = Date.now() + 60_000;
    while (hz.client.getCluster().getMembers().length < members) {
      if (Date.now() > deadline) throw new Error(`the client never saw ${members} members`);
      await new Promise((r) => setTimeout(r, 100));
    }
    let probes = 0;
    const onLatest = (e: { value: string | null }) => {
      if (!e.value) return;
      const v = JSON.parse(e.value) as { scan_number: number; bridge_id: string };
      if (v.bridge_id === 'probe') return void probes++;
      if (v.scan_number < o.max) o.backwards.push({ from: o.max, to: v.scan_number, at: Date.now() });
      o.max = Math.max(o.max, v.scan_number);
      o.latest.push({ scan: v.scan_number, bridgeId: v.bridge_id, at: Date.now() });
    };
    const onHealth = (e: { value: string | null }) => {
      if (!e.value) return;
      const v = JSON.parse(e.value) as { status: string; cause?: string; message?: string; checkedAt: number };
      if (v.status === 'probe') return void probes++;
      o.health.push({ status: v.status, cause: v.cause, message: v.message, checkedAt: v.checkedAt, at: Date.now() });
    };
    for (let attempt = 1; ; attempt++) {
      const ids = [
        await map.addEntryListener({ added: onLatest, updated: onLatest }, config.hzKey, true),
        await map.addEntryListener({ added: onHealth, updated: onHealth }, config.hzHealthKey, true),
      ];
      probes = 0;
      await map.set(config.hzKey, JSON.stringify({ scan_number: 0, bridge_id: 'probe' }));
      await map.set(config.hzHealthKey, JSON.stringify({ status: 'probe', checkedAt: 0 }));
      const until = Date.now() + 3000;
      while (probes < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await map.delete(config.hzKey);
      await map.delete(config.hzHealthKey);
      if (probes >= 2) return o;
      say(`entry listeners heard ${probes} of 2 probes (attempt ${attempt}): registering again`);
      for (const id of ids) await map.removeEntryListener(id);
      if (attempt === 5) throw new Error('the entry listeners never heard their keys');
    }
  }

  /** The newest push seen, if it came within the last `withinMs`. */
  recent(withinMs: number): LatestEvent | undefined {
    const l = this.latest.at(-1);
    return l && Date.now() - l.at < withinMs ? l : undefined;
  }
}

export interface World {
  env: Record<string, string>;
  config: Config;
  redis: SentinelGroup;
  hazelcast: Awaited<ReturnType<typeof startHazelcastCluster>>;
  hz: Hazelcast;
  roles: Roles;
  scanner: Scanner;
  observer: Observer;
  stop(): Promise<void>;
}

/** Polls `check` until it gives a value or `timeoutMs` passed (then undefined). */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The processes of the chaos run: 2 bridges, 2 workers and a scheduler, each alone. */
const SPLIT_ROLES: Array<[string, Role['role']]> = [
  ['bridge-a', 'bridge'],
  ['bridge-b', 'bridge'],
  ['worker-a', 'worker'],
  ['worker-b', 'worker'],
  ['scheduler', 'scheduler'],
];

export async function startWorld(o: {
  healthIntervalMs: number;
  downAfterMs: number;
  roles?: Array<[string, Role['role']]>;
  /** More settings for the roles. */
  env?: Record<string, string>;
  /** The roles' log level: `warn` unless told. */
  logLevel?: 'warn' | 'info';
  scanner?: ConstructorParameters<typeof Scanner>[1];
  /** Each Hazelcast member's heap (-Xmx): 256m unless told. */
  hzHeap?: string;
}): Promise<World> {
  say('starting Redis (master, replica, 3 sentinels) and 2 Hazelcast members');
  const [redis, hazelcast] = await Promise.all([
    startSentinelGroup({ masterName: 'chaos', downAfterMs: o.downAfterMs, failoverTimeoutMs: 10_000 }),
    startHazelcastCluster(2, { clusterName: 'chaos', heap: o.hzHeap ?? '256m' }),
  ]);
  const env: Record<string, string> = {
    ...redis.env,
    HZ_MEMBERS: hazelcast.address,
    HZ_CLUSTER_NAME: 'chaos',
    ARROW_DIR: mkdtempSync(join(tmpdir(), 'sb-chaos-')),
    QUEUE_PREFIX: 'chaos',
    HEALTH_INTERVAL_MS: String(o.healthIntervalMs),
    ...o.env,
  };
  // As the roles see it: their environment is this process's with `env` on top.
  const config = resolveConfig({ ...process.env, ...env });
  const hz = await createHazelcast(config, createLogger('silent'), { kind: 'service' });
  await hz.waitConnected(30_000);
  const observer = await Observer.watch(hz, config, 2);
  const roles = new Roles(env, o.logLevel);
  for (const [name, role] of o.roles ?? SPLIT_ROLES) roles.spawn(name, role);
  const scanner = new Scanner(config.arrowDir, o.scanner);
  return {
    env,
    config,
    redis,
    hazelcast,
    hz,
    roles,
    scanner,
    observer,
    async stop() {
      scanner.stop();
      roles.stopAll();
      await hz.shutdown();
      await Promise.all([redis.stop(), hazelcast.stop()]);
    },
  };
}

/** The machine a run ran on, and its load average at the start (given) and now. */
export function machine(loadStart: number[]) {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    model: cpu[0]?.model,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg_start: loadStart,
    loadavg_end: loadavg(),
  };
}

/** What every chaos report totals at the end: scans written, the latest value moving backwards, processes that exited or did not stop, the workers left. */
export function endTotals(w: World, notShutDown: Awaited<ReturnType<Roles['terminateAll']>>, workers: Record<string, number | undefined>) {
  return {
    scans_written: w.scanner.writtenAt.size,
    latest_backwards: w.observer.backwards,
    unplanned_exits: w.roles.unplannedExits,
    // At the end every role gets SIGTERM: those that did not exit with 0 within 20 s.
    not_shut_down_by_sigterm: notShutDown,
    workers_at_end: workers,
  };
}
