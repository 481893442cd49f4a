/**
 * Stopping while a server is down: SIGTERM (systemd's stop) and Ctrl-C must end the process in
 * bounded time even when Redis or Hazelcast no longer answers, saying which part could not be
 * stopped cleanly, instead of waiting for a server that may never come back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHazelcast } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

let redisServer: Started;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => redisServer?.stop());
afterEach(killChildren);

describe('stopping during an outage', () => {
  it('SIGTERM with Redis gone: every role stops and the process exits within STOP_TIMEOUT_MS, naming what could not stop cleanly', async () => {
    const env = testEnv({ REDIS_URL: redisServer.address, BOARD_PORT: '0', STOP_TIMEOUT_MS: '3000', BRIDGE_HEARTBEAT_MS: '300', BRIDGE_LOCK_MS: '3000' });
    const config = resolveConfig(env);
    const child = spawnRoles(['all'], env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    try {
      const map = await hz.client.getMap<string, string>(config.hzMap);
      writeScanFile(config.arrowDir, 1);
      await eventually('scan #1 in Hazelcast', async () => ((await map.get(config.hzKey)) !== null ? true : undefined), 30_000);
      await redisServer.kill();
      const t0 = Date.now();
      child.signal('SIGTERM');
      const code = await Promise.race([child.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
      expect(code).toBe(0);
      // 3 s of STOP_TIMEOUT_MS, plus the process's own exit.
      expect(Date.now() - t0).toBeLessThan(8000);
      // The job workers and the bridge worker wait on Redis to stop; the summary's tidying does not hold the exit.
      const line =
        child
          .output()
          .split('\n')
          .find((l) => l.includes('did not stop within')) ?? '';
      expect(line).toMatch(
        /"msg":"(?:(?:bridge worker|job workers|scheduler|board)(?:, )?)+ did not stop within 3000 ms \(STOP_TIMEOUT_MS\): exiting without waiting for (?:it|them)"/,
      );
      expect(line).not.toContain('summary');
    } finally {
      await hz.shutdown();
    }
  }, 60_000);
});
