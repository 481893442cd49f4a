import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { resolveConfig, type Config } from '../src/config.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, type Child } from './helpers.js';

let hz: Hazelcast;
beforeAll(async () => {
  hz = await createHazelcast(resolveConfig(testEnv()), testLog, { kind: 'command', timeoutMs: 10_000 });
});
afterAll(async () => {
  await hz.shutdown();
});
afterEach(killChildren);

/** The inotify instances and watches a process holds, from /proc/<pid>/fd and fdinfo. */
function inotifyOf(pid: number): { instances: number; watches: number } {
  let instances = 0;
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target !== 'anon_inode:inotify') continue;
    instances++;
    watches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('inotify wd:')).length;
  }
  return { instances, watches };
}

/** A bridge process (`start --role bridge`) on its own names, started and watching. */
async function bridgeProcess(env: Record<string, string>): Promise<{ child: Child; config: Config; env: Record<string, string> }> {
  const e = testEnv({ BRIDGE_HEARTBEAT_MS: '200', ...env });
  const config = resolveConfig(e);
  const child = spawnRoles(['bridge'], e);
  await eventually('the bridge watching', () => (/"msg":"watching /.test(child.output()) ? true : undefined), 30_000);
  return { child, config, env: e };
}

async function latestValue(config: Config): Promise<{ scan_number: number; written_at_ms: number } | null> {
  const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
  return v === null ? null : (JSON.parse(v) as { scan_number: number; written_at_ms: number });
}

/** Stages scan `n` of time `at` under a dotted temp name; `publish` renames it into place. */
function stage(config: Config, n: number, at: Date): { publish(): number } {
  const dir = join(config.arrowDir, dayFolder(at));
  mkdirSync(dir, { recursive: true });
  const name = scanFileName(n, at);
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, encodeScan(makeScan({ scanNumber: n, time: at, assets: 3 })));
  return {
    publish() {
      renameSync(tmp, join(dir, name));
      return Date.now();
    },
  };
}

describe('WATCH_MODE=poll', () => {
  it('holds no inotify watch, says why it polls, and lands every scan of a stream within WATCH_POLL_MS + 100 ms', async () => {
    const pollMs = 500;
    const { child, config, env } = await bridgeProcess({ WATCH_MODE: 'poll', WATCH_POLL_MS: String(pollMs) });
    expect(child.output()).toMatch(/"msg":"watching .* by polling every 500 ms \(WATCH_MODE=poll\)/);
    expect(inotifyOf(child.pid)).toEqual({ instances: 0, watches: 0 });

    const latencies: number[] = [];
    for (let n = 1; n <= 12; n++) {
      const staged = stage(config, n, new Date());
      const at = staged.publish();
      // Landed when the bridge wrote it (`written_at_ms`, set just before the write), so that this
      // test's own polling of Hazelcast does not count.
      const written = await eventually(
        `scan #${n} in Hazelcast`,
        async () => {
          const v = await latestValue(config);
          return v?.scan_number === n ? v.written_at_ms : undefined;
        },
        5000,
      );
      latencies.push(written - at);
      // Spread the scans over the poll cycle rather than in step with it.
      await new Promise((r) => setTimeout(r, 170));
    }
    expect(Math.max(...latencies), `latencies ${latencies.join(', ')} ms`).toBeLessThanOrEqual(pollMs + 100);
    expect(inotifyOf(child.pid)).toEqual({ instances: 0, watches: 0 });

    // `status` says how the bridge watches and why.
    const status = execFileSync(process.execPath, ['dist/cli.js', 'status'], {
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(status).toContain('watch mode: poll (WATCH_MODE=poll)');
  });
});

describe('WATCH_MODE=events with lost events', () => {
  const queuedPath = '/proc/sys/fs/inotify/max_queued_events';
  const original = readFileSync(queuedPath, 'utf8').trim();
  const restore = () => writeFileSync(queuedPath, original);
  afterAll(restore);

  it('finds the newest of a 2,000-file burst within WATCH_RESCAN_MS + 1 s although inotify dropped events', async () => {
    const rescanMs = 2000;
    const e = testEnv({ WATCH_MODE: 'events', WATCH_RESCAN_MS: String(rescanMs), BRIDGE_HEARTBEAT_MS: '200' });
    const config = resolveConfig(e);
    const base = Date.now() - 200_000;
    mkdirSync(join(config.arrowDir, dayFolder(new Date(base))), { recursive: true });
    let child: Child;
    // The queue length is fixed when a process creates its inotify instance: tiny only until then,
    // as other processes on this machine may start meanwhile.
    writeFileSync(queuedPath, '8');
    try {
      child = spawnRoles(['bridge'], e);
      await eventually('the bridge holding inotify watches', () => (inotifyOf(child.pid).watches >= 2 ? true : undefined), 30_000);
    } finally {
      restore();
    }
    // The watches are in place a moment before the bridge says so.
    await eventually('the bridge saying how it watches', () => (/"msg":"watching /.test(child.output()) ? true : undefined), 30_000);
    expect(child.output()).toMatch(/"msg":"watching .* with inotify events and a rescan every 2000 ms \(WATCH_MODE=events\)/);

    const staged = Array.from({ length: 2000 }, (_, i) => stage(config, i + 1, new Date(base + i * 100)));
    let last = 0;
    for (const s of staged) last = s.publish();
    const written = await eventually(
      'scan #2000 in Hazelcast',
      async () => {
        const v = await latestValue(config);
        return v?.scan_number === 2000 ? v.written_at_ms : undefined;
      },
      20_000,
    );
    expect(written - last).toBeLessThanOrEqual(rescanMs + 1000);
  });
});
