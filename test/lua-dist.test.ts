/**
 * The Lua scripts reach the build: `npm run build` copies every `src/**\/*.lua` into dist/ beside
 * the module that loads it, and `dist/cli.js` runs them (a bridge role takes the lease in our own
 * key, and its run carries the lease's generation).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { keys } from '../src/keys.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { eventually, killChildren, spawnRoles, testEnv } from './helpers.js';

afterEach(killChildren);

describe('the Lua scripts in the build', () => {
  it('every src/**/*.lua is in dist/ at the same place, unchanged', () => {
    const lua = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.lua'));
    expect(lua.length).toBeGreaterThanOrEqual(4);
    for (const f of lua) {
      expect(existsSync(join('dist', f)), `dist/${f}`).toBe(true);
      expect(readFileSync(join('dist', f), 'utf8')).toBe(readFileSync(join('src', f), 'utf8'));
    }
  });

  it('dist/cli.js finds them: a bridge role holds the lease in our own key, as the generation its heartbeat says', async () => {
    const env = testEnv({ BRIDGE_HEARTBEAT_MS: '300' });
    const child = spawnRoles(['bridge'], env);
    const redis = createRedis(resolveConfig(env));
    try {
      const lease = await eventually('the lease taken', async () => {
        const v = await redis.get(keys(env.QUEUE_PREFIX!).lease);
        return v === null ? undefined : (JSON.parse(v) as { pid: number; generation: number });
      });
      expect(lease.pid).toBe(child.pid);
      const hb = await eventually('a heartbeat', async () => (await readBridgeFacts(redis, env.QUEUE_PREFIX!)).heartbeat ?? undefined);
      expect(hb.generation).toBe(lease.generation);
      expect(child.output()).not.toMatch(/ENOENT|no such file/i);
    } finally {
      redis.disconnect();
    }
  });
});
