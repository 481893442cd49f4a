import type { Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { isConnectionError } from '../reachability.js';
import { createRedis } from '../connections.js';
import { keys } from '../keys.js';
import { JOBS, openJobQueue, type JobQueue } from '../jobs/table.js';
import { LeaseWorker, LockRenewals } from '../jobs/lease-worker.js';
import { ensureBridgeJob } from '../jobs/restart-bridge.js';
import { sleep } from '../time.js';

export interface BridgeWorker {
  worker: Worker;
  queue: JobQueue<'bridge'>;
  /** Hands the bridge to a standby (if this process runs it) and closes. */
  stop(): Promise<void>;
}

/**
 * How often a bridge worker makes sure a bridge job exists (unless a worker gave up on it). Not
 * shorter: after Redis restarted empty, the running bridge finds its lock gone at its next renewal
 * and writes its job back (lease-worker.ts), or adds a new one if it cannot; a standby adding one
 * first makes the running bridge stop, and would write beside it until then (compare-and-set
 * keeps the order, but two writers is what the lock is for).
 */
const KEEPER_MS = 5000;

/**
 * The bridge job's lock timings. A dead holder loses the bridge after `lockDuration` plus at most
 * two stalled checks: fast failover. Renewals come often and stalled checks seldom, so the job is
 * rarely in the stalled set when Redis fails over: a stalled check queued during the outage then
 * finds nothing to move, and the holder takes its lapsed lock back (lease-worker.ts) before the
 * next one.
 */
export function bridgeLockTimings(config: Pick<Config, 'bridgeLockMs'>) {
  return {
    lockDuration: config.bridgeLockMs,
    lockRenewTime: Math.max(50, Math.floor(config.bridgeLockMs / 50)),
    stalledInterval: Math.max(250, Math.floor(config.bridgeLockMs / 10)),
  };
}

/**
 * A bridge worker: competes for the single `bridge` job; the one that gets it runs the bridge,
 * the others stand by, blocked on the queue, and take over when its lock lapses.
 */
export async function startBridgeWorker(config: Config, log: Logger): Promise<BridgeWorker> {
  const connection = createRedis(config, {}, log);
  const control = createRedis(config, {}, log);
  const queue = openJobQueue('bridge', connection, config, log);
  const shutdown = new AbortController();
  const renewals = new LockRenewals();
  const processor = JOBS.bridge.handler({ config, redis: control, log, shutdown: shutdown.signal, renewals });
  const worker = new LeaseWorker(renewals, control, JOBS.bridge.queue, processor, {
    connection: createRedis(config, {}, log),
    prefix: config.queuePrefix,
    concurrency: 1,
    ...bridgeLockTimings(config),
    // The bridge job stalls at every failover by design; it must never fail for it.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    autorun: false,
  });
  // A connection error while Redis is away is told once per outage (reachability.ts).
  worker.on('error', (err) => log[isConnectionError(err) ? 'debug' : 'warn'](`bridge worker: ${coerceError(err).message}`));
  worker.on('stalled', (jobId) =>
    log.warn(`bridge job ${jobId} stalled (its holder stopped renewing its lock): moved back to waiting, for the first bridge worker free to take it`),
  );
  worker.on('failed', (job, err) => log.error(`bridge job ${job?.id} failed: ${err.message}`));
  const none = async () => Object.values(await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized')).every((n) => n === 0);
  /**
   * `holdBackMs`: a queue found empty is looked at again this much later before a job is added.
   * After Redis restarted empty, a bridge running in another process writes its job back at its
   * next renewal (every BRIDGE_LOCK_MS/50); this worker's check, queued through the outage, may
   * come first, and a job added then would stop that run.
   */
  const keep = async (holdBackMs = 0) => {
    // This worker runs the bridge: if Redis lost its job, the next renewal writes it back (lease-worker.ts),
    // and if it cannot, the job is lost and no longer held. A job added meanwhile would stop the run instead.
    if (renewals.holding()) return;
    try {
      if (await control.exists(keys(config.queuePrefix).gaveUp)) return;
      if (!(await none())) return;
      if (holdBackMs > 0) await sleep(holdBackMs, shutdown.signal);
      if (!shutdown.signal.aborted && (await none()) && !renewals.holding()) {
        await ensureBridgeJob(queue, `bridge worker ${process.pid}`);
        log.info('no bridge job waiting or running: added one');
      }
    } catch {
      /* Redis down: try again next time */
    }
  };
  // Another worker holds the lock now, or it lapsed: the running bridge stops writing and ends (jobs/bridge-job.ts).
  // If the job is gone with it (Redis restarted empty, and it could not be written back), one is added at once rather than at the next keeper tick.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) worker.cancelJob(id, 'another worker holds it now, or it lapsed');
    setTimeout(() => void keep(), 100).unref();
  });

  await keep();
  const keeper = setInterval(() => void keep(Math.floor(config.bridgeLockMs / 5)), KEEPER_MS);
  void worker.run().catch((err: unknown) => log.error(`bridge worker stopped: ${coerceError(err).message}`));
  await worker.waitUntilReady();
  log.info(`bridge worker ${process.pid} ready (lock ${config.bridgeLockMs} ms)`);
  return {
    worker,
    queue,
    async stop() {
      clearInterval(keeper);
      shutdown.abort();
      await worker.close();
      await queue.close();
      control.disconnect();
      connection.disconnect();
    },
  };
}
