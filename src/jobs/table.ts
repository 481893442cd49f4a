import { Queue, type ConnectionOptions, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { healthCheckProcessor, type HealthCheckDeps, type HealthCheckPayload, type HealthCheckResult } from './health-check.js';
import { restartProcessor, type RestartDeps, type RestartPayload, type RestartResult } from './restart-bridge.js';
import { bridgeProcessor, type BridgeJobData, type BridgeJobDeps } from './bridge-job.js';

/** One field of a payload, as data: the board's payload check and its add-job form both come from it. */
export type Field = { kind: 'enum'; values: readonly string[] } | { kind: 'text'; maxLength: number };

const TEXT = { kind: 'text', maxLength: 200 } as const;

/** Keys of `T` that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** The payload: the data's required fields (optional ones are what a running job adds, like the bridge's live stats). */
export type PayloadOf<Data> = Pick<Data, RequiredKeys<Data>>;

/** Everything about one job. Its queue carries this job only, under the job's name. */
export interface JobSpec<Data, Result, Name extends string, Deps> {
  queue: Name;
  /** The queue's name in Bull Board. */
  displayName: string;
  /** What the job is for, shown as the queue's description in Bull Board. */
  description: string;
  /** The payload's fields, checked on every add and edit from Bull Board. */
  payload: { [K in RequiredKeys<Data>]: Field };
  /** Attempts, backoff, retention, logs: every add to the queue uses them (the queue's default job options). */
  options: (config: Config) => JobsOptions;
  /** The payload of a job added by hand (`scan-bridge trigger`, `POST /api/jobs/<name>`); absent: not triggered by hand. */
  trigger?: (by: string) => PayloadOf<Data>;
  handler: (deps: Deps) => Processor<Data, Result, Name>;
  /** The job's own worker settings (concurrency, lock). */
  worker?: (config: Config) => Omit<WorkerOptions, 'connection' | 'prefix'>;
}

const DAY_S = 24 * 3600;

/** The one table of jobs. Adding a job is one entry here (and its handler's module). */
export const JOBS = {
  'health-check': {
    queue: 'health-check',
    displayName: 'Health checks',
    description: 'Checks every HEALTH_INTERVAL_MS that scans in Hazelcast are fresh and the bridge is alive; the result is the return value.',
    payload: { trigger: { kind: 'enum', values: ['schedule', 'manual'] } },
    options: () => ({
      attempts: 1,
      removeOnComplete: { age: DAY_S, count: 3000 },
      removeOnFail: { age: 7 * DAY_S, count: 1000 },
      keepLogs: 20,
    }),
    trigger: () => ({ trigger: 'manual' }),
    handler: healthCheckProcessor,
    worker: () => ({ concurrency: 1 }),
  } satisfies JobSpec<HealthCheckPayload, HealthCheckResult, 'health-check', HealthCheckDeps>,
  'restart-bridge': {
    queue: 'restart-bridge',
    displayName: 'Bridge restarts',
    description: 'Restarts the bridge and waits for a new bridge run to confirm; retried with a fixed backoff.',
    payload: { reason: TEXT, requestedBy: TEXT },
    options: (c) => ({
      attempts: c.restartAttempts,
      backoff: { type: 'fixed', delay: c.restartBackoffMs },
      // One pending or running restart at most, however often a flapping check asks.
      deduplication: { id: 'restart-bridge' },
      removeOnComplete: { age: 7 * DAY_S, count: 500 },
      removeOnFail: { age: 30 * DAY_S, count: 500 },
      keepLogs: 100,
    }),
    trigger: (by) => ({ reason: 'by hand', requestedBy: by }),
    handler: restartProcessor,
    // An attempt waits up to RESTART_CONFIRM_MS: keep its lock comfortably longer.
    worker: (c) => ({ concurrency: 1, lockDuration: Math.max(30_000, c.restartConfirmMs * 2) }),
  } satisfies JobSpec<RestartPayload, RestartResult, 'restart-bridge', RestartDeps>,
  bridge: {
    queue: 'bridge',
    displayName: 'Bridge (live log and stats)',
    description: 'The running Arrow → Hazelcast bridge: its log lines are the job log, its live stats its name line, data and progress. One active at a time.',
    payload: { requestedBy: TEXT },
    options: () => ({
      attempts: 1,
      // A bridge run ends only by failing or being replaced; at most one waits or runs.
      deduplication: { id: 'bridge' },
      removeOnComplete: { count: 20 },
      removeOnFail: { count: 50 },
      keepLogs: 1000,
    }),
    handler: bridgeProcessor,
  } satisfies JobSpec<BridgeJobData, void, 'bridge', BridgeJobDeps>,
};

type Jobs = typeof JOBS;
export type JobName = keyof Jobs;
type JobOf<N extends JobName> = Parameters<ReturnType<Jobs[N]['handler']>>[0];
export type JobData<N extends JobName> = JobOf<N>['data'];
export type JobResult<N extends JobName> = Awaited<ReturnType<ReturnType<Jobs[N]['handler']>>>;
export type JobPayloads = { [N in JobName]: PayloadOf<JobData<N>> };
/** A queue typed by its job: `add` takes only the job's name and data. */
export type JobQueue<N extends JobName> = Queue<JobData<N>, JobResult<N>, N>;
export type JobQueues = { [N in JobName]: JobQueue<N> };
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

/** Short names of the queues. */
export const QUEUES = { healthCheck: JOBS['health-check'].queue, restartBridge: JOBS['restart-bridge'].queue, bridge: JOBS.bridge.queue } as const;
export type QueueName = JobName;

/** The jobs that may be added by hand. */
export type TriggerName = { [N in JobName]: Jobs[N] extends { trigger: (by: string) => unknown } ? N : never }[JobName];
export const TRIGGERS = JOB_NAMES.filter((n): n is TriggerName => 'trigger' in JOBS[n]);

/** The queue of job `name`, with the table's options as the default of every add. */
export function openJobQueue<N extends JobName>(name: N, connection: ConnectionOptions, config: Config, log: Logger): JobQueue<N> {
  const spec = JOBS[name];
  const queue = new Queue(spec.queue, { connection, prefix: config.queuePrefix, defaultJobOptions: spec.options(config) });
  // Connection errors: the client reconnects by itself, and every call made meanwhile fails on its own.
  queue.on('error', (err) => log.debug(`queue ${spec.queue}: ${coerceError(err).message}`));
  return queue as unknown as JobQueue<N>;
}

export function openJobQueues(connection: ConnectionOptions, config: Config, log: Logger): JobQueues {
  return Object.fromEntries(JOB_NAMES.map((n) => [n, openJobQueue(n, connection, config, log)])) as JobQueues;
}
