/**
 * Hostile files against real bridge processes (the built CLI), as issue 8 found them: a file
 * that hangs apache-arrow, compression bombs, a sparse 2 GB file and a symlink to it, FIFOs, a
 * folder and a socket named like scans. The data keeps flowing, the process stays responsive,
 * and the quarantine is visible everywhere it should be.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { resolveConfig } from '../src/config.js';
import { createRedis } from '../src/connections.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { readQuarantine } from '../src/bridge/guards/quarantine.js';
import { QUEUES } from '../src/jobs/table.js';
import { eventually, killChildren, spawnRoles, testEnv, writeScanFile, type Child } from './helpers.js';
import { makeHostileFiles, peakRssMb } from './hostile-fixtures.js';
import { latestOf } from './bridge-roles.js';
import { PYTHON } from './python.js';

let fixtures = '';
beforeAll(() => {
  fixtures = makeHostileFiles();
}, 180_000);
afterAll(() => {
  if (fixtures) rmSync(fixtures, { recursive: true, force: true });
});
afterEach(killChildren);

function env(extra: Record<string, string> = {}) {
  return testEnv({
    BOARD_HOST: '127.0.0.1',
    BOARD_PORT: '0',
    BRIDGE_LOCK_MS: '3000',
    BRIDGE_HEARTBEAT_MS: '300',
    BRIDGE_HEARTBEAT_TTL_MS: '1500',
    DECODE_TIMEOUT_MS: '2000',
    ...extra,
  });
}

/** Where scan `n` stamped `at` goes, in its day folder (created). */
function scanPath(e: Record<string, string>, n: number, at = new Date()): string {
  const dir = join(e.ARROW_DIR!, dayFolder(at));
  mkdirSync(dir, { recursive: true });
  return join(dir, scanFileName(n, at));
}

/** Puts a fixture in place as scan `n` stamped `at`, atomically (copy to a dotted name, then rename). */
function placeFixture(e: Record<string, string>, name: string, n: number, at = new Date()): string {
  const dest = scanPath(e, n, at);
  const tmp = join(e.ARROW_DIR!, `.${n}.tmp`);
  copyFileSync(join(fixtures, `${name}.arrow`), tmp);
  renameSync(tmp, dest);
  return dest;
}

/** Probes `url` every 50 ms until stopped; returns the slowest answer, ms (Infinity for a failed probe). */
function probe(url: string) {
  let slowest = 0;
  let count = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      const ms = ok ? performance.now() - t0 : Infinity;
      slowest = Math.max(slowest, ms);
      count++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { slowest, count };
    },
  };
}

function cli(args: string[], e: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, LOG_PRETTY: '0', ...e }, timeout: 30_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function boardUrl(child: Child): Promise<string> {
  return eventually('the board to listen', () => /board listening on (http:\/\/\S+?)\/board\//.exec(child.output())?.[1], 30_000);
}

describe('a file that hangs the Arrow reader', () => {
  it('is stopped at DECODE_TIMEOUT_MS and quarantined; the next scan lands, /healthz stays fast, a standby skips it', async () => {
    const e = env();
    const first = spawnRoles(['bridge', 'board'], e);
    const url = await boardUrl(first);
    const latest = await latestOf(e);
    try {
      writeScanFile(e.ARROW_DIR!, 5);
      await latest.until(5, 30_000);
      // Measured once the process is warm: decoder threads loaded, a connection to the board open.
      await eventually('the decoder threads', () => (first.output().includes('decoder threads ready') ? true : undefined), 30_000);
      await fetch(`${url}/healthz`);
      const health = probe(`${url}/healthz`);
      // Scans are ordered by time, then number (scan-order.ts), and a file name has whole seconds.
      // The hanging file and #6, #7 carry one stamp: named #9, the hanging file is the newest on
      // disk when the standby starts, so the standby meets it first thing in its catch-up. (Stamped
      // at their writing, #7 would come seconds after it, and the standby would never look at it.)
      const stamp = new Date();
      const hanging = placeFixture(e, 'hanging', 9, stamp);
      const relHanging = hanging.slice(e.ARROW_DIR!.length + 1);
      const wroteAt = Date.now();
      writeScanFile(e.ARROW_DIR!, 6, 4, stamp);
      const landedAt = await latest.until(6, 2000 + 1000);
      expect(landedAt - wroteAt).toBeLessThan(2000 + 1000);
      await eventually(
        'the hanging file quarantined',
        () =>
          first.output().includes(`rejected ${relHanging}: decoding took longer than DECODE_TIMEOUT_MS (2000 ms); quarantined until it changes`)
            ? true
            : undefined,
        10_000,
      );
      writeScanFile(e.ARROW_DIR!, 7, 4, stamp);
      await latest.until(7, 2000);
      const { slowest, count } = await health.stop();
      expect(count).toBeGreaterThan(10);
      expect(slowest).toBeLessThan(100);

      // Visible: Redis, the CLI, /api/status, /metrics, the bridge job's log.
      const redis = createRedis(resolveConfig(e));
      try {
        const q = await readQuarantine(redis, e.QUEUE_PREFIX!);
        expect(q).toEqual([expect.objectContaining({ relPath: relHanging, limit: 'DECODE_TIMEOUT_MS', size: readFileSync(hanging).length })]);
      } finally {
        redis.disconnect();
      }
      const list = await cli(['quarantine', 'list'], e);
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(`${relHanging}  ${readFileSync(hanging).length} bytes`);
      const status = (await (await fetch(`${url}/api/status`)).json()) as { quarantine: { count: number; newest: Array<{ relPath: string }> } };
      expect(status.quarantine.count).toBe(1);
      expect(status.quarantine.newest.map((x) => x.relPath)).toEqual([relHanging]);
      expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^scan_bridge_quarantined_files 1$/m);
      const text = await cli(['status'], e);
      expect(text.stdout).toContain(`Quarantine (1)\n  ${relHanging}: decoding took longer than DECODE_TIMEOUT_MS`);
      const queue = new Queue(QUEUES.bridge, { connection: createRedis(resolveConfig(e)), prefix: e.QUEUE_PREFIX! });
      try {
        const [job] = await queue.getJobs(['active']);
        const { logs } = await queue.getJobLogs(job!.id!);
        expect(logs.some((l) => l.includes(`rejected ${relHanging}: decoding took longer than DECODE_TIMEOUT_MS`))).toBe(true);
      } finally {
        await queue.close();
      }

      // A standby started afterwards skips it (unread) and pushes the next scan at once.
      first.signal('SIGKILL');
      await first.exited;
      const standby = spawnRoles(['bridge'], e);
      await eventually(
        'the standby to skip the quarantined file',
        () => (standby.output().includes(`skipped ${relHanging}: quarantined since`) ? true : undefined),
        30_000,
      );
      const t0 = Date.now();
      writeScanFile(e.ARROW_DIR!, 8);
      await latest.until(8, 2000);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(standby.output()).not.toContain('decoder replaced');

      // Released by hand: read again (and quarantined again, being unchanged).
      const released = await cli(['quarantine', 'release', relHanging], e);
      expect(released.code).toBe(0);
      expect(released.stdout).toContain(`released ${relHanging}`);
      await eventually(
        'the standby to read it again',
        () => (standby.output().includes(`${relHanging} released from quarantine: reading it again`) ? true : undefined),
        10_000,
      );
      // Unchanged, it breaks the limit again and is back in quarantine.
      await eventually(
        'quarantined again',
        () => (standby.output().includes(`rejected ${relHanging}: decoding took longer than DECODE_TIMEOUT_MS`) ? true : undefined),
        10_000,
      );
      const other = await cli(['quarantine', 'release', 'no/such-file.arrow'], e);
      expect(other.code).toBe(1);
      expect(other.stdout).toContain('no/such-file.arrow is not quarantined');
    } finally {
      await latest.close();
    }
  }, 120_000);
});

describe('bombs and huge files', () => {
  it('LZ4 and ZSTD bombs, a sparse 2 GB file and a symlink to it are refused; RSS stays under 300 MB; the next scan lands', async () => {
    // The values bomb unpacks 64 MB before its values are refused: slow on a busy machine, and time is not what is tested here.
    const e = env({ DECODE_TIMEOUT_MS: '20000' });
    const bridge = spawnRoles(['bridge'], e);
    const latest = await latestOf(e);
    try {
      writeScanFile(e.ARROW_DIR!, 1);
      await latest.until(1, 30_000);
      const lz4 = placeFixture(e, 'lz4_bomb', 2);
      const zstd = placeFixture(e, 'zstd_bomb', 3);
      const values = placeFixture(e, 'values_bomb', 4);
      const sparse = scanPath(e, 5);
      execFileSync('truncate', ['-s', '2G', sparse]);
      const link = scanPath(e, 6);
      symlinkSync(sparse, link);
      writeScanFile(e.ARROW_DIR!, 7);
      await latest.until(7, 10_000);
      const rel = (p: string) => p.slice(e.ARROW_DIR!.length + 1);
      await eventually(
        'every hostile file rejected',
        () => {
          const out = bridge.output();
          // A file that changed while it was read (truncate: created, then extended) is read again, and then skipped as quarantined.
          return [lz4, zstd, values, sparse, link].every((p) => out.includes(`rejected ${rel(p)}:`) || out.includes(`skipped ${rel(p)}: quarantined`))
            ? out
            : undefined;
        },
        20_000,
      ).catch((err: Error) => {
        throw new Error(
          `${err.message}\n${bridge
            .output()
            .split('\n')
            .filter((l) => /rejected|skipped|decoder/.test(l))
            .join('\n')}`,
        );
      });
      const out = bridge.output();
      expect(out).toMatch(new RegExp(`rejected ${rel(lz4)}: LZ4 output would take 286\\.1 MiB, beyond MAX_SCAN_BYTES`));
      expect(out).toMatch(new RegExp(`rejected ${rel(zstd)}: ZSTD output would take 286\\.1 MiB, beyond MAX_SCAN_BYTES`));
      expect(out).toMatch(new RegExp(`rejected ${rel(values)}: its JS values would take .* beyond MAX_SCAN_BYTES`));
      for (const p of [sparse, link]) {
        expect(out).toMatch(
          new RegExp(`(rejected ${rel(p)}: |skipped ${rel(p)}: quarantined since \\S+ \\()2048 MiB on disk, beyond MAX_SCAN_FILE_BYTES \\(256 MiB\\)`),
        );
      }
      expect(peakRssMb(bridge.pid, (p) => readFileSync(p, 'utf8'))).toBeLessThan(300);
    } finally {
      await latest.close();
    }
  }, 90_000);
});

describe('FIFOs, a folder and a socket named like scans', () => {
  it('are skipped and logged once; good scans land as usual and health counts only regular files', async () => {
    const e = env({ DATA_WARNING_S: '120', DATA_STALE_S: '240' });
    const bridge = spawnRoles(['bridge'], e);
    const latest = await latestOf(e);
    try {
      writeScanFile(e.ARROW_DIR!, 1);
      await latest.until(1, 30_000);
      const fifos = [101, 102, 103, 104, 105].map((n) => scanPath(e, n));
      for (const f of fifos) execFileSync('mkfifo', [f]);
      const folder = scanPath(e, 106);
      mkdirSync(folder);
      const socket = scanPath(e, 107);
      execFileSync(PYTHON, ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socket)})`]);
      for (let n = 2; n <= 6; n++) {
        writeScanFile(e.ARROW_DIR!, n);
        await latest.until(n, 2000);
      }
      const rel = (p: string) => p.slice(e.ARROW_DIR!.length + 1);
      await eventually(
        'the FIFOs and the socket logged',
        () => ([...fifos, socket].every((p) => bridge.output().includes(`skipped ${rel(p)}:`)) ? true : undefined),
        10_000,
      );
      // Each push's log line follows its value in Hazelcast: wait for the five lines.
      const pushLines = () => [...bridge.output().matchAll(/pushed scan #(\d+) \(\d+ assets\) in (\d+) ms/g)].filter((m) => Number(m[1]) >= 2);
      await eventually('the five push lines', () => (pushLines().length >= 5 ? true : undefined), 5_000);
      const out = bridge.output();
      for (const f of fifos) expect(out.split(`skipped ${rel(f)}: a FIFO, not a regular file`).length - 1).toBe(1);
      expect(out).toContain(`skipped ${rel(socket)}: a socket, not a regular file`);
      // Every good scan was pushed promptly (the bridge logs each push with its latency).
      const latencies = pushLines().map((m) => Number(m[2]));
      expect(latencies.length).toBe(5);
      expect(Math.max(...latencies)).toBeLessThan(1000);

      const health = await cli(['health', '--json'], e);
      const result = JSON.parse(health.stdout) as { status: string; newestOnDisk: number | null };
      expect(result.newestOnDisk).toBe(6);
      expect(result.status).toBe('healthy');
      expect(health.code).toBe(0);
    } finally {
      await latest.close();
    }
  }, 90_000);
});

describe('a hostile file as the newest on disk (issue 20, finding 2)', () => {
  it('quarantined at DECODE_TIMEOUT_MS, then a sparse 2 GB file: health names each as bad_newest_file, alert, never bridge_behind', async () => {
    // Stale 2 s after the last good scan, the start-up grace over by then.
    const e = env({ DATA_WARNING_S: '1', DATA_STALE_S: '2', BRIDGE_START_GRACE_S: '1' });
    const bridge = spawnRoles(['bridge'], e);
    const latest = await latestOf(e);
    try {
      writeScanFile(e.ARROW_DIR!, 1);
      await latest.until(1, 30_000);
      const rel = (p: string) => p.slice(e.ARROW_DIR!.length + 1);
      const health = async () =>
        JSON.parse((await cli(['health', '--json'], e)).stdout) as {
          status: string;
          cause?: string;
          action: string;
          file?: { relPath: string; reason: string };
        };

      const hanging = rel(placeFixture(e, 'hanging', 2));
      await eventually(
        'the hanging file rejected',
        () => (bridge.output().includes(`rejected ${hanging}: decoding took longer than DECODE_TIMEOUT_MS`) ? true : undefined),
        30_000,
      );
      const first = await eventually('a stale check', async () => {
        const r = await health();
        return r.status === 'stale' ? r : undefined;
      });
      expect(first).toMatchObject({ cause: 'bad_newest_file', action: 'alert', file: { relPath: hanging } });
      expect(first.file!.reason).toMatch(/^decoding took longer than DECODE_TIMEOUT_MS \(2000 ms\); quarantined until it changes$/);

      const sparse = scanPath(e, 3);
      execFileSync('truncate', ['-s', '2G', sparse]);
      await eventually('the sparse file refused', () => (new RegExp(`(rejected|skipped) ${rel(sparse)}: `).test(bridge.output()) ? true : undefined), 30_000);
      const second = await eventually('the sparse file named', async () => {
        const r = await health();
        return r.file?.relPath === rel(sparse) ? r : undefined;
      });
      expect(second).toMatchObject({ status: 'stale', cause: 'bad_newest_file', action: 'alert' });
      expect(second.file!.reason).toContain('2048 MiB on disk, beyond MAX_SCAN_FILE_BYTES (256 MiB)');
    } finally {
      await latest.close();
    }
  }, 120_000);
});
