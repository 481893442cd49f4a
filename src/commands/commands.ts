import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import { connectRedisOnce, createHazelcast, describeRedis, type Hazelcast } from '../connections.js';
import { upsertSchedules } from '../scheduler.js';
import { openQueues, trigger, TRIGGERS, type TriggerName } from '../ops.js';
import { gatherHealthInputs } from '../jobs/health-check.js';
import { decideHealth, exitCodeFor, type HealthResult } from '../health.js';

type Ctx = { config: Config; log: Logger; values: Record<string, unknown>; positionals: string[] };

export async function withQueues<T>(
  config: Config,
  log: Logger,
  fn: (q: ReturnType<typeof openQueues>, redis: Awaited<ReturnType<typeof connectRedisOnce>>) => Promise<T>,
): Promise<T> {
  const redis = await connectRedisOnce(config);
  const queues = openQueues(config, redis, log);
  try {
    return await fn(queues, redis);
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
    redis.disconnect();
  }
}

export async function createCommand({ config, log }: Ctx): Promise<number> {
  await withQueues(config, log, (q) => upsertSchedules(q['health-check'], config));
  console.log(`schedule "health-check" every ${config.healthIntervalMs} ms is in place (prefix ${config.queuePrefix})`);
  return 0;
}

export async function triggerCommand({ config, log, positionals }: Ctx): Promise<number> {
  const name = positionals[0] as TriggerName | undefined;
  if (!name) throw new UsageError(`no job given: expected ${TRIGGERS.join(' or ')}`);
  if (!TRIGGERS.includes(name)) throw new UsageError(`unknown job "${name}": expected ${TRIGGERS.join(' or ')}`);
  const r = await withQueues(config, log, (q) => trigger(q, name, `cli@${hostname()}`));
  if (r.reused) console.log(`${name} job ${r.jobId} was already pending in queue ${r.queue}: reused it, nothing new queued`);
  else console.log(`queued ${name} as job ${r.jobId} in queue ${r.queue}`);
  // The job stays queued either way: a worker that starts later runs it.
  for (const w of r.warnings) console.error(`warning: ${w}`);
  return r.warnings.length > 0 ? 1 : 0;
}

/**
 * The Hazelcast client's own warnings (one per failed connection attempt, as JSON) bury a
 * command's one-line answer: they show only when LOG_LEVEL asks for debug.
 */
export function clientLog(log: Logger): Logger {
  return log.isLevelEnabled('debug') ? log : log.child({}, { level: 'silent' });
}

const CALLED_FOR: Record<HealthResult['action'], string | undefined> = {
  none: undefined,
  restart: 'the scheduled check queues a restart for this; this command only reports (`scan-bridge trigger restart-bridge` restarts now)',
  alert: 'the scheduled check alerts on this change when ALERT_WEBHOOK_URL or PAGERDUTY_ROUTING_KEY is set; this command only reports',
};

function printHealth(r: HealthResult): void {
  console.log(`${r.status.toUpperCase()}${'cause' in r ? ` (${r.cause})` : ''}: ${r.message}`);
  if (CALLED_FOR[r.action]) console.log(`  ${CALLED_FOR[r.action]}`);
  console.log(`  data age ${r.dataAgeS ?? '–'} s, scan #${r.scanNumber ?? '–'}, ${r.assetCount ?? '–'} assets, newest on disk #${r.newestOnDisk ?? '–'}`);
  console.log(`  bridge ${r.bridge ? `${r.bridge.id} (generation ${r.bridge.generation}, up ${r.bridge.uptimeS} s)` : 'none'}, restarts ${r.restarts}`);
}

/** Runs the check now, from this machine; it reports and acts on nothing (use `trigger restart-bridge`). */
export async function healthCommand({ config, log, values }: Ctx): Promise<number> {
  const hz: Hazelcast = await createHazelcast(config, clientLog(log), { kind: 'service' });
  const redis = await connectRedisOnce(config).catch(() => null);
  try {
    await hz.waitConnected(3000);
    const deadRedis = { mget: () => Promise.reject(new Error(`Redis at ${describeRedis(config.redis)} is unreachable`)) } as unknown as NonNullable<
      typeof redis
    >;
    const result = decideHealth(await gatherHealthInputs({ config, redis: redis ?? deadRedis, hazelcast: hz, log }));
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else printHealth(result);
    return exitCodeFor(result.status);
  } finally {
    redis?.disconnect();
    await hz.shutdown();
  }
}
