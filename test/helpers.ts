import { afterAll, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { writeScanFileSync } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/**
 * A new folder under the system temp folder, removed after the tests of the file that made it
 * (processes a test started may still use it until the file's own cleanup has stopped them).
 */
export function tempDir(prefix = 'scan-bridge-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A unique suffix, so tests never share queues, keys or maps. */
export function uniq(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Settings pointing at the servers of the global setup, with their own queue prefix, their own
 * Hazelcast map names and their own scan folder: as environment variables, for child processes.
 */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  const id = uniq();
  return {
    REDIS_URL: inject('redisUrl'),
    HZ_MEMBERS: inject('hzMembers'),
    HZ_CLUSTER_NAME: inject('hzClusterName'),
    QUEUE_PREFIX: `sb-${id}`,
    HZ_MAP: `FEATURES_${id}`,
    HZ_HISTORY_MAP: `HISTORY_${id}`,
    ARROW_DIR: tempDir(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
}

/** The same, resolved as the product resolves it. */
export function testConfig(env: Record<string, string> = {}): Config {
  return resolveConfig(testEnv(env));
}

export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');

/** Collects events and lets a test await the first (past or future) one that matches. */
export class EventLog<E> {
  readonly events: E[] = [];
  private waiters: Array<{ pred: (e: E) => boolean; ok: (e: E) => void }> = [];

  push = (e: E): void => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(e)) return true;
      w.ok(e);
      return false;
    });
  };

  until(pred: (e: E) => boolean, timeoutMs = 20_000, what = 'event'): Promise<E> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.events.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        ok: (e) => {
          clearTimeout(timer);
          ok(e);
        },
      });
    });
  }
}

/** Polls `check` until it returns a value other than undefined: for state only a server holds. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

const children: Child[] = [];

/** `scan-bridge start --role … [args]` as a real child process with these settings. */
export function spawnRoles(roles: string[], env: Record<string, string>, args: string[] = []): Child {
  const proc = spawn(process.execPath, ['dist/cli.js', 'start', ...roles.flatMap((r) => ['--role', r]), ...args], {
    env: { ...process.env, LOG_PRETTY: '0', ...env, LOG_LEVEL: env.CHILD_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  const child: Child = { proc, pid: proc.pid!, output: () => out, exited, signal: (s) => void proc.kill(s) };
  children.push(child);
  return child;
}

/** Kills every child still running (afterEach/afterAll). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    children.splice(0).map(async (c) => {
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGKILL');
        await c.exited;
      }
    }),
  );
}

/** Writes scan `n` (stamped now unless `at` is given, a few assets) the way a good producer does: a dotted temp name, then a rename. */
export function writeScanFile(arrowDir: string, n: number, assets = 4, at = new Date()): void {
  writeScanFileSync(arrowDir, n, at, encodeScan(makeScan({ scanNumber: n, time: at, assets })));
}

/** The largest gap between ticks of a 10 ms timer while `p` runs: how long the main thread was blocked. */
export async function maxLag<T>(p: Promise<T>): Promise<{ value: T; lagMs: number }> {
  let last = performance.now();
  let lagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 10);
    last = now;
  }, 10);
  try {
    return { value: await p, lagMs };
  } finally {
    clearInterval(timer);
  }
}

/** `npm run services:up` / `services:down` (scripts/services.sh) without Docker; its exit code and output. */
export function services(action: 'up' | 'down', env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(
      'bash',
      ['scripts/services.sh', action],
      { env: { ...process.env, SERVICES_DOCKER: '0', ...env }, encoding: 'utf8', timeout: 180_000 },
      (error, out, err) => {
        ok({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err });
      },
    );
  });
}
