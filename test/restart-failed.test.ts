import { afterEach, describe, expect, it } from 'vitest';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { openJobQueue } from '../src/jobs/table.js';
import { enqueueRestart, runHealthCheck } from '../src/jobs/health-check.js';
import { keys } from '../src/keys.js';
import { decideHealth, type HealthInputs } from '../src/health.js';
import { eventually, killChildren, spawnRoles, testLog } from './helpers.js';
import { failedForGood } from './bridge-world.js';
import { fastEnv } from './bridge-roles.js';

afterEach(killChildren);

const NOW = 1_700_000_000_000;

/** A bridge that ran once and left no heartbeat, and a restart that failed 12 s ago. */
function failedRestart(lastRestart: NonNullable<HealthInputs['lastRestart']>): HealthInputs {
  return {
    now: NOW,
    thresholds: { warningS: 30, staleS: 60, heartbeatTtlMs: 10_000, startGraceS: 60 },
    latest: { kind: 'ok', payload: { scan_number: 7, timestamp_ms: NOW - 90_000, asset_count: 4, written_at_ms: NOW - 90_000 } },
    heartbeat: { kind: 'ok', value: null },
    newestOnDisk: 9,
    restarts: 0,
    lastRestart,
  };
}

describe('restart_failed names the reason', () => {
  it('no bridge worker alive: says to start one, not to trigger a restart by hand', () => {
    const r = decideHealth(failedRestart({ state: 'failed', at: NOW - 12_000, error: 'no bridge worker is alive', bridgeWorkers: 0 }));
    expect(r).toMatchObject({ status: 'down', cause: 'restart_failed', action: 'alert' });
    expect(r.message).toMatch(/no bridge worker is alive/);
    expect(r.message).toMatch(/scan-bridge start --role bridge/);
    expect(r.message).not.toMatch(/trigger a restart by hand/);
  });

  it('a bridge worker alive but no new run confirmed: automatic restarts are exhausted, trigger one by hand', () => {
    const error = 'no new bridge run confirmed within 500 ms (generation still 1)';
    const r = decideHealth(failedRestart({ state: 'failed', at: NOW - 12_000, error, bridgeWorkers: 1 }));
    expect(r.message).toContain(error);
    expect(r.message).toMatch(/trigger a restart by hand/);
  });

  it('with no bridge worker running, the restart job fails each attempt once with its reason, and the status names it', async () => {
    const env = fastEnv({ RESTART_BACKOFF_MS: '200', RESTART_CONFIRM_MS: '500', RESTART_ATTEMPTS: '3' });
    spawnRoles(['worker'], env);
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const queue = openJobQueue('restart-bridge', redis, config, testLog);
    try {
      // A bridge ran here once: no heartbeat now is down, not a system still starting.
      await redis.set(keys(config.queuePrefix).generation, '1');
      const { id } = await enqueueRestart(queue, { reason: 'test', requestedBy: 'test' });
      const job = await failedForGood(queue, id);
      expect(job.attemptsMade).toBe(3);
      // Each attempt's reason, once each: no stack trace repeated.
      const traces = job.stacktrace ?? [];
      expect(traces).toHaveLength(3);
      traces.forEach((t, i) => expect(t).toMatch(new RegExp(`^attempt ${i + 1} of 3: no bridge worker is alive`)));
      for (const t of traces) expect(t).not.toMatch(/\n\s+at /);
      expect(job.failedReason).toMatch(/^attempt 3 of 3: no bridge worker is alive/);

      const last = await eventually('the last restart recorded as failed', async () => {
        const v = await redis.get(keys(config.queuePrefix).lastRestart);
        const parsed = v === null ? null : (JSON.parse(v) as { state: string; bridgeWorkers?: number });
        return parsed?.state === 'failed' ? parsed : undefined;
      });
      expect(last.bridgeWorkers).toBe(0);
      const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
      try {
        const health = await runHealthCheck({ config, redis, hazelcast: hz, log: testLog });
        expect(health).toMatchObject({ status: 'down', cause: 'restart_failed', action: 'alert' });
        expect(health.message).toMatch(/no bridge worker is alive/);
        expect(health.message).not.toMatch(/trigger a restart by hand/);
      } finally {
        await hz.shutdown();
      }
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});
