import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { keys } from '../src/keys.js';
import { QUEUES } from '../src/jobs/table.js';
import { isStarting, type HealthResult } from '../src/health.js';
import { utimesSync } from 'node:fs';
import { writeScanFileSync } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { eventually, killChildren, spawnRoles, testEnv } from './helpers.js';

afterEach(killChildren);

/** A local webhook that only counts what it is sent: any alert at all is a failure here. */
async function alertReceiver() {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (b: Buffer) => (raw += b.toString()));
    req.on('end', () => {
      bodies.push(raw);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/** Scans 1..n, written an hour ago by a scanner that has since stopped: the backlog a new bridge finds. */
function writeBacklog(arrowDir: string, n: number): void {
  const at = new Date(Date.now() - 3600_000);
  for (let i = 1; i <= n; i++) {
    const path = writeScanFileSync(arrowDir, i, at, encodeScan(makeScan({ scanNumber: i, time: at, assets: 8 })));
    // Written then, as their stamps say: the bridge refuses a scan stamped long before its file was written.
    utimesSync(path, at, at);
  }
}

/**
 * Starts the whole system (`start --with-demo-scanner`, as `npm run demo` does) on fresh map
 * names and a fresh queue prefix, and runs health checks every 500 ms until fresh data has been
 * healthy for a few checks. Returns every health result and what else happened meanwhile.
 */
async function coldStart(backlog: number, split = false) {
  const hook = await alertReceiver();
  const env = testEnv({ HEALTH_INTERVAL_MS: '500', BRIDGE_HEARTBEAT_MS: '300', BRIDGE_HEARTBEAT_TTL_MS: '3000', ALERT_WEBHOOK_URL: hook.url });
  if (backlog > 0) writeBacklog(env.ARROW_DIR!, backlog);
  const config = resolveConfig(env);
  const redis = createRedis(config);
  const restarts = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
  const historyOf = async () => (await redis.lrange(keys(config.queuePrefix).healthHistory, 0, -1)).map((j) => JSON.parse(j) as HealthResult).reverse();
  const systems = [];
  if (split) {
    // As separate services may come up: checks run before any bridge has started.
    systems.push(spawnRoles(['scheduler', 'worker'], env));
    await eventually('two checks before any bridge', async () => ((await historyOf()).length >= 2 ? true : undefined), 30_000);
    systems.push(spawnRoles(['bridge'], env, ['--with-demo-scanner']));
  } else {
    systems.push(spawnRoles(['all'], env, ['--with-demo-scanner']));
  }
  try {
    const results = await eventually(
      'three healthy checks on data newer than the backlog',
      async () => {
        const all = await historyOf();
        const healthy = all.filter((r) => r.status === 'healthy' && (r.scanNumber ?? 0) > backlog);
        return healthy.length >= 3 ? all : undefined;
      },
      60_000,
    );
    return {
      results,
      restartJobs: await restarts.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
      alerts: [...hook.bodies],
      output: systems.map((c) => c.output()).join(''),
    };
  } finally {
    await restarts.close();
    redis.disconnect();
    await hook.close();
  }
}

describe('a cold start raises no false alarm', () => {
  it.each<[string, number, boolean]>([
    ['an empty scan folder', 0, false],
    ['a backlog of old scans on disk', 40, false],
    ['the roles as separate processes, the bridge last', 40, true],
  ])('with %s: no stale, down or error, no restart job, no alert', async (_what, backlog, split) => {
    const { results, restartJobs, alerts, output } = await coldStart(backlog, split);
    // While the run is young, the only other thing a check may say is that it is starting.
    const bad = results.filter((r) => r.status !== 'healthy' && !isStarting(r));
    expect(bad.map((r) => `${r.status}: ${r.message}`)).toEqual([]);
    expect(restartJobs).toBe(0);
    expect(alerts).toEqual([]);
    expect(output).not.toMatch(/"level":(50|60)/);
  });
});
