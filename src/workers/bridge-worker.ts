import { Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { isConnectionError } from '../reachability.js';
import { createRedis } from '../connections.js';
import { keys } from '../keys.js';
import { JOBS, openJobQueue, type JobQueue } from '../jobs/table.js';
import { BridgeLease, bridgeTimings } from '../jobs/bridge-lease.js';
import type { BridgeHolder } from '../jobs/bridge-job.js';
import { ensureBridgeJob } from '../jobs/restart-bridge.js';

export interface BridgeWorker {
  worker: Worker;
  queue: JobQueue<'bridge'>;
  /** Hands the bridge to a standby (if this process runs it) and closes. */
  stop(): Promise<void>;
}

/**
 * How often a bridge worker makes sure a bridge job exists (unless a worker gave up on it). A job
 * added while this or another process runs the bridge (Redis lost the job) is harmless: the
 * worker that takes it shows the running bridge, or stands by and says who runs it.
 */
const KEEPER_MS = 5000;

/**
 * The BullMQ lock timings of the bridge job (bridge-lease.ts bridgeTimings: the arithmetic). The
 * job lock only keeps the job on a worker, so it is renewed every BRIDGE_LOCK_MS/2 (BullMQ's own
 * ratio) and checked for stalls every BRIDGE_LOCK_MS/4; what may run the bridge is the lease.
 */
export function bridgeLockTimings(config: Pick<Config, 'bridgeLockMs'>) {
  const t = bridgeTimings(config.bridgeLockMs);
  return { lockDuration: t.lockMs, lockRenewTime: t.jobLockRenewMs, stalledInterval: t.stalledIntervalMs };
}

/**
 * A bridge worker: competes for the single `bridge` job. The one that gets it takes the lease
 * and runs the bridge, or stands by until the lease is free (bridge-job.ts); the other workers
 * wait on the queue.
 */
export async function startBridgeWorker(config: Config, log: Logger): Promise<BridgeWorker> {
  const connection = createRedis(config, {}, log);
  const control = createRedis(config, {}, log);
  const queue = openJobQueue('bridge', connection, config, log);
  const shutdown = new AbortController();
  const holder: BridgeHolder = { lease: new BridgeLease(control, config.queuePrefix, config.bridgeLockMs), tenure: undefined };
  const processor = JOBS.bridge.handler({ config, redis: control, log, shutdown: shutdown.signal, holder });
  const worker = new Worker(JOBS.bridge.queue, processor, {
    connection: createRedis(config, {}, log),
    prefix: config.queuePrefix,
    concurrency: 1,
    ...bridgeLockTimings(config),
    // The bridge job stalls at every long failover by design; it must never fail for it.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    autorun: false,
  });
  // A connection error while Redis is away is told once per outage (reachability.ts).
  worker.on('error', (err) => log[isConnectionError(err) ? 'debug' : 'warn'](`bridge worker: ${coerceError(err).message}`));
  worker.on('stalled', (jobId) =>
    log.warn(`bridge job ${jobId} stalled (its worker stopped renewing its lock): moved back to waiting, for the first bridge worker free to take it`),
  );
  worker.on('failed', (job, err) => log.error(`bridge job ${job?.id} failed: ${err.message}`));
  const none = async () => Object.values(await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized')).every((n) => n === 0);
  const keep = async () => {
    try {
      if (await control.exists(keys(config.queuePrefix).gaveUp)) return;
      if (shutdown.signal.aborted || !(await none())) return;
      await ensureBridgeJob(queue, `bridge worker ${process.pid}`);
      log.info('no bridge job waiting or running: added one');
    } catch {
      /* Redis down: try again next time */
    }
  };
  // The job is another worker's now, or gone (Redis lost it): the processor leaves it (a tenure
  // goes on while its lease holds). If the job is gone, one is added at once rather than at the next keeper tick.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) worker.cancelJob(id, 'its lock lapsed: another worker may hold the job now');
    setTimeout(() => void keep(), 100).unref();
  });

  await keep();
  const keeper = setInterval(() => void keep(), KEEPER_MS);
  void worker.run().catch((err: unknown) => log.error(`bridge worker stopped: ${coerceError(err).message}`));
  await worker.waitUntilReady();
  log.info(`bridge worker ${process.pid} ready (lease ${config.bridgeLockMs} ms)`);
  return {
    worker,
    queue,
    async stop() {
      clearInterval(keeper);
      shutdown.abort();
      // A tenure that no job shows ends here too: the lease is given up for a standby.
      await holder.tenure?.ended;
      await worker.close();
      await queue.close();
      control.disconnect();
      connection.disconnect();
    },
  };
}
