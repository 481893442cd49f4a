/**
 * Health on the bad day (issue 20), against real bridge, worker and scheduler processes: a bad
 * newest file is named, never taken for a bridge behind (no restart, no flapping), and a silent
 * scanner is `scanner_silent` as soon as the bridge has caught up, in its first minute too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { keys } from '../src/keys.js';
import { QUEUES } from '../src/jobs/table.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import type { HealthResult } from '../src/health.js';
import { eventually, killChildren, spawnRoles, writeScanFile } from './helpers.js';
import { fastEnv, latestOf } from './bridge-roles.js';

afterEach(killChildren);

/** DATA_WARNING_S=3, DATA_STALE_S=6, a check every second; the default start-up grace (60 s) unless given. */
function env(extra: Record<string, string> = {}) {
  return fastEnv({ DATA_WARNING_S: '3', DATA_STALE_S: '6', ...extra });
}

/** A bridge run past its start-up grace by the time the data goes stale, as on a day long after it started. */
const PAST_GRACE = { BRIDGE_START_GRACE_S: '3' };

/** `scan-bridge ARGS` with these settings: its exit code and output. */
function cli(e: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((ok) =>
    execFile(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, LOG_PRETTY: '0', ...e } }, (err, stdout) =>
      ok({ code: err ? Number(err.code) : 0, stdout }),
    ),
  );
}

/** A scanner writing scans #1..#count, one every 0.5 s, each stamped when written; the moment of the last. */
async function scanner(e: Record<string, string>, count: number): Promise<number> {
  for (let n = 1; n <= count; n++) {
    writeScanFile(e.ARROW_DIR!, n);
    if (n < count) await new Promise((r) => setTimeout(r, 500));
  }
  return Date.now();
}

/** Everything Redis keeps of the checks so far, oldest first, and the restart jobs ever queued. */
async function record(e: Record<string, string>) {
  const config = resolveConfig(e);
  const redis = createRedis(config);
  const queue = new Queue(QUEUES.restartBridge, { connection: redis, prefix: config.queuePrefix });
  try {
    const k = keys(config.queuePrefix);
    const history = (await redis.lrange(k.healthHistory, 0, -1)).map((j) => JSON.parse(j) as HealthResult & { restartJobId?: string }).reverse();
    const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'waiting-children');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    const { heartbeat } = await readBridgeFacts(redis, config.queuePrefix);
    return { history, jobs, generation: heartbeat?.generation ?? null };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** For `ms`: fails at once if a restart job is queued or a check says bridge_behind. */
async function noRestartFor(e: Record<string, string>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const r = await record(e);
    expect(r.jobs, 'restart jobs queued').toBe(0);
    expect(r.history.filter((h) => 'cause' in h && h.cause === 'bridge_behind')).toEqual([]);
    await new Promise((res) => setTimeout(res, 500));
  }
}

describe('a bad newest file (finding 2)', () => {
  it('half of the newest scan written, then silence: after 25 s no restart job was queued and the cause is bad_newest_file, naming the file', async () => {
    const e = env(PAST_GRACE);
    const latest = await latestOf(e);
    try {
      const child = spawnRoles(['bridge', 'worker', 'scheduler'], e);
      await scanner(e, 3);
      await latest.until(3, 20_000);
      const { generation } = await eventually('the bridge heartbeat', async () => ((await record(e)).generation === null ? undefined : await record(e)));
      // The scanner dies mid-write: half of scan #4, in place, as the newest file.
      const at = new Date();
      mkdirSync(join(e.ARROW_DIR!, dayFolder(at)), { recursive: true });
      const rel = `${dayFolder(at)}/${scanFileName(4, at)}`;
      const whole = encodeScan(makeScan({ scanNumber: 4, time: at, assets: 400 }));
      writeFileSync(join(e.ARROW_DIR!, rel), whole.subarray(0, whole.length >> 1));

      await noRestartFor(e, 25_000);
      const r = await record(e);
      const last = r.history[r.history.length - 1]!;
      expect(last).toMatchObject({
        status: 'stale',
        cause: 'bad_newest_file',
        action: 'alert',
        scanNumber: 3,
        newestOnDisk: 3,
        file: { relPath: rel, scanNumber: 4 },
      });
      expect(last.message).toContain(rel);
      // One cause from the moment the data went stale: one alert, no flapping.
      const causes = r.history.filter((h) => h.status === 'stale').map((h) => ('cause' in h ? h.cause : ''));
      expect(causes.length).toBeGreaterThan(10);
      expect(new Set(causes)).toEqual(new Set(['bad_newest_file']));
      expect(r.generation).toBe(generation);
      expect(child.output()).not.toMatch(/restart job .* queued/);
      // The operator's view names it too: incomplete and waited on for 5 s, then rejected for good.
      expect((await cli(e, 'status')).stdout).toMatch(
        new RegExp(`newest file not delivered: ${rel} \\(rejected: .*still incomplete after 5000 ms without growing\\)`),
      );
    } finally {
      await latest.close();
    }
  }, 90_000);

  it('a newest scan refused for its stamp: clock_skew check after check, no restart, never bridge_behind', async () => {
    const e = env(PAST_GRACE);
    const latest = await latestOf(e);
    try {
      spawnRoles(['bridge', 'worker', 'scheduler'], e);
      await scanner(e, 2);
      await latest.until(2, 20_000);
      // Stamped a day ahead: the newest file by name, refused.
      const ahead = new Date(Date.now() + 86_400_000);
      writeScanFile(e.ARROW_DIR!, 3, 4, ahead);
      const rel = `${dayFolder(ahead)}/${scanFileName(3, ahead)}`;
      // Past DATA_STALE_S twice over: the refusal is "old" and the newest file still the same.
      await noRestartFor(e, 15_000);
      const stale = (await record(e)).history.filter((h) => h.status === 'stale');
      expect(stale.length).toBeGreaterThan(5);
      for (const h of stale) expect(h).toMatchObject({ cause: 'clock_skew', action: 'alert' });
      expect(stale[stale.length - 1]!.message).toContain(rel);
    } finally {
      await latest.close();
    }
  }, 90_000);
});

describe('the start-up grace ends once the bridge has caught up (finding 3)', () => {
  it("a scanner writing every 0.5 s stops: 9 s later `health` says stale (scanner_silent), in the bridge run's first minute", async () => {
    const e = env();
    const latest = await latestOf(e);
    try {
      spawnRoles(['bridge'], e);
      await eventually('the bridge heartbeat', async () => ((await record(e)).generation === null ? undefined : true));
      const stopped = await scanner(e, 6);
      await latest.until(6, 10_000);
      await new Promise((r) => setTimeout(r, stopped + 9_000 - Date.now()));
      const out = await cli(e, 'health', '--json');
      const result = JSON.parse(out.stdout) as HealthResult;
      expect(result).toMatchObject({ status: 'stale', cause: 'scanner_silent', action: 'alert', scanNumber: 6 });
      expect(result.bridge!.uptimeS).toBeLessThan(60);
      expect(out.code).toBe(2);
    } finally {
      await latest.close();
    }
  }, 60_000);
});
