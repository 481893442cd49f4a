import { Queue } from 'bullmq';
import type { RedisConnection } from './connections.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { createRedis } from './connections.js';
import { JOBS, QUEUES } from './jobs/table.js';

export const HEALTH_SCHEDULER_ID = 'health-check-every';

/**
 * Creates or updates the health-check schedule (a BullMQ job scheduler). Idempotent: any number
 * of callers leave one schedule, and its jobs have one id per tick, so one run per tick.
 */
export async function upsertSchedules(queue: Queue, config: Config): Promise<void> {
  await queue.upsertJobScheduler(
    HEALTH_SCHEDULER_ID,
    { every: config.healthIntervalMs },
    { name: 'health-check', data: { trigger: 'schedule' }, opts: JOBS['health-check'].options(config) },
  );
}

export interface Scheduler {
  queue: Queue;
  stop(): Promise<void>;
}

/** How often the scheduler re-asserts the schedule, in case Redis lost it (a restart without persistence). */
const REASSERT_MS = 10_000;

export async function startScheduler(config: Config, log: Logger, connection: RedisConnection = createRedis(config)): Promise<Scheduler> {
  const queue = new Queue(QUEUES.healthCheck, { connection, prefix: config.queuePrefix });
  queue.on('error', () => undefined);
  let failing = false;
  const assert = async () => {
    try {
      await upsertSchedules(queue, config);
      if (failing) log.info('health-check schedule re-asserted after a Redis outage');
      failing = false;
    } catch (err) {
      if (!failing) log.warn(`cannot write the health-check schedule: ${coerceError(err).message}; retrying`);
      failing = true;
    }
  };
  await assert();
  // After Redis comes back (maybe empty), put the schedule back at once.
  const onReady = () => void assert();
  connection.on('ready', onReady);
  const timer = setInterval(() => void assert(), REASSERT_MS);
  log.info(`scheduler: health-check every ${config.healthIntervalMs} ms`);
  return {
    queue,
    async stop() {
      clearInterval(timer);
      connection.off('ready', onReady);
      await queue.close();
    },
  };
}
