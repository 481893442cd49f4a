import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { createHazelcast, createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { freePort } from '../scripts/servers/services.js';
import { startSentinelGroup, type SentinelGroup } from './servers/sentinel.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

/** Master, replica and 3 sentinels of this file's own: killing the master disturbs no other test. */
let group: SentinelGroup;
beforeAll(async () => {
  group = await startSentinelGroup({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
});
afterAll(async () => group?.stop());
afterEach(killChildren);

describe('Redis under Sentinel', () => {
  it('every role, the CLI and the board follow a failover after the master is SIGKILLed', async () => {
    const boardPort = await freePort();
    const env = testEnv({
      ...group.env,
      // Unreachable on purpose: with sentinels set, nothing may use it.
      REDIS_URL: 'redis://127.0.0.1:1',
      HEALTH_INTERVAL_MS: '500',
      BRIDGE_HEARTBEAT_MS: '300',
      BRIDGE_HEARTBEAT_TTL_MS: '1500',
      BRIDGE_LOCK_MS: '3000',
      BOARD_PORT: String(boardPort),
    });
    const config = resolveConfig(env);
    const roles = spawnRoles(['scheduler', 'worker', 'bridge', 'board'], env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    const redis = createRedis(config);
    const healthQueue = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
    // While the master is dead these report refused connections; the test judges by what recovers.
    healthQueue.on('error', (err) => testLog.debug(`health-check queue: ${err.message}`));
    const latest = async () => {
      const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
      return v === null ? null : (JSON.parse(v) as { scan_number: number }).scan_number;
    };
    const completedChecks = async () => (await healthQueue.getJobCounts('completed')).completed ?? 0;
    try {
      writeScanFile(config.arrowDir, 1);
      await eventually('scan #1 in Hazelcast', async () => ((await latest()) === 1 ? true : undefined), 30_000);
      await eventually('a completed health check', async () => ((await completedChecks()) > 0 ? true : undefined), 30_000);

      const oldMaster = await group.masterPort();
      await group.nodes.get(oldMaster)!.kill();
      const killedAt = Date.now();
      writeScanFile(config.arrowDir, 2);
      await eventually('scan #2 in Hazelcast while the master is dead', async () => ((await latest()) === 2 ? true : undefined), 10_000);
      const newMaster = await group.waitForFailover(oldMaster, 30_000);
      expect(newMaster).not.toBe(oldMaster);

      // A job added after the failover is processed by the worker process.
      const job = await eventually('a health-check job added after the failover', () => healthQueue.add('health-check', {}).catch(() => undefined), 20_000);
      // Read from the job itself: a QueueEvents stream of the test's own is not what is under test.
      await eventually(
        'the health-check job added after the failover, completed by the worker process',
        async () => ((await job.getState()) === 'completed' ? true : undefined),
        30_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; the job is ${await job.getState()}; the roles said, last:\n${roles.output().slice(-3000)}`);
      });
      // The schedule fires again, and the bridge's heartbeat resumes on the new master.
      const before = await completedChecks();
      await eventually('scheduled checks completing again', async () => ((await completedChecks()) > before + 1 ? true : undefined), 30_000);
      await eventually(
        'a heartbeat written after the failover',
        async () => {
          const hb = (await readBridgeFacts(redis, config.queuePrefix)).heartbeat;
          return hb && hb.beatAt > killedAt ? true : undefined;
        },
        30_000,
      );

      // The CLI and the board reach Redis through the sentinels too.
      const status = spawnSync(process.execPath, ['dist/cli.js', 'status', '--json'], {
        env: { ...process.env, ...env, LOG_PRETTY: '0' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(status.stderr).toBe('');
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout)).toHaveProperty('bridge');
      const ready = await eventually(
        'the board ready',
        async () => {
          const res = await fetch(`http://127.0.0.1:${boardPort}/readyz`).catch(() => undefined);
          return res?.status === 200 ? res : undefined;
        },
        20_000,
      );
      expect(ready.status).toBe(200);

      writeScanFile(config.arrowDir, 3);
      await eventually('scan #3 in Hazelcast after the failover', async () => ((await latest()) === 3 ? true : undefined), 10_000);
      expect(roles.proc.exitCode).toBeNull();
    } finally {
      await healthQueue.close();
      redis.disconnect();
      await hz.shutdown();
    }
  });

  it('every connection comes back when the failover is announced while it is still asking a sentinel for the master', async () => {
    // A group of its own: the test above leaves its group without a replica to promote.
    const own = await startSentinelGroup({ downAfterMs: 1000, failoverTimeoutMs: 3000 });
    const config = resolveConfig(testEnv({ ...own.env, REDIS_URL: 'redis://127.0.0.1:1' }));
    const conns = Array.from({ length: 4 }, () => createRedis(config));
    const [first] = own.sentinels;
    try {
      await Promise.all(conns.map((c) => c.ping()));
      // Connections ask the first sentinel of the list first; frozen, it holds their question
      // while the other two elect the new master and announce it (+switch-master).
      process.kill(first!.pid, 'SIGSTOP');
      const oldMaster = await own.masterPort();
      await own.nodes.get(oldMaster)!.kill();
      const newMaster = await own.waitForFailover(oldMaster, 30_000);
      process.kill(first!.pid, 'SIGCONT');
      await eventually(
        `every connection answering from the new master :${newMaster}`,
        async () => {
          const roles = await Promise.all(conns.map((c) => c.call('ROLE').catch((err: Error) => err.message)));
          return roles.every((r) => Array.isArray(r) && r[0] === 'master') ? true : undefined;
        },
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; connection states: ${conns.map((c) => c.status).join(', ')}`);
      });
    } finally {
      process.kill(first!.pid, 'SIGCONT');
      for (const c of conns) c.disconnect();
      await own.stop();
    }
  });
});
