/**
 * A tenure: this process runs the bridge for as long as it holds the bridge lease
 * (bridge-lease.ts). It restarts the bridge when asked (restart jobs: each new run takes a new
 * generation) or when it crashes (after RESTART_BACKOFF_MS, at most RESTART_ATTEMPTS in a row,
 * then it gives up). Once the lease is lost (a renewal or a write found it gone) the bridge writes
 * nothing more and stops. A tenure belongs to the process, not to a BullMQ job: the job that
 * shows it on the board (its log, data and progress) may come and go (its lock lapsed during a
 * Redis failover, Redis lost it) while the bridge goes on; the next job taken here shows it again.
 */
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { runBridge, type RunningBridge } from '../bridge/run.js';
import type { BridgeEvent } from '../bridge/bridge.js';
import { latestContent } from '../content/window.js';
import { sleep } from '../time.js';
import { JobLock } from './bridge-lock.js';
import { bridgeTimings, type BridgeLease, type LeaseValue } from './bridge-lease.js';

/** What the running bridge publishes about itself, as the job's progress and in its data. */
export interface BridgeLiveStats {
  pushed: number;
  lastScan: number | null;
  newestOnDisk: number | null;
  /** Since the last push. */
  lagMs: number | null;
  rejected: number;
  generation: number;
  hazelcastConnected: boolean;
  uptimeS: number;
  updatedAt: number;
  /** The content facts of the last scan pushed (content/window.ts). */
  content: ReturnType<typeof latestContent>;
}

/** The BullMQ job showing the tenure, while one does. */
export interface JobSink {
  log(line: string): void;
  publish(live: BridgeLiveStats): void;
}

export type TenureEnd = { kind: 'lost'; why: string } | { kind: 'shutdown' } | { kind: 'gave-up'; message: string };

export interface TenureDeps {
  config: Config;
  /** For the heartbeat, the lease and control keys; BullMQ has its own connections. */
  redis: RedisConnection;
  log: Logger;
  /** Aborted when this process shuts down: the lease is given up at once, for a standby. */
  shutdown: AbortSignal;
}

type Outcome = { kind: 'restart' } | { kind: 'crash'; error: Error } | { kind: 'lost'; why: string } | { kind: 'shutdown' };

/** A run that lived this long or pushed a scan was healthy: crashes after it start a new count. */
const HEALTHY_RUN_MS = 60_000;
const CONTROL_POLL_MS = 250;

export class BridgeTenure {
  readonly ended: Promise<TenureEnd>;
  private sink: JobSink | undefined;
  private readonly lock: JobLock;
  private generation: number;
  /** The bridge run going on, if any. */
  private run: RunningBridge | undefined;

  /** Starts the tenure of a lease just taken (`takenAt`: performance.now() when the call that took it was sent). */
  constructor(
    private readonly deps: TenureDeps,
    private readonly lease: BridgeLease,
    taken: LeaseValue,
    takenAt: number,
  ) {
    this.generation = taken.generation;
    const { config, log } = deps;
    this.lock = new JobLock({
      extend: async () => {
        const answer = await lease.renew();
        // Set back (Redis lost it, or it lapsed): the heartbeat at once too, so a health check
        // never finds the generation counter set back without a heartbeat beside it.
        if (answer >= 2) void this.run?.facts.beat();
        return answer;
      },
      lockMs: config.bridgeLockMs,
      renewEveryMs: bridgeTimings(config.bridgeLockMs).leaseRenewMs,
      heldSince: takenAt,
      say: (level, message) => {
        log[level](message);
        this.sink?.log(message);
      },
    });
    this.ended = this.runWhileHeld().finally(() => this.lock.close());
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** Shows the tenure in `sink` (a job's log and data) until the returned detach is called. */
  attach(sink: JobSink): () => void {
    this.sink = sink;
    return () => {
      if (this.sink === sink) this.sink = undefined;
    };
  }

  private say(level: 'info' | 'error', line: string): void {
    this.deps.log[level](line);
    this.sink?.log(line);
  }

  private async runWhileHeld(): Promise<TenureEnd> {
    const { config, redis, log, shutdown } = this.deps;
    const k = keys(config.queuePrefix);
    let crashes = 0;
    for (;;) {
      if (this.lock.lost) return { kind: 'lost', why: this.lock.lost };
      const startedAt = Date.now();
      let run: RunningBridge | undefined;
      let outcome: Outcome;
      try {
        const onEvent = (e: BridgeEvent) => {
          if (e.type === 'line') this.sink?.log(e.message);
        };
        run = this.run = await runBridge(config, redis, log, { onEvent, writeGate: this.lock.gate, generation: this.generation });
        outcome = await this.watch(run);
      } catch (err) {
        outcome = this.lock.lost ? { kind: 'lost', why: this.lock.lost } : { kind: 'crash', error: coerceError(err) };
      }
      this.run = undefined;
      const pushed = run?.bridge.stats().pushed ?? 0;
      await run?.stop({ keepHeartbeat: outcome.kind === 'lost' }).catch((err: unknown) => log.warn(`stopping the bridge: ${coerceError(err).message}`));
      switch (outcome.kind) {
        case 'shutdown':
          this.say('info', 'process shutting down: the bridge lease is given up, handing the bridge to a standby at once');
          await this.lease.release().catch(() => undefined);
          return { kind: 'shutdown' };
        case 'lost':
          this.sink?.log(`stopped: ${outcome.why}`);
          return { kind: 'lost', why: outcome.why };
        case 'restart':
          // The restart job that asked counts this restart once it is confirmed.
          crashes = 0;
          await this.nextGeneration();
          this.sink?.log(`restart requested: starting a new bridge run, generation ${this.generation}`);
          continue;
        case 'crash': {
          if (pushed > 0 || Date.now() - startedAt > HEALTHY_RUN_MS) crashes = 0;
          crashes++;
          if (crashes > config.restartAttempts) {
            const message = `bridge crashed ${crashes} times in a row (last: ${outcome.error.message}): giving up`;
            this.say('error', message);
            await redis.set(k.gaveUp, JSON.stringify({ at: Date.now(), error: outcome.error.message })).catch(() => undefined);
            await this.lease.release().catch(() => undefined);
            return { kind: 'gave-up', message };
          }
          this.say('error', `bridge crashed: ${outcome.error.message}; restarting in ${config.restartBackoffMs} ms (${crashes}/${config.restartAttempts})`);
          await sleep(config.restartBackoffMs, shutdown);
          if (shutdown.aborted) {
            await this.lease.release().catch(() => undefined);
            return { kind: 'shutdown' };
          }
          await redis.incr(k.restarts).catch(() => undefined);
          await this.nextGeneration();
          continue;
        }
      }
    }
  }

  /**
   * A new run takes a new generation under the lease it holds. Another process holding the lease
   * now loses it here; Redis not answering keeps the generation (a crash restart during an
   * outage: the bridge must go on).
   */
  private async nextGeneration(): Promise<void> {
    try {
      const r = await this.lease.acquire();
      if ('taken' in r) this.generation = r.taken.generation;
      else this.lock.lose(`pid ${r.heldBy.pid} on ${r.heldBy.host} holds the bridge lease now, as generation ${r.heldBy.generation}`);
    } catch {
      /* Redis down: the next run keeps this generation */
    }
  }

  /** Waits for whatever ends this run, publishing live stats to the job showing it meanwhile. */
  private watch(run: RunningBridge): Promise<Outcome> {
    const { config, redis, shutdown } = this.deps;
    const k = keys(config.queuePrefix);
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearInterval(progress);
        shutdown.removeEventListener('abort', onAbort);
        unfollowLock();
        resolve(o);
      };
      const onAbort = () => finish({ kind: 'shutdown' });
      let unfollowLock = () => undefined as void;
      if (shutdown.aborted) return finish({ kind: 'shutdown' });
      shutdown.addEventListener('abort', onAbort, { once: true });
      unfollowLock = this.lock.onLost((why) => finish({ kind: 'lost', why }));
      void run.bridge.failure.then((error) => finish({ kind: 'crash', error }));
      const poll = setInterval(() => {
        void (async () => {
          try {
            const request = await redis.get(k.restartRequest);
            const gen = run.facts.currentGeneration;
            if (request !== null && gen > 0 && Number(request) >= gen) finish({ kind: 'restart' });
          } catch {
            /* Redis down: keep the bridge running, scans still flow into Hazelcast */
          }
        })();
      }, CONTROL_POLL_MS);
      const progress = setInterval(() => {
        const s = run.bridge.stats();
        const now = Date.now();
        this.sink?.publish({
          pushed: s.pushed,
          lastScan: s.lastPushedScan,
          newestOnDisk: s.newestSeenOnDisk,
          lagMs: s.lastPushedAt === null ? null : now - s.lastPushedAt,
          rejected: s.rejected,
          generation: run.facts.currentGeneration,
          hazelcastConnected: s.hazelcastConnected,
          uptimeS: Math.round((now - s.startedAt) / 1000),
          updatedAt: now,
          content: latestContent(s.content),
        });
      }, config.bridgeHeartbeatMs);
    });
  }
}
