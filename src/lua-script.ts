/**
 * Our Lua scripts, each in a `.lua` file beside the module that runs it, with a header naming its
 * KEYS and ARGV (as bullmq keeps its own). The file is read when the module loads, so a build
 * without it fails at start-up, not at the first call. Run through ioredis's public
 * `defineCommand`: EVALSHA, falling back to EVAL when Redis lost its script cache (restarted
 * empty, a new master after a failover).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisConnection } from './connections.js';

export type LuaScript = (redis: RedisConnection, keys: string[], args: Array<string | number>) => Promise<unknown>;

type Defined = Record<string, (numberOfKeys: number, ...args: Array<string | number>) => Promise<unknown>>;

/** The script in `file` (a URL relative to the caller's `import.meta.url`), callable on any connection. */
export function luaScript(file: URL): LuaScript {
  const path = fileURLToPath(file);
  const lua = readFileSync(path, 'utf8');
  const name = `scanBridge_${basename(path, '.lua').replace(/\W/g, '_')}`;
  return (redis, keys, args) => {
    const defined = redis as unknown as Defined;
    // Without numberOfKeys, ioredis takes the number of keys as the command's first argument.
    if (typeof defined[name] !== 'function') redis.defineCommand(name, { lua });
    return defined[name]!(keys.length, ...keys, ...args);
  };
}
