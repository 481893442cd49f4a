import { hostname } from 'node:os';
import { WaitingError, type Job } from 'bullmq';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { bridgeTimings, type BridgeLease, type LeaseValue } from './bridge-lease.js';
import { BridgeTenure, type BridgeLiveStats, type JobSink } from './bridge-tenure.js';

export type { BridgeLiveStats } from './bridge-tenure.js';

/** The process's side of the bridge: its lease, and the tenure it runs while it holds it. One per bridge worker. */
export interface BridgeHolder {
  lease: BridgeLease;
  tenure: BridgeTenure | undefined;
}

export interface BridgeJobDeps {
  config: Config;
  /** For the bridge's heartbeat, the lease and control keys; BullMQ has its own connections. */
  redis: RedisConnection;
  log: Logger;
  /** Aborted when this process shuts down: the bridge is handed to a standby at once. */
  shutdown: AbortSignal;
  holder: BridgeHolder;
}

/** Who holds the lease while the worker that has the job stands by: what the board shows instead of live stats. */
export interface LeaseHeldBy {
  pid: number;
  host: string;
  generation: number;
  /** The process holding the job and standing by. */
  standby: { pid: number; host: string };
  since: number;
}

/** The bridge job's data: its payload, and what the worker running it adds (live stats, or who holds the lease). */
export interface BridgeJobData {
  requestedBy: string;
  live?: BridgeLiveStats;
  leaseHeldBy?: LeaseHeldBy;
}

/**
 * The bridge job: the visible, restartable unit on the board. What may run the bridge is the
 * lease (bridge-lease.ts), not the job's lock. The worker that takes the job:
 *
 * - runs the bridge if this process holds the lease already (a tenure whose job went back to
 *   the queue): the job shows it again;
 * - else stands by until the lease is free, telling in the job's log and data who holds it and
 *   runs the bridge, then takes it (the next generation) and runs the bridge (bridge-tenure.ts).
 *
 * If the job's lock is lost (BullMQ could not renew it: `signal` aborts) the job is not this
 * worker's any more: the processor leaves it, but a tenure goes on as long as its lease is ours.
 * If the lease is lost while the job is still ours, the worker stands by again. On shutdown the
 * lease is given up and the job handed back to the queue, for a standby to take at once.
 */
export function bridgeProcessor(deps: BridgeJobDeps) {
  const { config, holder, shutdown } = deps;

  // Three parameters: BullMQ hands a processor that takes `signal` an abort signal per job.
  return async (job: Job<BridgeJobData>, token?: string, signal?: AbortSignal): Promise<void> => {
    if (!token) throw new Error('the bridge job needs a lock token: run it on a BullMQ worker');
    const log = deps.log.child({ job: job.id });
    const jobLost = signal ?? new AbortController().signal;
    const requestedBy = job.data.requestedBy;
    // Nothing is written to a job that is not ours any more: another worker shows it now.
    const sink: JobSink = {
      log: (line) => {
        if (!jobLost.aborted) void job.log(`${new Date().toISOString()} ${line}`).catch(() => undefined);
      },
      publish: (live) => {
        if (jobLost.aborted) return;
        void job.updateProgress(live).catch(() => undefined);
        // Also in the data: Bull Board opens a job on its Data tab, so that is where people look.
        void job.updateData({ requestedBy, live } satisfies BridgeJobData).catch(() => undefined);
      },
    };
    const handBack = async () => {
      sink.log('process shutting down: handing the bridge job back to the queue');
      if (!jobLost.aborted) await job.moveToWait(token).catch(() => undefined);
      throw new WaitingError();
    };

    for (;;) {
      let tenure = holder.tenure;
      if (tenure) sink.log(`this process (pid ${process.pid}) runs the bridge already, as generation ${tenure.currentGeneration}: this job shows it again`);
      else {
        const taken = await standBy(job, sink, jobLost, log);
        if (!taken) {
          if (shutdown.aborted) return handBack();
          throw new WaitingError();
        }
        tenure = holder.tenure = new BridgeTenure(deps, holder.lease, taken, holder.lease.takenAt);
        const t = tenure;
        void t.ended.then(() => {
          if (holder.tenure === t) holder.tenure = undefined;
        });
        await job.updateData({ requestedBy } satisfies BridgeJobData).catch(() => undefined);
        sink.log(`bridge lease taken by pid ${process.pid} as generation ${taken.generation}: running the bridge`);
      }
      const detach = tenure.attach(sink);
      const end = await Promise.race([tenure.ended, aborted(jobLost)]);
      detach();
      if (end === 'job-lost') {
        log.warn(
          `the bridge job's lock could not be renewed (Redis slow, failing over or restarted empty): the job is back in the queue, another worker's, or gone. This process still holds the bridge lease and runs the bridge as generation ${tenure.currentGeneration}; the next bridge job taken here shows it again`,
        );
        throw new WaitingError();
      }
      switch (end.kind) {
        case 'shutdown':
          return handBack();
        case 'gave-up':
          throw new Error(end.message);
        case 'lost':
          // Stand by again only with a job that is still ours: a process frozen past the lease
          // finds both the lease and the job another's, and BullMQ may not have said so yet.
          if (jobLost.aborted || (await job.extendLock(token, config.bridgeLockMs).catch(() => 0)) !== 1) throw new WaitingError();
          continue;
      }
    }
  };

  /** Stands by with the job until the lease is free and taken; undefined if the job or the process went first. */
  function standBy(job: Job<BridgeJobData>, sink: JobSink, jobLost: AbortSignal, log: Logger): Promise<LeaseValue | undefined> {
    const standby = { pid: process.pid, host: hostname() };
    const stop = AbortSignal.any([jobLost, shutdown]);
    return holder.lease.standBy(bridgeTimings(config.bridgeLockMs).standbyLookMs, stop, (v) => {
      const line = `pid ${v.pid} on ${v.host}, generation ${v.generation}, holds the bridge lease and runs the bridge: this worker (pid ${process.pid}) stands by with the job and takes the lease when it lapses`;
      log.info(line);
      sink.log(line);
      if (jobLost.aborted) return;
      const leaseHeldBy: LeaseHeldBy = { pid: v.pid, host: v.host, generation: v.generation, standby, since: Date.now() };
      void job.updateData({ requestedBy: job.data.requestedBy, leaseHeldBy } satisfies BridgeJobData).catch(() => undefined);
      void job.updateProgress({ leaseHeldBy }).catch(() => undefined);
    });
  }
}

/** Resolves with 'job-lost' once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<'job-lost'> {
  return new Promise((ok) => {
    if (signal.aborted) return ok('job-lost');
    signal.addEventListener('abort', () => ok('job-lost'), { once: true });
  });
}
