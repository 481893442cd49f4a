import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, freePort } from '../scripts/servers/services.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { HEALTH_KEY } from '../src/ready/decide.js';
import { tempDir, testEnv, testLog } from './helpers.js';
import { runPython, waitCli } from './consumers.js';
import { PYTHON } from './python.js';

let hz: Hazelcast;
beforeAll(async () => {
  hz = await createHazelcast(resolveConfig(testEnv()), testLog, { kind: 'command', timeoutMs: 10_000 });
});
afterAll(async () => {
  await hz.shutdown();
});

const scan = (n: number, ageS: number) =>
  JSON.stringify({
    scan_number: n,
    timestamp: new Date().toISOString(),
    timestamp_ms: Date.now() - ageS * 1000,
    asset_count: 2,
    assets: ['BTCUSDT', 'ETHUSDT'],
  });
const health = (status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ status, checkedAt: Date.now(), validUntil: Date.now() + 60_000, message: status, ...extra });

/** `wait_until_fresh` answering at once: prints why it is not ready. */
const WAIT_ONCE = `
import scan_bridge_client as c
with c.ScanBridgeClient() as b:
    try:
        b.wait_until_fresh(max_age_s=30, timeout_s=0)
    except TimeoutError as e:
        print(e)
`;

async function world() {
  const env = testEnv();
  const config = resolveConfig(env);
  return { env, config, map: await hz.client.getMap<string, string>(config.hzMap) };
}

describe('Python client (clients/python, installed in the venv) against the real member', () => {
  it('latest_scan parses the payload; health() is the entry, None once past validUntil or absent; settings from HZ_*', async () => {
    const { env, config, map } = await world();
    await map.set(config.hzKey, scan(7, 1));
    await map.set(HEALTH_KEY, health('healthy'));
    const script = `
import json, scan_bridge_client as c
with c.ScanBridgeClient() as b:
    print(json.dumps({"scan": b.latest_scan(), "health": b.health()}))
`;
    const r = runPython(script, env);
    expect((await r.exited).code, r.err()).toBe(0);
    const got = JSON.parse(r.out()) as { scan: Record<string, unknown>; health: Record<string, unknown> };
    expect(got.scan).toMatchObject({ scan_number: 7, asset_count: 2, assets: ['BTCUSDT', 'ETHUSDT'] });
    expect(got.health).toMatchObject({ status: 'healthy' });

    await map.set(HEALTH_KEY, health('healthy', { validUntil: Date.now() - 1 }));
    const expired = runPython(script, env);
    expect((await expired.exited).code, expired.err()).toBe(0);
    expect(JSON.parse(expired.out())).toMatchObject({ scan: { scan_number: 7 }, health: null });

    // Arguments instead of the environment.
    const byArgs = runPython(
      `
import json, scan_bridge_client as c
b = c.ScanBridgeClient(members=${JSON.stringify(env.HZ_MEMBERS)}, cluster_name=${JSON.stringify(env.HZ_CLUSTER_NAME)}, map_name=${JSON.stringify(config.hzMap)}, key="nothing_here")
print(json.dumps(b.latest_scan())); b.close()
`,
      { PATH: process.env.PATH ?? '' },
    );
    expect((await byArgs.exited).code, byArgs.err()).toBe(0);
    expect(byArgs.out().trim()).toBe('null');
  });

  it('wait_until_fresh returns the scan that lands while it waits, woken by its entry listener', async () => {
    const { env, config, map } = await world();
    await map.set(config.hzKey, scan(8, 120));
    await map.set(HEALTH_KEY, health('stale', { cause: 'scanner_silent' }));
    const r = runPython(
      `
import json, sys, time, scan_bridge_client as c
with c.ScanBridgeClient() as b:
    s = b.wait_until_fresh(max_age_s=5, timeout_s=60, on_waiting=lambda r: print("waiting: " + "; ".join(r["missing"]), flush=True))
    print(json.dumps({"scan": s["scan_number"], "returned_ms": time.time() * 1000}), flush=True)
`,
      env,
    );
    const waiting = await r.lines.until((l) => l.startsWith('waiting'), 30_000, 'the waiting line');
    expect(waiting).toMatch(/^waiting: data is 1\d\d\.\d s old \(scan #8\), over the 5 s limit$/);
    const wrote = Date.now();
    await map.set(config.hzKey, scan(9, 0));
    expect((await r.exited).code, r.err()).toBe(0);
    const got = JSON.parse(r.out().split('\n')[1]!) as { scan: number; returned_ms: number };
    expect(got.scan).toBe(9);
    expect(got.returned_ms - wrote).toBeLessThan(1000);
  });

  it('wait_until_fresh raises TimeoutError naming what is missing', async () => {
    const { env, config, map } = await world();
    await map.set(config.hzKey, scan(10, 1));
    await map.set(HEALTH_KEY, health('down', { cause: 'no_heartbeat' }));
    const r = runPython(
      `
import scan_bridge_client as c
with c.ScanBridgeClient() as b:
    try:
        b.wait_until_fresh(max_age_s=30, timeout_s=0.5)
    except TimeoutError as e:
        print(e)
`,
      env,
    );
    expect((await r.exited).code, r.err()).toBe(0);
    expect(r.out().trim()).toBe('not ready after 0.5 s: the last health check says down (no_heartbeat)');
  });

  it('wait_until_fresh refuses a value stamped in 2099 or one that is no scan, naming why as scan-bridge wait does (issue 20)', async () => {
    const { env, config, map } = await world();
    await map.set(HEALTH_KEY, health('healthy'));
    const forged = { scan_number: 999999, timestamp: '2099-01-01T00:00:00.000Z', timestamp_ms: 4070908800000, asset_count: 3, bridge_id: 'elsewhere' };
    for (const value of [JSON.stringify(forged), JSON.stringify({ scan_number: 'abc', timestamp_ms: Date.now() }), 'not json', '[1]']) {
      await map.set(config.hzKey, value);
      const r = runPython(WAIT_ONCE, env);
      const w = waitCli(env, '--timeout', '0');
      expect((await r.exited).code, r.err()).toBe(0);
      expect((await w.exited).code).toBe(1);
      expect(r.out()).toMatch(/^not ready after 0 s: the value in Hazelcast is no usable scan: /);
      // The same words, but for the skew's decimals (the two read the clock a moment apart).
      const digits = (t: string) => t.replace(/\d+(\.\d+)? s ahead/, 'N s ahead');
      expect(digits(r.out())).toBe(digits(w.out()));
    }
  });

  it('follows HZ_HEALTH_KEY, derived from HZ_KEY as the service does, or given as health_key (issue 20)', async () => {
    const { env, config, map } = await world();
    // Deployment A (default HZ_KEY) is healthy; deployment B has its own HZ_KEY and no entry of its own.
    await map.set(HEALTH_KEY, health('healthy'));
    const b = { ...env, HZ_KEY: 'latest_eigen_scan_b' };
    await map.set(resolveConfig(b).hzKey, scan(11, 1));
    await map.set(config.hzKey, scan(12, 1));
    const byEnv = runPython(WAIT_ONCE, b);
    expect((await byEnv.exited).code, byEnv.err()).toBe(0);
    expect(byEnv.out()).toBe('not ready after 0 s: no health entry (no health check within 3 intervals: nobody is checking)\n');
    await map.set(resolveConfig(b).hzHealthKey, health('healthy'));
    const own = runPython(
      `
import scan_bridge_client as c
with c.ScanBridgeClient() as b:
    print(b.health_key, b.wait_until_fresh(max_age_s=30, timeout_s=0)["scan_number"])
`,
      b,
    );
    expect((await own.exited).code, own.err()).toBe(0);
    expect(own.out()).toBe('scan_bridge_health:latest_eigen_scan_b 11\n');
    // As parameters: the key and health_key given, whatever the environment says.
    await map.set('elsewhere_health', health('down', { cause: 'no_heartbeat' }));
    const byArgs = runPython(
      `
import scan_bridge_client as c
with c.ScanBridgeClient(key="latest_eigen_scan_b", health_key="elsewhere_health") as b:
    print(b.health_key, b.readiness()["missing"])
`,
      env,
    );
    expect((await byArgs.exited).code, byArgs.err()).toBe(0);
    expect(byArgs.out()).toBe("elsewhere_health ['the last health check says down (no_heartbeat)']\n");
  });

  it('wait_until_fresh names everything that is missing, in the order scan-bridge wait does', async () => {
    const { env } = await world();
    const r = runPython(WAIT_ONCE, env);
    const w = waitCli(env, '--timeout', '0');
    expect((await r.exited).code, r.err()).toBe(0);
    expect((await w.exited).code).toBe(1);
    const both = 'not ready after 0 s: no scan in Hazelcast; no health entry (no health check within 3 intervals: nobody is checking)\n';
    expect(r.out()).toBe(both);
    expect(w.out()).toBe(both);
  });
});

describe('the Python client as a package (clients/python)', () => {
  it('pip install ./clients/python into a fresh virtual environment gives the module, from that environment, with its __version__', () => {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    const venv = mkdtempSync(join(ROOT, '.cache', 'test-venv-'));
    try {
      // Without a pip of its own (making one takes long): the project venv's pip installs into it.
      execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
      const py = join(venv, 'bin', 'python');
      // With its dependencies, as a user installs it: the declared ones must be enough to import it.
      execFileSync(PYTHON, ['-m', 'pip', '--python', py, 'install', '-q', '--disable-pip-version-check', './clients/python'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      });
      const got = JSON.parse(
        execFileSync(
          py,
          [
            '-c',
            'import json, importlib.metadata as m, scan_bridge_client as c; print(json.dumps([c.__version__, m.version("scan-bridge-client"), c.__file__]))',
          ],
          { cwd: tempDir('sb-cwd-'), encoding: 'utf8' },
        ),
      ) as [string, string, string];
      expect(got[0]).toMatch(/^\d+\.\d+\.\d+$/);
      expect(got[1]).toBe(got[0]);
      expect(got[2].startsWith(venv)).toBe(true);
    } finally {
      rmSync(venv, { recursive: true, force: true });
    }
  }, 300_000);

  it('with no member answering, the constructor raises ConnectionError naming the members, without the driver traceback', async () => {
    const port = await freePort();
    const r = runPython(
      `
import scan_bridge_client as c
try:
    c.ScanBridgeClient(members="127.0.0.1:${port}", cluster_name="dev", connect_timeout_s=1)
except ConnectionError as e:
    print(type(e).__name__ + ": " + str(e))
    print("cause" if e.__cause__ is not None or not e.__suppress_context__ else "no cause")
`,
      {},
    );
    expect((await r.exited).code, r.err()).toBe(0);
    const [line, cause] = r.out().trim().split('\n');
    expect(line).toContain(`127.0.0.1:${port}`);
    expect(line).toMatch(/^ConnectionError: /);
    expect(cause).toBe('no cause');
    expect(r.err()).not.toMatch(/Traceback|IllegalStateError/);
  });
});
