import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';

/** A unique suffix, so tests never share queues, keys or maps. */
export function uniq(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * A config pointing at the servers of the global setup, with its own queue prefix, its own
 * Hazelcast map names and its own scan folder.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  const id = uniq();
  return resolveConfig({
    REDIS_URL: inject('redisUrl'),
    HZ_MEMBERS: inject('hzMembers'),
    HZ_CLUSTER_NAME: inject('hzClusterName'),
    QUEUE_PREFIX: `sb-${id}`,
    HZ_MAP: `FEATURES_${id}`,
    HZ_HISTORY_MAP: `HISTORY_${id}`,
    ARROW_DIR: mkdtempSync(join(tmpdir(), 'scan-bridge-')),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
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
      const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(this.events.slice(-5))}`)), timeoutMs);
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
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
