import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import { connectRedisOnce, createHazelcast, describeRedis, type Hazelcast } from '../connections.js';
import { upsertSchedules } from '../scheduler.js';
import { collectStatus, openQueues, trigger, TRIGGERS, type SystemStatus, type TriggerName } from '../ops.js';
import { gatherHealthInputs } from '../jobs/health-check.js';
import { decideHealth, exitCodeFor, type HealthResult } from '../health.js';
import { describeSkew } from '../bridge/clock-skew.js';

type Ctx = { config: Config; log: Logger; values: Record<string, unknown>; positionals: string[] };

async function withQueues<T>(
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

const ago = (ms: number | null | undefined) => (ms ? `${((Date.now() - ms) / 1000).toFixed(1)} s ago` : 'never');

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
  return 0;
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

function printStatus(s: SystemStatus): void {
  const hb = s.bridge.heartbeat;
  const st = s.bridge.stats;
  console.log('Bridge');
  if (hb)
    console.log(
      `  active: ${hb.id} on ${hb.host}, generation ${hb.generation}, up ${((s.at - hb.startedAt) / 1000).toFixed(0)} s, last beat ${ago(hb.beatAt)}`,
    );
  else console.log('  active: none (no live heartbeat)');
  if (st)
    console.log(
      `  pushed ${st.pushed}, last #${st.lastPushedScan ?? '–'} ${ago(st.lastPushedAt)}, newest on disk #${st.newestSeenOnDisk ?? '–'}, rejected ${st.rejected}, out of order ${st.olderSkipped}, refused for clock skew ${st.clockSkewRefused ?? 0}`,
    );
  // Stats of a bridge from before watch modes carry none.
  if (st?.watchMode) console.log(`  watch mode: ${st.watchMode.mode} (${st.watchMode.reason})`);
  if (st?.lastClockSkew)
    console.log(
      `  last clock skew: ${st.lastClockSkew.relPath} (scan #${st.lastClockSkew.scanNumber}) ${describeSkew(st.lastClockSkew)}, ${ago(st.lastClockSkew.at)}`,
    );
  console.log(`  restarts ${s.bridge.restarts}${s.bridge.lastRestart ? `, last restart ${s.bridge.lastRestart.state} ${ago(s.bridge.lastRestart.at)}` : ''}`);
  console.log('Latest scan');
  if (!s.latestScan) console.log('  none in Hazelcast');
  else if ('error' in s.latestScan) console.log(`  Hazelcast unreachable: ${s.latestScan.error}`);
  else
    console.log(
      `  #${s.latestScan.scanNumber} at ${s.latestScan.timestamp} (${s.latestScan.ageS} s old), ${s.latestScan.assetCount} assets, by ${s.latestScan.bridgeId ?? '?'}`,
    );
  console.log('Board');
  console.log(
    s.board
      ? `  ${s.board.board} (status page ${s.board.statusPage}), served by ${s.board.host} pid ${s.board.pid}`
      : '  none announced: no board role is running',
  );
  console.log('Last health check');
  console.log(s.health ? `  ${s.health.status}: ${s.health.message} (${ago(s.health.checkedAt)})` : '  none yet');
  console.log(`Quarantine (${s.quarantine.length})`);
  if (s.quarantine.length === 0) console.log('  none');
  for (const q of s.quarantine) console.log(`  ${q.relPath}: ${q.reason} (${ago(q.at)})`);
  console.log('Schedules');
  if (s.schedules.length === 0) console.log('  none: run `scan-bridge create` or start a scheduler');
  for (const sc of s.schedules) console.log(`  ${sc.id}: every ${sc.every ?? '?'} ms, next ${sc.next ? new Date(sc.next).toISOString() : '–'}`);
  console.log('Queues');
  for (const [name, q] of Object.entries(s.queues)) {
    console.log(
      `  ${name}: ${q.workers} workers; ${Object.entries(q.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    );
  }
}

export async function statusCommand({ config, log, values }: Ctx): Promise<number> {
  const hz = await createHazelcast(config, clientLog(log), { kind: 'service' });
  try {
    await hz.waitConnected(3000);
    const status = await withQueues(config, log, (q, redis) => collectStatus(config, redis, q, hz));
    if (values.json) console.log(JSON.stringify(status, null, 2));
    else printStatus(status);
    return 0;
  } finally {
    await hz.shutdown();
  }
}
