import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import { QUEUES } from '../src/jobs/table.js';
import { keys } from '../src/keys.js';
import { eventually, testEnv, testLog } from './helpers.js';

/** Runs the CLI without blocking this process, so the test's own Hazelcast client keeps its heartbeat. */
function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      ['dist/cli.js', ...args],
      { env: { ...process.env, ...env, LOG_PRETTY: '0' }, encoding: 'utf8', timeout: 30_000 },
      (error, out, err) => {
        ok({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err });
      },
    );
  });
}

let hz: Hazelcast;
let redis: RedisConnection;
beforeAll(async () => {
  const config = resolveConfig(testEnv());
  hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  redis = createRedis(config);
});
afterAll(async () => {
  await hz.shutdown();
  redis.disconnect();
});

async function world(ageS: number | null, heartbeat: boolean) {
  const env = testEnv();
  const config = resolveConfig(env);
  if (ageS !== null) {
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(
      config.hzKey,
      JSON.stringify({ scan_number: 42, timestamp: new Date().toISOString(), timestamp_ms: Date.now() - ageS * 1000, asset_count: 400, bridge_id: 'h:1' }),
    );
  }
  if (heartbeat) {
    const hb: Heartbeat = { id: 'h:1', host: 'h', pid: 1, startedAt: Date.now() - 60_000, generation: 2, beatAt: Date.now(), watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 60_000);
  }
  return { env, config };
}

describe('scan-bridge health', () => {
  it('with the bridge down reports what a check would do, and claims no action of its own', async () => {
    const { env, config } = await world(1, false);
    const r = await cli(env, 'health');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^DOWN \(no_heartbeat\): /);
    expect(r.out).not.toMatch(/restarting|alerting|queued/);
    expect(r.out).toContain('this command only reports');
    const restarts = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
    expect(await restarts.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')).toBe(0);
  });

  it('with Hazelcast unreachable prints its verdict and no client log lines', async () => {
    const { env } = await world(1, true);
    // At the default log level, where the client's warnings used to come through.
    const r = await cli({ ...env, HZ_MEMBERS: '127.0.0.1:1', LOG_LEVEL: 'info' }, 'health');
    expect(r.code).toBe(2);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^ERROR \(hazelcast_unreachable\): /);
    expect(r.out).not.toMatch(/"level"|hazelcast: /);
  });

  it('exits 0 when healthy, with the facts in words', async () => {
    const { env } = await world(1, true);
    const r = await cli(env, 'health');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^HEALTHY: /);
    expect(r.out).toContain('scan #42');
  });

  it('exits 1 on warning and 2 when down; --json gives the result', async () => {
    expect((await cli((await world(45, true)).env, 'health')).code).toBe(1);
    const down = await cli((await world(1, false)).env, 'health', '--json');
    expect(down.code).toBe(2);
    expect(JSON.parse(down.out)).toMatchObject({ status: 'down', scanNumber: 42 });
  });

  it('exits 2 with an error result when Hazelcast is unreachable', async () => {
    const { env } = await world(1, true);
    const r = await cli({ ...env, HZ_MEMBERS: '127.0.0.1:1' }, 'health', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'error', cause: 'hazelcast_unreachable' });
  });
});

describe('exit codes', () => {
  it.each<[string, number, string[], Record<string, string>, RegExp]>([
    [
      'an unknown job to trigger',
      64,
      ['trigger', 'bogus'],
      {},
      /^scan-bridge trigger: unknown job "bogus": expected health-check or restart-bridge\nusage: scan-bridge trigger/,
    ],
    ['trigger without a job', 64, ['trigger'], {}, /^scan-bridge trigger: .*expected health-check or restart-bridge/],
    ['an unknown command', 64, ['bogus'], {}, /^unknown command "bogus"/],
    ['no command at all', 64, [], {}, /^Usage: scan-bridge <command>/m],
    ['an unknown flag', 64, ['status', '--bogus'], {}, /^scan-bridge status: .*--bogus.*\nusage: scan-bridge status/],
    ['an unknown role', 64, ['start', '--role', 'bogus'], {}, /^scan-bridge start: unknown role "bogus": expected all, scheduler, worker, bridge, board/],
    [
      'a bad flag value',
      64,
      ['demo-scanner', '--assets', '0'],
      {},
      /^scan-bridge demo-scanner: --assets "0" is not valid: expected a whole number above 0\nusage: scan-bridge demo-scanner/,
    ],
    [
      'an unknown demo fault',
      64,
      ['demo-scanner', '--fault', 'gremlins'],
      {},
      /^scan-bridge demo-scanner: --fault "gremlins" is not valid: expected frozen, collapse, schema-change, nan-column\nusage: scan-bridge demo-scanner/,
    ],
    ['a bad setting', 78, ['status'], { DATA_STALE_S: 'soon' }, /^scan-bridge: bad setting: DATA_STALE_S="soon"/],
    ['a bad setting found by a role', 78, ['start', '--role', 'board'], { BOARD_HOST: '0.0.0.0', BOARD_PORT: '0' }, /BOARD_HOST="0\.0\.0\.0" is not valid/],
    [
      'Redis unreachable',
      2,
      ['trigger', 'health-check'],
      { REDIS_URL: 'redis://127.0.0.1:1' },
      /^scan-bridge trigger: redis at redis:\/\/127\.0\.0\.1:1 is unreachable/,
    ],
  ])('%s: exit %i', async (_what, code, args, extra, stderr) => {
    const r = await cli({ ...testEnv(), LOG_LEVEL: 'info', ...extra }, ...args);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(stderr);
    expect(r.err).not.toMatch(/\n\s+at |"level"/);
  });
});

describe('scan-bridge create, trigger, status', () => {
  it('create is idempotent and updates the interval', async () => {
    const { env, config } = await world(null, false);
    expect((await cli(env, 'create')).code).toBe(0);
    expect((await cli(env, 'create')).code).toBe(0);
    const q = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
    expect((await q.getJobSchedulers()).map((s) => Number(s.every))).toEqual([30000]);
    expect((await cli({ ...env, HEALTH_INTERVAL_MS: '15000' }, 'create')).code).toBe(0);
    expect((await q.getJobSchedulers()).map((s) => Number(s.every))).toEqual([15000]);
  });

  it('trigger queues the job by hand; a restart only once', async () => {
    const { env, config } = await world(null, false);
    const first = await cli(env, 'trigger', 'restart-bridge');
    const second = await cli(env, 'trigger', 'restart-bridge');
    // No worker listens here: queued all the same, with a warning and exit 1.
    expect(first.code).toBe(1);
    const id = /as job (\S+)/.exec(first.out)![1];
    expect(second.out).toContain(`job ${id} was already pending`);
    expect((await cli(env, 'trigger', 'health-check')).code).toBe(1);
    const restarts = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
    const checks = new Queue(QUEUES.healthCheck, { connection: redis, prefix: config.queuePrefix });
    expect((await restarts.getJobCounts('waiting')).waiting).toBe(1);
    expect((await checks.getJobCounts('waiting')).waiting).toBe(1);
  });

  it('trigger restart-bridge says "reused" only when a pending restart was reused', async () => {
    const { env, config } = await world(null, false);
    const first = await cli(env, 'trigger', 'restart-bridge');
    expect(first.code).toBe(1);
    expect(first.out).not.toMatch(/reused|already/);
    const id = /as job (\S+)/.exec(first.out)![1]!;
    const second = await cli(env, 'trigger', 'restart-bridge');
    expect(second.out.trim()).toBe(`restart-bridge job ${id} was already pending in queue restart-bridge: reused it, nothing new queued`);
    // Once that restart has run, the next one is a restart of its own.
    const worker = new Worker(QUEUES.restartBridge, () => Promise.resolve('done'), { connection: createRedis(config), prefix: config.queuePrefix });
    try {
      await eventually('the pending restart to complete', async () =>
        (await new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix }).getJobCounts('completed')).completed === 1 ? true : undefined,
      );
    } finally {
      await worker.close();
    }
    const third = await cli(env, 'trigger', 'restart-bridge');
    expect(third.out).not.toMatch(/reused|already/);
    expect(/as job (\S+)/.exec(third.out)![1]).not.toBe(id);
  });

  it('status shows the bridge and the latest scan, in words and as JSON; a heartbeat without a bridge worker is no running bridge', async () => {
    const { env } = await world(3, true);
    const text = await cli(env, 'status');
    // Nothing but the heartbeat key: no process holds a worker connection.
    expect(text.code).toBe(2);
    expect(text.out).toMatch(/^UNHEALTHY: /);
    expect(text.out).toMatch(/bridge h:1 no longer runs: no bridge worker is connected/);
    expect(text.out).toContain('last heartbeat (no bridge worker connected): h:1 on h, generation 2');
    expect(text.out).toMatch(/#42 at .* 400 assets, by h:1/);
    const json = JSON.parse((await cli(env, 'status', '--json')).out) as unknown;
    expect(json).toMatchObject({ bridge: { heartbeat: { id: 'h:1' } }, latestScan: { scanNumber: 42, assetCount: 400 } });
  });

  it('status names a value in Hazelcast that is no scan for what it is, not as Hazelcast unreachable (issue 20)', async () => {
    const { env, config } = await world(null, true);
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(config.hzKey, 'not json');
    const text = await cli(env, 'status');
    // No bridge runs in this world: status says so with exit 2, and still names the value for what it is.
    expect(text.code).toBe(2);
    expect(text.out).toContain('  no usable scan in Hazelcast: it is not JSON ("not json")');
    await map.set(config.hzKey, JSON.stringify({ scan_number: 999999, timestamp: '2099-01-01T00:00:00.000Z', timestamp_ms: 4070908800000, asset_count: 3 }));
    const json = JSON.parse((await cli(env, 'status', '--json')).out) as { latestScan: unknown };
    expect(json.latestScan).toEqual({ unusable: expect.stringMatching(/^scan #999999 of 2099-01-01T00:00:00\.000Z is stamped .* ahead/) });
  });

  it('status summarises a quarantine of more than 20 files as a count and the newest few', async () => {
    const { env, config } = await world(3, true);
    const now = Date.now();
    const entry = (i: number) =>
      JSON.stringify({ size: 10, mtimeMs: now, limit: 'MAX_SCAN_BYTES', reason: 'too big', at: now - (2000 - i) * 1000, bridgeId: 'h:1' });
    const fields: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) fields[`day/scan-${String(i).padStart(4, '0')}.arrow`] = entry(i);
    await redis.hset(keys(config.queuePrefix).quarantine, fields);
    const text = await cli(env, 'status');
    const section = /^Quarantine \(2000\)\n((?: {2}.*\n)*)/m.exec(text.out);
    expect(section, text.out).not.toBeNull();
    const lines = section![1]!.trimEnd().split('\n');
    expect(lines).toEqual([
      ...[1999, 1998, 1997, 1996, 1995].map((i): unknown => expect.stringMatching(new RegExp(`^  day/scan-${i}\\.arrow: too big \\(`))),
      '  … and 1995 older: `scan-bridge quarantine list` shows them all',
    ]);
    expect(text.out.split('\n').length).toBeLessThan(60);
  });

  it('says plainly when Redis is unreachable, without a stack trace', async () => {
    const r = await cli({ ...testEnv(), REDIS_URL: 'redis://127.0.0.1:1' }, 'status');
    expect(r.code).toBe(2);
    // One line naming it, one naming the servers used and where each setting came from.
    expect(r.err.trim().split('\n')).toHaveLength(2);
    expect(r.err).toContain('redis at redis://127.0.0.1:1 is unreachable');
    expect(r.err).toContain('settings used: Redis redis://127.0.0.1:1 (REDIS_URL from the environment)');
  });
});
