import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, QueueEvents } from 'bullmq';
import { createHazelcast, createRedis, type RedisConnection } from '../src/connections.js';
import { createAlerter, alertKey, type Alerter } from '../src/alerts.js';
import { runHealthCheck } from '../src/jobs/health-check.js';
import { startJobWorkers } from '../src/workers/job-worker.js';
import { bridgeKeys, type Heartbeat } from '../src/bridge/facts.js';
import { QUEUES } from '../src/jobs/table.js';
import { keys } from '../src/keys.js';
import type { HealthResult } from '../src/health.js';
import { EventLog, testConfig, testLog, uniq } from './helpers.js';

type Reply = 'ok' | 'fail' | 'hang';
interface Received {
  body: Record<string, unknown>;
  answered: Reply;
}

/** A local webhook: records every POST; answers as `replies` says, one reply per request, then 'ok'. */
async function webhook(replies: Reply[] = []) {
  const received = new EventLog<Received>();
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (b: Buffer) => (raw += b.toString()));
    req.on('end', () => {
      const answered = replies.shift() ?? 'ok';
      received.push({ body: JSON.parse(raw) as Record<string, unknown>, answered });
      if (answered === 'hang') return void hanging.push(res);
      res.statusCode = answered === 'ok' ? 204 : 500;
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    texts: () => received.events.filter((e) => e.answered === 'ok').map((e) => String(e.body.text)),
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

const result = (status: HealthResult['status'], extra: Record<string, unknown> = {}): HealthResult =>
  ({
    status,
    checkedAt: Date.now(),
    dataAgeS: status === 'healthy' ? 3 : 70,
    scanNumber: 42,
    assetCount: 400,
    newestOnDisk: 42,
    bridge: null,
    restarts: 0,
    action: status === 'healthy' || status === 'warning' ? 'none' : 'alert',
    message: `it is ${status}`,
    ...(status === 'stale' ? { cause: 'scanner_silent' } : {}),
    ...(status === 'down' ? { cause: 'no_heartbeat' } : {}),
    ...extra,
  }) as HealthResult;

let redis: RedisConnection;
const closers: Array<() => Promise<void>> = [];
const fast = { retryDelaysMs: [5, 10, 20], timeoutMs: 2000 };

beforeAll(() => {
  redis = createRedis(testConfig());
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(() => {
  redis.disconnect();
});

function alerter(url: string, prefix: string, opts: Partial<Parameters<typeof createAlerter>[0]> = {}): Alerter {
  const a = createAlerter({ urls: [url], redis, prefix, log: testLog, ...fast, ...opts });
  closers.push(() => a.stop());
  return a;
}

describe('alerts', () => {
  it('one POST per change of status, none while it stays, "recovered" on the way back', async () => {
    const hook = await webhook();
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'));
    for (const s of ['healthy', 'healthy', 'warning', 'warning', 'stale', 'stale', 'down', 'healthy', 'healthy'] as const) a.notify(result(s));
    await a.idle();
    expect(hook.received.events.map((e) => [e.body.status, e.body.previous])).toEqual([
      ['warning', 'healthy'],
      ['stale', 'warning'],
      ['down', 'stale:scanner_silent'],
      ['healthy', 'down:no_heartbeat'],
    ]);
    const [warning, stale, , recovered] = hook.received.events.map((e) => e.body);
    expect(warning!.text).toBe('⚠️ scan-bridge warning (was healthy): it is warning');
    expect(warning!.content).toBe(warning!.text);
    expect(stale!.text).toMatch(/^⚠️ scan-bridge stale \(scanner_silent\) \(was warning\): /);
    expect(stale).toMatchObject({ cause: 'scanner_silent', dataAgeS: 70, scanNumber: 42, action: 'alert' });
    expect(recovered!.text).toBe('✅ scan-bridge recovered: healthy (was down no_heartbeat). it is healthy');
  });

  it('a bridge starting up is no news: no alert, and the state before it stays the one compared with', async () => {
    const hook = await webhook();
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'));
    const starting = result('warning', { cause: 'starting', message: 'bridge b:1 started 2.0 s ago and is catching up' });
    for (const r of [starting, starting, result('healthy'), result('stale'), starting, result('healthy')]) a.notify(r);
    await a.idle();
    expect(hook.received.events.map((e) => [e.body.status, e.body.previous])).toEqual([
      ['stale', 'healthy'],
      ['healthy', 'stale:scanner_silent'],
    ]);
  });

  it('a change of cause is a change: down, then down because the restart failed', async () => {
    const hook = await webhook();
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'));
    a.notify(result('down'));
    a.notify(result('down', { cause: 'restart_failed', message: 'the last restart failed' }));
    a.notify(result('down', { cause: 'restart_failed', message: 'the last restart failed' }));
    await a.idle();
    expect(hook.received.events.map((e) => e.body.cause)).toEqual(['no_heartbeat', 'restart_failed']);
  });

  it('the last alerted status is shared through Redis: two workers, one POST; a restarted worker does not repeat it', async () => {
    const hook = await webhook();
    closers.push(() => hook.close());
    const prefix = uniq('alerts');
    const a = alerter(hook.url, prefix);
    const b = alerter(hook.url, prefix);
    a.notify(result('stale'));
    b.notify(result('stale'));
    await Promise.all([a.idle(), b.idle()]);
    expect(hook.received.events).toHaveLength(1);
    expect(await redis.get(alertKey(prefix))).toBe('stale:scanner_silent');

    const restarted = alerter(hook.url, prefix);
    restarted.notify(result('stale'));
    restarted.notify(result('healthy'));
    await restarted.idle();
    expect(hook.received.events.map((e) => e.body.status)).toEqual(['stale', 'healthy']);
  });

  it('retries with backoff until the webhook takes it', async () => {
    const hook = await webhook(['fail', 'fail']);
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'));
    a.notify(result('warning'));
    await a.idle();
    expect(hook.received.events.map((e) => e.answered)).toEqual(['fail', 'fail', 'ok']);
    expect(hook.texts()).toEqual(['⚠️ scan-bridge warning: it is warning']);
  });

  it('gives up after its tries without throwing, and alerts the next change', async () => {
    const hook = await webhook(['fail', 'fail', 'fail', 'fail']);
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'));
    a.notify(result('warning'));
    await a.idle();
    a.notify(result('stale'));
    await a.idle();
    expect(hook.received.events.map((e) => [e.body.status, e.answered])).toEqual([
      ['warning', 'fail'],
      ['warning', 'fail'],
      ['warning', 'fail'],
      ['warning', 'fail'],
      ['stale', 'ok'],
    ]);
  });

  it('an alert failing at a webhook is not retried once a newer one waits for it: the newer one goes next, naming the state before', async () => {
    const hook = await webhook(['fail']);
    closers.push(() => hook.close());
    const a = alerter(hook.url, uniq('alerts'), { retryDelaysMs: [5000] });
    a.notify(result('warning'));
    await hook.received.until((e) => e.answered === 'fail', 5000, 'the first try');
    a.notify(result('stale'));
    // The warning's retry would come 5 s later; the stale alert does not wait for it.
    await hook.received.until((e) => e.body.status === 'stale' && e.answered === 'ok', 3000, 'the stale alert');
    expect(hook.received.events.map((e) => [e.body.status, e.body.previous, e.answered])).toEqual([
      ['warning', null, 'fail'],
      ['stale', 'warning', 'ok'],
    ]);
  });

  it('a webhook that never answers does not hold up the health check', async () => {
    const hook = await webhook(['hang']);
    closers.push(() => hook.close());
    const config = testConfig();
    const hazelcast = await createHazelcast(config, testLog);
    closers.push(() => hazelcast.shutdown());
    expect(await hazelcast.waitConnected(20_000)).toBe(true);
    const a = alerter(hook.url, config.queuePrefix, { timeoutMs: 60_000 });
    // A bridge ran here once: no heartbeat now is down, not a system still starting.
    await redis.set(keys(config.queuePrefix).generation, '1');
    const check = await runHealthCheck({ config, redis, hazelcast, log: testLog, onResult: (r) => a.notify(r) });
    expect(check.status).toBe('down');
    // The webhook holds the POST open, and the check has already returned its result.
    const pending = await hook.received.until((e) => e.answered === 'hang', 20_000, 'the alert POST');
    expect(pending.body.status).toBe('down');
  });

  it('a dead webhook (nothing listening) is logged, never thrown', async () => {
    const hook = await webhook();
    const url = hook.url;
    await hook.close();
    const a = alerter(url, uniq('alerts'));
    a.notify(result('error', { cause: 'hazelcast_unreachable', error: 'gone' }));
    await expect(a.idle()).resolves.toBeUndefined();
  });
});

describe('alerts from the job worker', () => {
  it('ALERT_WEBHOOK_URL: scheduled-style checks alert on the change and on recovery', async () => {
    const hook = await webhook();
    closers.push(() => hook.close());
    const config = testConfig({ ALERT_WEBHOOK_URL: hook.url });
    const hazelcast = await createHazelcast(config, testLog);
    closers.push(() => hazelcast.shutdown());
    expect(await hazelcast.waitConnected(20_000)).toBe(true);
    const workers = await startJobWorkers(config, testLog, hazelcast);
    closers.push(() => workers.stop());
    const queue = new Queue(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
    const events = new QueueEvents(QUEUES.healthCheck, { connection: createRedis(config), prefix: config.queuePrefix });
    await events.waitUntilReady();
    closers.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
      await events.close();
      await (await hazelcast.client.getMap(config.hzMap)).destroy();
    });
    const check = async () => {
      const job = await queue.add('health-check', { trigger: 'manual' });
      return (await job.waitUntilFinished(events, 20_000)) as HealthResult;
    };

    // A bridge past its start-up grace and no scan anywhere: stale, the scanner is silent.
    const now = Date.now();
    const hb: Heartbeat = { id: 'test:1', host: 'test', pid: 1, startedAt: now - 120_000, generation: 1, beatAt: now, watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(hb), 'PX', 60_000);
    expect((await check()).status).toBe('stale');
    await hook.received.until((e) => e.body.status === 'stale', 20_000, 'the stale alert');
    expect((await check()).status).toBe('stale');

    const map = await hazelcast.client.getMap<string, string>(config.hzMap);
    await map.set(config.hzKey, JSON.stringify({ scan_number: 1, timestamp_ms: Date.now(), asset_count: 10, timestamp: new Date().toISOString() }));
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify({ ...hb, beatAt: Date.now() }), 'PX', 60_000);
    expect((await check()).status).toBe('healthy');
    const recovered = await hook.received.until((e) => e.body.status === 'healthy', 20_000, 'the recovery alert');
    expect(recovered.body.text).toMatch(/^✅ scan-bridge recovered/);
    expect(hook.received.events.map((e) => e.body.status)).toEqual(['stale', 'healthy']);
  });
});
