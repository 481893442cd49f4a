import { WaitingError, type Job } from 'bullmq';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { runBridge, type RunningBridge } from '../bridge/run.js';
import type { BridgeEvent } from '../bridge/bridge.js';
import { JobLock } from './bridge-lock.js';
import type { LockRenewals } from './lease-worker.js';
import { sleep } from '../time.js';

export interface BridgeJobDeps {
  config: Config;
  /** For the bridge's heartbeat and for control keys; BullMQ has its own connections. */
  redis: RedisConnection;
  log: Logger;
  /** Aborted when this process shuts down: the bridge is handed to a standby at once. */
  shutdown: AbortSignal;
  /** Where the worker running this processor tells of each renewal of a job's lock (a LeaseWorker). */
  renewals: Pick<LockRenewals, 'follow' | 'reclaim'>;
}

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
}

/** The bridge job's data: its payload, and the live stats the running bridge adds. */
export interface BridgeJobData {
  requestedBy: string;
  live?: BridgeLiveStats;
}

type Outcome = { kind: 'restart' } | { kind: 'crash'; error: Error } | { kind: 'lost'; why: string } | { kind: 'shutdown' };

/** A run that lived this long or pushed a scan was healthy: crashes after it start a new count. */
const HEALTHY_RUN_MS = 60_000;
const CONTROL_POLL_MS = 250;

/**
 * Runs the bridge for as long as this job is ours: restarts it when asked (restart jobs) or when
 * it crashes (after RESTART_BACKOFF_MS, at most RESTART_ATTEMPTS in a row, then the job fails),
 * and hands it back to the queue on shutdown. The job's lock is followed (bridge-lock.ts): once
 * it is lost (BullMQ could not renew it, which aborts `signal`, or a write found it gone) the
 * bridge writes nothing more and stops, and the job is left to the queue, where this worker or a
 * standby takes it again.
 */
export function bridgeProcessor(deps: BridgeJobDeps) {
  const { config, redis, shutdown } = deps;
  const k = keys(config.queuePrefix);

  // Three parameters: BullMQ hands a processor that takes `signal` an abort signal per job.
  return async (job: Job<BridgeJobData>, token?: string, signal?: AbortSignal): Promise<void> => {
    const log = deps.log.child({ job: job.id });
    const jobLog = (line: string) => void job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined);
    const onEvent = (e: BridgeEvent) => {
      if (e.type === 'line') jobLog(e.message);
    };
    if (!token) throw new Error('the bridge job needs a lock token: run it on a BullMQ worker');
    const lock = new JobLock({
      extend: () => deps.renewals.reclaim(job, token, config.bridgeLockMs),
      lockMs: config.bridgeLockMs,
      // If Redis loses the job (restarted empty), the renewal writes it back from this copy: its
      // data as last updated here, so the live stats of a heartbeat ago at most.
      follow: (renewed) => deps.renewals.follow(job, renewed),
      say: (level, message) => {
        log[level](message);
        jobLog(message);
      },
    });
    const onSignal = () => lock.lose(`the bridge lock could not be renewed (${String(signal?.reason ?? 'aborted')})`);
    signal?.addEventListener('abort', onSignal, { once: true });
    try {
      // A job taken with a lock that already lapsed is not run. Redis gone quiet meanwhile: start
      // anyway (a Redis outage must not stop the data), and the answer decides when it comes.
      await Promise.race([lock.confirm(), sleep(config.bridgeLockMs / 4)]);
      if (!lock.lost) jobLog(`bridge job taken by ${process.pid}`);
      await runWhileLocked();
    } finally {
      signal?.removeEventListener('abort', onSignal);
      lock.close();
    }

    async function runWhileLocked(): Promise<void> {
      let crashes = 0;
      for (;;) {
        if (lock.lost) throw new WaitingError();
        const startedAt = Date.now();
        let run: RunningBridge | undefined;
        let outcome: Outcome;
        try {
          run = await runBridge(config, redis, log, { onEvent, writeGate: lock.gate });
          outcome = await watch(run);
        } catch (err) {
          outcome = lock.lost ? { kind: 'lost', why: lock.lost } : { kind: 'crash', error: coerceError(err) };
        }
        const pushed = run?.bridge.stats().pushed ?? 0;
        await run?.stop({ keepHeartbeat: outcome.kind === 'lost' }).catch((err: unknown) => log.warn(`stopping the bridge: ${coerceError(err).message}`));
        switch (outcome.kind) {
          case 'shutdown':
            jobLog('process shutting down: handing the bridge to a standby');
            log.info('shutting down: handing the bridge to a standby');
            if (token) await job.moveToWait(token);
            throw new WaitingError();
          case 'lost':
            jobLog(`stopped: ${outcome.why}`);
            // The job is not ours to finish: it stays where the queue has it, and is taken again from there.
            throw new WaitingError();
          case 'restart':
            // The restart job that asked counts this restart once it is confirmed.
            crashes = 0;
            jobLog('restart requested: starting a new bridge run');
            continue;
          case 'crash': {
            if (pushed > 0 || Date.now() - startedAt > HEALTHY_RUN_MS) crashes = 0;
            crashes++;
            if (crashes > config.restartAttempts) {
              const msg = `bridge crashed ${crashes} times in a row (last: ${outcome.error.message}): giving up`;
              jobLog(msg);
              log.error(msg);
              await redis.set(k.gaveUp, JSON.stringify({ at: Date.now(), error: outcome.error.message })).catch(() => undefined);
              throw new Error(msg);
            }
            const msg = `bridge crashed: ${outcome.error.message}; restarting in ${config.restartBackoffMs} ms (${crashes}/${config.restartAttempts})`;
            jobLog(msg);
            log.error(msg);
            await sleep(config.restartBackoffMs, shutdown);
            if (shutdown.aborted) {
              if (token) await job.moveToWait(token);
              throw new WaitingError();
            }
            await redis.incr(k.restarts).catch(() => undefined);
            continue;
          }
        }
      }
    }

    /** Waits for whatever ends this run, publishing live stats as the job's progress meanwhile. */
    function watch(run: RunningBridge): Promise<Outcome> {
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
        unfollowLock = lock.onLost((why) => finish({ kind: 'lost', why }));
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
          const live: BridgeLiveStats = {
            pushed: s.pushed,
            lastScan: s.lastPushedScan,
            newestOnDisk: s.newestSeenOnDisk,
            lagMs: s.lastPushedAt === null ? null : now - s.lastPushedAt,
            rejected: s.rejected,
            generation: run.facts.currentGeneration,
            hazelcastConnected: s.hazelcastConnected,
            uptimeS: Math.round((now - s.startedAt) / 1000),
            updatedAt: now,
          };
          void job.updateProgress(live).catch(() => undefined);
          // Also in the data: Bull Board opens a job on its Data tab, so that is where people look.
          void job.updateData({ requestedBy: job.data.requestedBy, live } satisfies BridgeJobData).catch(() => undefined);
        }, config.bridgeHeartbeatMs);
      });
    }
  };
}
