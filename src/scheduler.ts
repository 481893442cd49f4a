import type { Queue } from 'bullmq';
import type { RedisConnection } from './connections.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { createRedis } from './connections.js';
import { openJobQueue, type JobQueue } from './jobs/table.js';

export const HEALTH_SCHEDULER_ID = 'health-check-every';

/**
 * Creates or updates the health-check schedule (a BullMQ job scheduler). Idempotent: any number
 * of callers leave one schedule, and its jobs have one id per tick, so one run per tick.
 */
export async function upsertSchedules(queue: JobQueue<'health-check'>, config: Config): Promise<void> {
  // BullMQ types a scheduler's id as a job name; the job's options are the queue's defaults, from the job table.
  const scheduling: Queue = queue;
  await scheduling.upsertJobScheduler(HEALTH_SCHEDULER_ID, { every: config.healthIntervalMs }, { name: 'health-check', data: { trigger: 'schedule' } });
}

export interface Scheduler {
  queue: JobQueue<'health-check'>;
  stop(): Promise<void>;
}

/** How often the scheduler re-asserts the schedule, in case Redis lost it (a restart without persistence). */
const REASSERT_MS = 10_000;

export async function startScheduler(config: Config, log: Logger, connection: RedisConnection = createRedis(config, {}, log)): Promise<Scheduler> {
  const queue = openJobQueue('health-check', connection, config, log);
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
