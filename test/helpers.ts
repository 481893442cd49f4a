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
