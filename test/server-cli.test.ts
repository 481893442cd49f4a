import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { makeScan, writeScanAtomically } from '../src/demo/scan-writer.js';
import type { SystemStatus } from '../src/ops.js';
import type { HealthResult } from '../src/health.js';
import { HEALTH_SCHEDULER_ID } from '../src/scheduler.js';
import { eventually, killChildren, spawnRoles, testEnv, type Child } from './helpers.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `scan-bridge <args>` as scripts run it. */
function cli(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((ok) => {
    execFile(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, LOG_PRETTY: '0', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      ok({ code, stdout, stderr });
    });
  });
}

describe('the CLI against a running system', () => {
  let env: Record<string, string>;
  let system: Child;

  beforeAll(async () => {
    // Thresholds wide enough that the scans written here stay fresh however slow the machine.
    env = testEnv({ HEALTH_INTERVAL_MS: '1000', DATA_WARNING_S: '120', DATA_STALE_S: '240' });
    for (let n = 1; n <= 2; n++) await writeScanAtomically(env.ARROW_DIR!, makeScan({ scanNumber: n, time: new Date(), assets: 30 }));
    system = spawnRoles(['scheduler', 'worker', 'bridge'], env);
    await eventually(
      'the bridge to push scan #2',
      async () => {
        const r = await cli(['status', '--json'], env);
        const s = r.code === 0 ? (JSON.parse(r.stdout) as SystemStatus) : undefined;
        return s?.latestScan && 'scanNumber' in s.latestScan && s.latestScan.scanNumber === 2 && s.health?.status === 'healthy' ? s : undefined;
      },
      30_000,
    );
  });

  afterAll(async () => {
    if (system && system.proc.exitCode === null) {
      system.signal('SIGTERM');
      await system.exited;
    }
    await killChildren();
  });

  it('status --json: schedules, workers, the live bridge, the latest scan and health', async () => {
    const r = await cli(['status', '--json'], env);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as SystemStatus;
    expect(s.schedules.map((x) => x.id)).toContain(HEALTH_SCHEDULER_ID);
    expect(s.queues['health-check'].workers).toBeGreaterThanOrEqual(1);
    expect(s.bridge.heartbeat?.watching).toBe(true);
    expect(s.latestScan).toMatchObject({ scanNumber: 2, assetCount: 30 });
  });

  it('status: readable by people', async () => {
    const r = await cli(['status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Bridge\n {2}active: /m);
    expect(r.stdout).toMatch(/^Latest scan\n {2}#2 /m);
  });

  it('health: exit 0 when healthy, the result as JSON with --json', async () => {
    const r = await cli(['health', '--json'], env);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as HealthResult;
    expect(result).toMatchObject({ status: 'healthy', scanNumber: 2 });
  });

  it('trigger: queues a job by hand; an unknown name is a clear error', async () => {
    const hc = await cli(['trigger', 'health-check'], env);
    expect(hc.code).toBe(0);
    expect(hc.stdout).toMatch(/^queued health-check as job \S+ in queue health-check/);
    const bad = await cli(['trigger', 'nonsense'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/health-check/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the CLI when something is wrong', () => {
  it('Redis unreachable: one clear line and exit 2, no stack trace', async () => {
    const env = testEnv({ REDIS_URL: 'redis://127.0.0.1:1' });
    for (const args of [['status'], ['trigger', 'health-check']]) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      // In words, not the driver's text ("Connection is closed.", "connect ECONNREFUSED …").
      expect(r.stderr, args.join(' ')).toMatch(
        /redis at redis:\/\/127\.0\.0\.1:1 is unreachable: (connection refused|connection lost|no connection|no answer in time)\n/,
      );
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    // `health` reports the outage as its result: status error, exit 2.
    const health = await cli(['health'], env);
    expect(health.code).toBe(2);
    expect(health.stdout).toMatch(/^ERROR \(redis_unreachable\): Redis is unreachable/);
    expect(health.stderr).not.toMatch(/\n\s+at /);
  });

  it('the board refuses a non-loopback BOARD_HOST without a login, naming the settings', async () => {
    const r = await cli(['start', '--role', 'board'], testEnv({ BOARD_HOST: '0.0.0.0', BOARD_PORT: '0' }));
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/BOARD_HOST="0\.0\.0\.0" is not valid: .*BOARD_USER and BOARD_PASSWORD/);
  });
});

describe('the CLI on a dead system', () => {
  afterAll(killChildren);

  it('status: exit 0 while all runs; after the only process was SIGKILLed, exit 2 naming the dead bridge, workers and board, then the overdue check', async () => {
    const env = testEnv({ HEALTH_INTERVAL_MS: '1000', BOARD_PORT: '0', DATA_WARNING_S: '120', DATA_STALE_S: '240' });
    await writeScanAtomically(env.ARROW_DIR!, makeScan({ scanNumber: 1, time: new Date(), assets: 30 }));
    const system = spawnRoles(['all'], env);
    const running = await eventually(
      'a healthy check and the board announced',
      async () => {
        const r = await cli(['status', '--json'], env);
        const s = JSON.parse(r.stdout) as SystemStatus;
        return s.health?.status === 'healthy' && s.board ? r : undefined;
      },
      40_000,
    );
    expect(running.code).toBe(0);
    const { board } = JSON.parse(running.stdout) as SystemStatus;

    system.signal('SIGKILL');
    await system.exited;
    const dead = await cli(['status'], env);
    expect(dead.code).toBe(2);
    expect(dead.stdout).toMatch(/^UNHEALTHY: /);
    expect(dead.stdout).toMatch(/no bridge worker is connected/);
    expect(dead.stdout).toMatch(/no job worker is connected: health checks and restarts do not run/);
    expect(dead.stdout).toContain(`board ${board!.board} (pid ${board!.pid} on ${board!.host}) refuses connections`);

    // Once the schedule's next check is due and nobody ran it: overdue, with when it was due.
    const overdue = await eventually(
      'status to call the check overdue',
      async () => {
        const r = await cli(['status'], env);
        return /health check overdue: due at \S+ \(\d+ s ago\)/.test(r.stdout) ? r : undefined;
      },
      30_000,
    );
    expect(overdue.code).toBe(2);
    expect(overdue.stdout).toMatch(/next \S+ \(overdue by \d+ s\)/);
    const json = JSON.parse((await cli(['status', '--json'], env)).stdout) as { problems: Array<{ part: string; severity: string }> };
    expect(json.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ part: 'bridge', severity: 'unhealthy' }),
        expect.objectContaining({ part: 'workers', severity: 'unhealthy' }),
        expect.objectContaining({ part: 'checks', severity: 'unhealthy' }),
        expect.objectContaining({ part: 'board', severity: 'warning' }),
      ]),
    );
  });

  it('trigger: with no worker on the queue, warns, exits 1 and says truthfully the job waits in the queue', async () => {
    const env = testEnv();
    const r = await cli(['trigger', 'health-check'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^queued health-check as job \S+ in queue health-check/);
    expect(r.stderr).toMatch(/no worker listens to queue health-check: the job waits there until one starts/);
    const restart = await cli(['trigger', 'restart-bridge'], env);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(/no worker listens to queue restart-bridge/);
    expect(restart.stderr).toMatch(/no bridge worker is connected/);
  });
});
