import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { resolveConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

function failure(env: Record<string, string>): ConfigError {
  try {
    resolveConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('gives the defaults of DESIGN.md for an empty environment', () => {
    const c = resolveConfig({});
    expect(c).toMatchObject({
      redis: { kind: 'url', url: 'redis://127.0.0.1:6379' },
      hzMembers: ['127.0.0.1:5701'],
      hzClusterName: 'dev',
      hzMap: 'DOLPHIN_FEATURES',
      hzKey: 'latest_eigen_scan',
      hzHistoryMap: 'DOLPHIN_SCAN_HISTORY',
      arrowDir: resolve('./data/arrow_scans'),
      queuePrefix: 'scan-bridge',
      healthIntervalMs: 30000,
      dataWarningS: 30,
      dataStaleS: 60,
      restartAttempts: 3,
      restartBackoffMs: 5000,
      boardHost: '127.0.0.1',
      boardPort: 3000,
      boardUser: undefined,
      boardPassword: undefined,
      alertWebhookUrls: [],
      alertMinStatus: 'warning',
      pagerdutyRoutingKey: undefined,
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      heartbeatUrl: undefined,
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const c = resolveConfig({
      REDIS_URL: 'redis://:pw@redis.local:6380/2',
      HZ_MEMBERS: 'a:5701, b:5702,[::1]:5703',
      HZ_CLUSTER_NAME: 'prod',
      DATA_WARNING_S: '10',
      DATA_STALE_S: '20',
      BOARD_USER: 'ops',
      BOARD_PASSWORD: 'secret',
      ALERT_WEBHOOK_URL: 'https://hooks.example/x, https://discord.example/y',
      ALERT_MIN_STATUS: 'Stale',
      PAGERDUTY_ROUTING_KEY: 'R0UT1NG',
      PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
      HEARTBEAT_URL: 'https://hc-ping.com/abc',
      LOG_LEVEL: 'DEBUG',
    });
    expect(c).toMatchObject({
      alertWebhookUrls: ['https://hooks.example/x', 'https://discord.example/y'],
      alertMinStatus: 'stale',
      pagerdutyRoutingKey: 'R0UT1NG',
      pagerdutyEventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue',
      heartbeatUrl: 'https://hc-ping.com/abc',
    });
    expect(c.hzMembers).toEqual(['a:5701', 'b:5702', '[::1]:5703']);
    expect(c.dataStaleS).toBe(20);
    expect(c.logLevel).toBe('debug');
    expect(c.boardUser).toBe('ops');
  });

  it.each([
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL="localhost:6379" is not valid: expected a URL like redis://host:6379'],
    ['REDIS_URL', 'http://x:6379', 'REDIS_URL="http://x:6379"'],
    ['REDIS_URL', 'redis://h:99999', 'REDIS_URL="redis://h:99999"'],
    ['HZ_MEMBERS', '127.0.0.1:abc', 'HZ_MEMBERS="127.0.0.1:abc" is not valid: expected comma-separated host:port'],
    ['HZ_MEMBERS', 'a:5701,,b', 'HZ_MEMBERS='],
    ['DATA_STALE_S', 'soon', 'DATA_STALE_S="soon" is not valid: expected a whole number'],
    ['DATA_STALE_S', '-5', 'DATA_STALE_S="-5"'],
    ['DATA_STALE_S', '10', 'DATA_STALE_S="10" is not valid: expected a number of seconds above DATA_WARNING_S (30)'],
    ['HEALTH_INTERVAL_MS', '1.5', 'HEALTH_INTERVAL_MS="1.5"'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL="loud"'],
    ['BOARD_READ_ONLY', 'maybe', 'BOARD_READ_ONLY="maybe"'],
    ['ALERT_WEBHOOK_URL', 'ftp://x', 'ALERT_WEBHOOK_URL="ftp://x"'],
    ['ALERT_WEBHOOK_URL', 'https://a/x,nope', 'ALERT_WEBHOOK_URL="nope" is not valid: expected comma-separated http(s) URLs'],
    ['ALERT_WEBHOOK_URL', 'https://[hooks.example/x', 'ALERT_WEBHOOK_URL="https://[hooks.example/x"'],
    ['ALERT_MIN_STATUS', 'healthy', 'ALERT_MIN_STATUS="healthy" is not valid: expected warning, stale, down, error'],
    ['PAGERDUTY_EVENTS_URL', 'events.pagerduty.com', 'PAGERDUTY_EVENTS_URL="events.pagerduty.com"'],
    ['HEARTBEAT_URL', 'hc-ping.com/abc', 'HEARTBEAT_URL="hc-ping.com/abc"'],
    ['WATCH_MODE', 'inotify', 'WATCH_MODE="inotify" is not valid: expected auto, events, poll'],
    ['WATCH_POLL_MS', '10', 'WATCH_POLL_MS="10" is not valid: expected a whole number from 50'],
    ['WATCH_RESCAN_MS', 'often', 'WATCH_RESCAN_MS="often"'],
    ['MAX_CLOCK_SKEW_S', '0', 'MAX_CLOCK_SKEW_S="0"'],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    const err = failure({ [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message.startsWith(message)).toBe(true);
  });

  it('reads the watch mode and the clock-skew limit, with their defaults', () => {
    expect(resolveConfig({})).toMatchObject({ watchMode: 'auto', watchPollMs: 1000, watchRescanMs: 5000, maxClockSkewS: 300 });
    expect(resolveConfig({ WATCH_MODE: 'Poll', WATCH_POLL_MS: '250', WATCH_RESCAN_MS: '2000', MAX_CLOCK_SKEW_S: '60' })).toMatchObject({
      watchMode: 'poll',
      watchPollMs: 250,
      watchRescanMs: 2000,
      maxClockSkewS: 60,
    });
  });

  it('uses the sentinels instead of REDIS_URL when REDIS_SENTINELS is set', () => {
    const c = resolveConfig({
      REDIS_SENTINELS: 's1:26379, s2:26380,[::1]',
      REDIS_SENTINEL_MASTER: 'main',
      REDIS_SENTINEL_PASSWORD: 'spw',
      REDIS_PASSWORD: 'pw',
    });
    expect(c.redis).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: '::1', port: 26379 },
      ],
      master: 'main',
      sentinelPassword: 'spw',
      password: 'pw',
    });
    expect(c.queuePrefix).toBe('scan-bridge');
  });

  it('hash-tags the queue prefix for a Redis Cluster, as BullMQ requires', () => {
    const c = resolveConfig({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' });
    expect(c.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
      ],
      password: undefined,
    });
    expect(c.queuePrefix).toBe('{scan-bridge}');
    expect(resolveConfig({ REDIS_CLUSTER_NODES: 'n1:7000', QUEUE_PREFIX: '{mine}' }).queuePrefix).toBe('{mine}');
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_SENTINEL_MASTER: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:port', REDIS_SENTINEL_MASTER: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379,,s2', REDIS_SENTINEL_MASTER: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'a b' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_CLUSTER_NODES: 'n1:70000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'n1:7000', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'main' }, 'REDIS_CLUSTER_NODES'],
  ])('rejects the Redis topology %j naming %s', (env, variable) => {
    expect(failure(env).variable).toBe(variable);
  });

  it("names the health entry after the deployment's HZ_KEY unless told (issue 20)", () => {
    // One deployment keeps today's key; a second one, with its own HZ_KEY, gets its own entry.
    expect(resolveConfig({}).hzHealthKey).toBe('scan_bridge_health');
    expect(resolveConfig({ HZ_KEY: 'latest_eigen_scan' }).hzHealthKey).toBe('scan_bridge_health');
    expect(resolveConfig({ HZ_KEY: 'latest_eigen_scan_eu' }).hzHealthKey).toBe('scan_bridge_health:latest_eigen_scan_eu');
    expect(resolveConfig({ HZ_KEY: 'latest_eigen_scan_eu', HZ_HEALTH_KEY: 'eu_health' }).hzHealthKey).toBe('eu_health');
    expect(failure({ HZ_HEALTH_KEY: 'latest_eigen_scan' })).toMatchObject({ variable: 'HZ_HEALTH_KEY' });
    expect(failure({ HZ_KEY: 'x', HZ_HEALTH_KEY: 'x' })).toMatchObject({ variable: 'HZ_HEALTH_KEY' });
    expect(failure({ HZ_HEALTH_KEY: 'a b' })).toMatchObject({ variable: 'HZ_HEALTH_KEY' });
  });

  it('wants BOARD_USER and BOARD_PASSWORD together', () => {
    expect(failure({ BOARD_USER: 'ops' }).variable).toBe('BOARD_PASSWORD');
  });
});

describe('a bad setting stops the CLI with one line naming it', () => {
  it.each([
    ['REDIS_URL', 'not a url'],
    ['HZ_MEMBERS', 'host:port:extra'],
    ['DATA_STALE_S', 'sixty'],
  ])('%s', (name, value) => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'status'], { env: { ...process.env, [name]: value }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name}=${JSON.stringify(value)} is not valid: expected`);
    expect(r.stdout).toBe('');
  });
});

describe('CLI help', () => {
  it('lists every command of DESIGN.md', () => {
    const out = execFileSync(process.execPath, ['dist/cli.js', '--help'], { encoding: 'utf8' });
    for (const c of ['start', 'create', 'status', 'health', 'trigger', 'demo-scanner']) expect(out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
