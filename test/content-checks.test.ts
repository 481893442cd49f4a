/**
 * Content checks end to end (issue 25): scans written by pyarrow (test/fixtures/content_scans.py)
 * land one by one in the folder of a real bridge on real Redis and Hazelcast; the health check
 * reads the content facts the bridge keeps in its stats and warns by rule; the gates (`wait`,
 * `GET /api/ready`, the Python client) report the warning, and only in strict mode refuse.
 * Needs python3 + pyarrow + hazelcast-python-client.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBridgeFacts } from '../src/bridge/facts.js';
import type { BridgeEvent } from '../src/bridge/bridge.js';
import { runBridge, type RunningBridge } from '../src/bridge/run.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { resolveConfig } from '../src/config.js';
import { createHazelcast, createRedis, type Hazelcast, type RedisConnection } from '../src/connections.js';
import type { ContentWarning } from '../src/content/rules.js';
import { runHealthCheck, type HealthCheckDeps } from '../src/jobs/health-check.js';
import { openQueues } from '../src/ops.js';
import type { Readiness } from '../src/ready/decide.js';
import { createApp } from '../src/server/app.js';
import { createAlerter } from '../src/alerts.js';
import { runPython, waitCli } from './consumers.js';
import { receiver } from './receiver.js';
import { EventLog, eventually, tempDir, testEnv, testLog } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/content_scans.py', import.meta.url));

let hz: Hazelcast;
let redis: RedisConnection;
const runs: RunningBridge[] = [];
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  const config = resolveConfig(testEnv());
  hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  redis = createRedis(config);
});
afterAll(async () => {
  for (const r of runs) await r.stop();
  for (const c of closers) await c();
  await hz.shutdown();
  redis.disconnect();
});

type Spec = { values: number; assets?: number; drop?: string[]; nan?: string[] };

/** A bridge of its own on the real servers, and a scanner that writes with pyarrow. */
async function world() {
  const env = testEnv({ BRIDGE_HEARTBEAT_MS: '100', BRIDGE_HEARTBEAT_TTL_MS: '5000' });
  const config = resolveConfig(env);
  const events = new EventLog<BridgeEvent>();
  const run = await runBridge(config, redis, testLog, { onEvent: events.push });
  runs.push(run);
  const hook = await receiver();
  const alerter = createAlerter({ urls: [hook.url('/chat')], redis, prefix: config.queuePrefix, log: testLog, retryDelaysMs: [10], timeoutMs: 2000 });
  closers.push(async () => {
    await alerter.stop();
    await hook.close();
  });
  const deps: HealthCheckDeps = { config, redis, hazelcast: hz, log: testLog, onResult: (r) => alerter.notify(r) };
  const staging = tempDir('content-staging-');
  let next = 1;
  let lastT = 0;

  /** Writes the scans with pyarrow (one process), then moves each into the scan folder once the one before is pushed. */
  async function scans(specs: Spec[]): Promise<number> {
    const start = Math.max(Date.now(), lastT + 10);
    const planned = specs.map((s, i) => ({
      n: next + i,
      t_ms: start + i * 10,
      assets: s.assets ?? 50,
      values: s.values,
      drop: s.drop ?? [],
      nan: s.nan ?? [],
    }));
    execFileSync('python3', [WRITER, staging, JSON.stringify(planned)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    for (const p of planned) {
      const at = new Date(p.t_ms);
      const day = dayFolder(at);
      mkdirSync(join(config.arrowDir, day), { recursive: true });
      renameSync(join(staging, day, scanFileName(p.n, at)), join(config.arrowDir, day, scanFileName(p.n, at)));
      await events.until((e) => e.type === 'pushed' && e.scanNumber === p.n, 20_000, `scan #${p.n} pushed`);
    }
    next += specs.length;
    lastT = planned[planned.length - 1]!.t_ms;
    return next - 1;
  }

  /** A health check once the bridge's stats in Redis hold the facts of scan `last`. */
  async function check(last: number) {
    await eventually(`the facts of scan #${last} in the bridge's stats`, async () => {
      const f = await readBridgeFacts(redis, config.queuePrefix);
      return f.stats?.content?.entries.at(-1)?.scanNumber === last ? true : undefined;
    });
    return runHealthCheck(deps);
  }

  const normal = (from: number, count: number, more: Partial<Spec> = {}): Spec[] => Array.from({ length: count }, (_, i) => ({ values: from + i, ...more }));
  /** The chat alerts so far: [status, cause, previous state]. */
  const alerts = async () => {
    await alerter.idle();
    return hook.at('/chat').map((r) => [r.body?.status, r.body?.cause ?? null, r.body?.previous]);
  };
  return { env, config, deps, scans, check, normal, alerts };
}

const rules = (c: ContentWarning[] | undefined) => (c ?? []).map((w) => w.rule);

describe('content checks on real servers, scans written by pyarrow', () => {
  it('frozen: 12 identical scans give a warning (action none) that the gates report, strict ones refuse; the next normal scans clear it', async () => {
    const w = await world();
    let last = await w.scans(w.normal(1, 5));
    const before = await w.check(last);
    expect(before).toMatchObject({ status: 'healthy', content: [] });

    last = await w.scans(Array.from({ length: 12 }, () => ({ values: 99 })));
    const frozen = await w.check(last);
    expect(frozen).toMatchObject({ status: 'warning', cause: 'content_frozen', action: 'none', scanNumber: last });
    expect(frozen.message).toContain(`scans #6 to #17 (12 in a row) carry the same values`);
    expect(frozen.message).toContain('CONTENT_FROZEN_SCANS=5');
    expect(rules(frozen.content)).toEqual(['frozen']);
    // Checks while it lasts: the same episode, no new alert.
    expect(await runHealthCheck(w.deps)).toMatchObject({ status: 'warning', cause: 'content_frozen' });
    expect(await w.alerts()).toEqual([['warning', 'content_frozen', 'healthy']]);

    // The gates: GET /api/ready, `scan-bridge wait`, the Python client.
    const app = createApp({ config: w.config, redis, hazelcast: hz, queues: openQueues(w.config, redis, testLog), log: testLog });
    const server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const plain = await fetch(`${url}/api/ready`);
      expect(plain.status).toBe(200);
      expect(await plain.json()).toMatchObject({ ready: true, strict: false, content: [{ rule: 'frozen', cause: 'content_frozen' }] });
      const strict = await fetch(`${url}/api/ready?strict=1`);
      expect(strict.status).toBe(503);
      const body = (await strict.json()) as Readiness;
      expect(body).toMatchObject({ ready: false, strict: true });
      expect(body.missing).toEqual([expect.stringMatching(/^content warning \(strict\): frozen content: scans #6 to #17/)]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('scan_bridge_content_warning{rule="frozen"} 1');
      expect(metrics).toContain('scan_bridge_content_warning{rule="asset_count"} 0');
      // The status page's incidents.
      const availability = (await (await fetch(`${url}/api/availability`)).json()) as {
        incidents: Array<{ status: string; cause: string | null; end: number | null }>;
      };
      expect(availability.incidents[0]).toMatchObject({ status: 'warning', cause: 'content_frozen', end: null });
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }

    const cli = waitCli(w.env, '--json', '--timeout', '0');
    expect((await cli.exited).code, cli.err()).toBe(0);
    expect(JSON.parse(cli.out())).toMatchObject({ ready: true, content: [{ rule: 'frozen' }] });
    const cliStrict = waitCli(w.env, '--json', '--strict', '--timeout', '0');
    expect((await cliStrict.exited).code, cliStrict.err()).toBe(1);
    expect(JSON.parse(cliStrict.out())).toMatchObject({ ready: false, strict: true, content: [{ rule: 'frozen' }] });

    const py = runPython(
      `
import json, scan_bridge_client as c
with c.ScanBridgeClient() as b:
    out = {"plain": b.readiness(max_age_s=60), "strict": b.readiness(max_age_s=60, strict=True)}
    try:
        b.wait_until_fresh(max_age_s=60, timeout_s=0.3, strict=True)
        out["waited"] = "returned"
    except TimeoutError as e:
        out["waited"] = str(e)
    out["fresh"] = b.wait_until_fresh(max_age_s=60, timeout_s=5)["scan_number"]
print(json.dumps(out))
`,
      w.env,
    );
    expect((await py.exited).code, py.err()).toBe(0);
    const got = JSON.parse(py.out()) as Record<string, { ready: boolean; content: ContentWarning[] } | string | number>;
    expect(got.plain).toMatchObject({ ready: true, content: [{ rule: 'frozen' }] });
    expect(got.strict).toMatchObject({ ready: false, content: [{ rule: 'frozen' }] });
    expect(got.waited).toMatch(/^not ready after 0.3 s: content warning \(strict\): frozen content/);
    expect(got.fresh).toBe(last);

    last = await w.scans(w.normal(200, 2));
    const cleared = await w.check(last);
    expect(cleared).toMatchObject({ status: 'healthy', content: [] });
    expect(await w.alerts()).toEqual([
      ['warning', 'content_frozen', 'healthy'],
      ['healthy', null, 'warning:content_frozen'],
    ]);
    const afterCli = waitCli(w.env, '--json', '--strict', '--timeout', '0');
    expect((await afterCli.exited).code, afterCli.err()).toBe(0);
  }, 120_000);

  it('asset count: a drop from 50 to 10 assets gives a warning naming the figures; a normal count clears it', async () => {
    const w = await world();
    await w.scans(w.normal(1, 5));
    const last = await w.scans([{ values: 50, assets: 10 }]);
    const r = await w.check(last);
    expect(r).toMatchObject({ status: 'warning', cause: 'content_asset_count', action: 'none' });
    expect(r.message).toContain('scan #6 has 10 assets, 80 % below the median of 50 over the 5 scans before it (CONTENT_ASSET_BAND_PCT=30)');
    expect(await w.check(await w.scans(w.normal(60, 1)))).toMatchObject({ status: 'healthy', content: [] });
  }, 60_000);

  it('schema: a scan without its vel_div column gives a warning naming the change', async () => {
    const w = await world();
    await w.scans(w.normal(1, 4));
    const last = await w.scans([{ values: 5, drop: ['vel_div'] }]);
    const r = await w.check(last);
    expect(r).toMatchObject({ status: 'warning', cause: 'content_schema', action: 'none' });
    expect(r.message).toContain('schema changed: scan #5 (the latest scan) differs from scan #4: vel_div (float64) removed');
    expect(rules(r.content)).toEqual(['schema']);
  }, 60_000);

  it('nulls: a numeric column gone all NaN gives a warning naming the column and its share', async () => {
    const w = await world();
    await w.scans(w.normal(1, 4));
    const last = await w.scans(w.normal(5, 3, { nan: ['prices'] }));
    const r = await w.check(last);
    expect(r).toMatchObject({ status: 'warning', cause: 'content_nulls', action: 'none' });
    expect(r.message).toContain('numeric column prices went mostly null or NaN: 100 % in scan #7');
    expect(r.message).toContain('0 % in scan #4 (CONTENT_NULL_SHARE_PCT=50)');
    // The facts the bridge keeps, as `status --json` shows them.
    const facts = await readBridgeFacts(redis, w.config.queuePrefix);
    expect(facts.stats?.content.entries.at(-1)).toMatchObject({ scanNumber: 7, assetCount: 50, nullShare: { prices: 1 } });
  }, 60_000);
});
