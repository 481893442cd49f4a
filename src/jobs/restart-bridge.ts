import type { Job, Queue } from 'bullmq';
import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { keys } from '../keys.js';
import { readBridgeFacts } from '../bridge/facts.js';
import type { BridgeJobData } from './bridge-job.js';

export interface RestartPayload {
  reason: string;
  requestedBy: string;
}

export interface RestartDeps {
  config: Config;
  redis: RedisConnection;
  /** The bridge job's queue, opened from the job table. */
  bridgeQueue: Queue<BridgeJobData, void, 'bridge'>;
  log: Logger;
}

export interface RestartResult {
  generation: number;
  bridgeId: string;
  tookMs: number;
}

export interface LastRestart {
  state: 'running' | 'confirmed' | 'failed';
  at: number;
  jobId?: string;
  error?: string;
  generation?: number;
}

/** Thrown when no new bridge run showed up in time; BullMQ retries the job after its backoff. */
export class RestartNotConfirmedError extends Error {
  override name = 'RestartNotConfirmedError';
}

/** Adds the bridge job unless one waits or runs already (deduplicated by the queue's options). */
export async function ensureBridgeJob(bridgeQueue: Queue<BridgeJobData, void, 'bridge'>, requestedBy: string): Promise<void> {
  await bridgeQueue.add('bridge', { requestedBy });
}

async function setLastRestart(redis: RedisConnection, prefix: string, v: LastRestart): Promise<void> {
  await redis.set(keys(prefix).lastRestart, JSON.stringify(v));
}

/**
 * One attempt: asks the running bridge (if any) to restart, makes sure a bridge job exists,
 * then waits for a heartbeat of a newer generation that watches the folder.
 */
export async function restartBridge(deps: RestartDeps, job: Job<RestartPayload>): Promise<RestartResult> {
  const { config, redis } = deps;
  const k = keys(config.queuePrefix);
  const started = Date.now();
  const attempt = job.attemptsMade + 1;
  await job.log(`attempt ${attempt}/${job.opts.attempts ?? 1} started at ${new Date(started).toISOString()} (${job.data.reason}, by ${job.data.requestedBy})`);
  await setLastRestart(redis, config.queuePrefix, { state: 'running', at: started, ...(job.id ? { jobId: job.id } : {}) });
  const before = Number((await redis.get(k.generation)) ?? 0);
  await redis.multi().set(k.restartRequest, String(before)).del(k.gaveUp).exec();
  await ensureBridgeJob(deps.bridgeQueue, `restart job ${job.id}`);
  const deadline = started + config.restartConfirmMs;
  while (Date.now() < deadline) {
    const { heartbeat } = await readBridgeFacts(redis, config.queuePrefix);
    if (heartbeat && heartbeat.generation > before && heartbeat.watching) {
      const tookMs = Date.now() - started;
      // The very first bridge run (generation 1) is a start, not a restart.
      if (before > 0) await redis.incr(k.restarts);
      await setLastRestart(redis, config.queuePrefix, {
        state: 'confirmed',
        at: Date.now(),
        generation: heartbeat.generation,
        ...(job.id ? { jobId: job.id } : {}),
      });
      await job.log(`confirmed: bridge ${heartbeat.id} runs as generation ${heartbeat.generation} after ${tookMs} ms`);
      return { generation: heartbeat.generation, bridgeId: heartbeat.id, tookMs };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const msg = `no new bridge run confirmed within ${config.restartConfirmMs} ms (generation still ${before})`;
  await job.log(`attempt ${attempt} failed at ${new Date().toISOString()}: ${msg}`);
  throw new RestartNotConfirmedError(msg);
}

export function restartProcessor(deps: RestartDeps) {
  return (job: Job<RestartPayload>): Promise<RestartResult> => restartBridge(deps, job);
}

/** Called when a restart job failed its last attempt: the status must say so. */
export async function restartGaveUp(deps: RestartDeps, job: Job, err: Error): Promise<void> {
  await setLastRestart(deps.redis, deps.config.queuePrefix, { state: 'failed', at: Date.now(), error: err.message, ...(job.id ? { jobId: job.id } : {}) });
  deps.log.error(`restart job ${job.id} failed after ${job.attemptsMade} attempts: ${err.message}`);
}
