import { Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { isConnectionError } from '../reachability.js';
import { createHazelcast, createRedis, redisReady, type Hazelcast } from '../connections.js';
import { JOBS, openJobQueue } from '../jobs/table.js';
import { restartGaveUp } from '../jobs/restart-bridge.js';
import { createAlerter } from '../alerts.js';
import { createHeartbeatPinger } from '../alerts/heartbeat.js';
import type { HealthResult } from '../health.js';

export interface JobWorkers {
  stop(): Promise<void>;
}

/** Runs health-check and restart-bridge jobs (and, through them, the health schedule's next ticks). */
export async function startJobWorkers(config: Config, log: Logger, hazelcast?: Hazelcast): Promise<JobWorkers> {
  const hz = hazelcast ?? (await createHazelcast(config, log));
  // A short head start, so the first check does not report an outage that is only a connection being made.
  await hz.waitConnected(5000);
  // Fail fast, no offline queue: a Redis outage is an error result of a check, not a hang.
  const reads = createRedis(config, { maxRetriesPerRequest: 1, enableOfflineQueue: false }, log);
  await redisReady(reads);
  const connection = createRedis(config, {}, log);
  const restartQueue = openJobQueue('restart-bridge', connection, config, log);
  const bridgeQueue = openJobQueue('bridge', connection, config, log);

  const pagerduty = config.pagerdutyRoutingKey ? { routingKey: config.pagerdutyRoutingKey, eventsUrl: config.pagerdutyEventsUrl } : undefined;
  const alerter =
    config.alertWebhookUrls.length > 0 || pagerduty
      ? createAlerter({
          urls: config.alertWebhookUrls,
          minStatus: config.alertMinStatus,
          pagerduty,
          redis: reads,
          prefix: config.queuePrefix,
          log: log.child({ component: 'alerts' }),
        })
      : undefined;
  const heartbeat = config.heartbeatUrl ? createHeartbeatPinger(config.heartbeatUrl, log.child({ component: 'heartbeat' })) : undefined;
  const onResult = alerter ? (r: HealthResult) => alerter.notify(r) : undefined;
  const check = JOBS['health-check'];
  const health = new Worker(check.queue, check.handler({ config, redis: reads, hazelcast: hz, log, restartQueue, onResult }), {
    connection: createRedis(config, {}, log),
    prefix: config.queuePrefix,
    ...check.worker(),
  });
  const restartDeps = { config, redis: connection, bridgeQueue, log };
  const restartJob = JOBS['restart-bridge'];
  const restart = new Worker(restartJob.queue, restartJob.handler(restartDeps), {
    connection: createRedis(config, {}, log),
    prefix: config.queuePrefix,
    ...restartJob.worker(config),
  });
  restart.on('failed', (job, err) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      void restartGaveUp(restartDeps, job, err).catch((e: unknown) => log.warn(`cannot record that restart job ${job.id} gave up: ${coerceError(e).message}`));
  });
  // 'completed' comes once BullMQ has recorded the job in Redis: a check that could not finish pings nothing.
  if (heartbeat) health.on('completed', () => heartbeat.ping());
  // A connection error while Redis is away is told once per outage (reachability.ts).
  for (const w of [health, restart]) w.on('error', (err) => log[isConnectionError(err) ? 'debug' : 'warn'](`${w.name} worker: ${coerceError(err).message}`));
  await Promise.all([health.waitUntilReady(), restart.waitUntilReady()]);
  log.info('job workers ready: health-check, restart-bridge');
  return {
    async stop() {
      await Promise.all([health.close(), restart.close()]);
      await alerter?.stop();
      await heartbeat?.idle();
      await Promise.all([restartQueue.close(), bridgeQueue.close()]);
      reads.disconnect();
      connection.disconnect();
      if (!hazelcast) await hz.shutdown();
    },
  };
}
