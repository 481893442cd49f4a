import type { JobsOptions } from 'bullmq';
import type { Config } from '../config.js';

/** Queue names: what people see in Bull Board and what scripts use. */
export const QUEUES = {
  healthCheck: 'health-check',
  restartBridge: 'restart-bridge',
  bridge: 'bridge',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Payload of each job, by job name. */
export interface JobPayloads {
  'health-check': { trigger: 'schedule' | 'manual' };
  'restart-bridge': { reason: string; requestedBy: string };
  bridge: { requestedBy: string };
}
export type JobName = keyof JobPayloads;

/** The one job name each queue carries. */
export const QUEUE_JOB: Record<QueueName, JobName> = {
  [QUEUES.healthCheck]: 'health-check',
  [QUEUES.restartBridge]: 'restart-bridge',
  [QUEUES.bridge]: 'bridge',
};

export interface JobSpec {
  queue: QueueName;
  /** What the job is for, shown as the queue's description in Bull Board. */
  description: string;
  options: (config: Config) => JobsOptions;
}

const DAY_S = 24 * 3600;

/** One table of jobs: name, queue, attempts, backoff, retention, logs. */
export const JOBS: Record<JobName, JobSpec> = {
  'health-check': {
    queue: QUEUES.healthCheck,
    description: 'Checks every HEALTH_INTERVAL_MS that scans in Hazelcast are fresh and the bridge is alive; the result is the return value.',
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: DAY_S, count: 3000 },
      removeOnFail: { age: 7 * DAY_S, count: 1000 },
      keepLogs: 20,
    }),
  },
  'restart-bridge': {
    queue: QUEUES.restartBridge,
    description: 'Restarts the bridge and waits for a new bridge run to confirm; retried with a fixed backoff.',
    options: (c) => ({
      attempts: c.restartAttempts,
      backoff: { type: 'fixed', delay: c.restartBackoffMs },
      // One pending or running restart at most, however often a flapping check asks.
      deduplication: { id: 'restart-bridge' },
      removeOnComplete: { age: 7 * DAY_S, count: 500 },
      removeOnFail: { age: 30 * DAY_S, count: 500 },
      keepLogs: 100,
    }),
  },
  bridge: {
    queue: QUEUES.bridge,
    description: 'The running Arrow → Hazelcast bridge: its log lines are the job log, its live stats its name line, data and progress. One active at a time.',
    options: () => ({
      attempts: 1,
      // A bridge run ends only by failing or being replaced; at most one waits or runs.
      deduplication: { id: 'bridge' },
      removeOnComplete: { count: 20 },
      removeOnFail: { count: 50 },
      keepLogs: 1000,
    }),
  },
};
