/**
 * BullMQ through its public API only (issue 23): no code in src/ writes BullMQ's own keys,
 * re-creates its jobs or overrides its internals, and any Lua of ours lives in a `.lua` file
 * whose header names its KEYS and ARGV, as bullmq keeps its own scripts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const files = (ext: string) =>
  readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join('src', f));

describe('BullMQ through its public API', () => {
  it('no source reaches into BullMQ: no optsEncodeMap, worker.keys, toKey, Worker subclass, extendJobLocks override', () => {
    const found = files('.ts').flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return [
        /optsEncodeMap/,
        /\btoKey\(/,
        /\.keys!?\.(active|wait|paused|stalled|delayed|prioritized|id|de|completed|failed|events|meta|marker)\b/,
        /extends Worker\b/,
        /extendJobLocks/,
      ]
        .filter((re) => re.test(text))
        .map((re) => `${f}: ${re.source}`);
    });
    expect(found).toEqual([]);
  });

  it('no Lua in a TypeScript string: every script is a .lua file, named from the code that loads it', () => {
    const inStrings = files('.ts').filter((f) => /redis\.call\(/.test(readFileSync(f, 'utf8')));
    expect(inStrings).toEqual([]);
    const lua = files('.lua');
    expect(lua.map((f) => f.replace(/.*\//, '')).sort()).toEqual(
      expect.arrayContaining(['heartbeat-write.lua', 'lease-acquire.lua', 'lease-release.lua', 'lease-renew.lua']),
    );
  });

  it('every .lua file starts with a header naming its KEYS and ARGV, and uses no key or argument it does not name', () => {
    for (const f of files('.lua')) {
      const text = readFileSync(f, 'utf8');
      // The header: the leading block comment (--[[ … ]]), as bullmq's scripts have it.
      const end = text.startsWith('--[[') ? text.indexOf(']]') : -1;
      expect(end, `${f} starts with a --[[ … ]] header`).toBeGreaterThan(0);
      const [header, body] = [text.slice(0, end), text.slice(end)];
      const refs = (part: string, kind: 'KEYS' | 'ARGV') => new Set([...part.matchAll(new RegExp(`${kind}\\[(\\d+)\\]`, 'g'))].map((m) => m[1]));
      const named = (kind: 'KEYS' | 'ARGV') => refs(header, kind);
      const used = (kind: 'KEYS' | 'ARGV') => refs(body, kind);
      expect(named('KEYS').size, `${f} names its KEYS`).toBeGreaterThan(0);
      for (const kind of ['KEYS', 'ARGV'] as const) {
        for (const n of used(kind)) expect(named(kind).has(n), `${f} names ${kind}[${n}] in its header`).toBe(true);
      }
    }
  });
});
