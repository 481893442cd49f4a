/**
 * One declaration per setting (src/settings.ts): config.ts reads exactly those, and the docs
 * table and .env.example are what the declaration writes. Pure: no server, no build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_MD, ENV_EXAMPLE, renderEnvExample, withTable } from '../scripts/settings-docs.js';
import { resolveConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { SETTINGS } from '../src/settings.js';

const source = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(new URL(`../${dir}`, import.meta.url), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('settings', () => {
  it('docs/configuration.md holds the table the declaration writes (npm run docs:settings)', () => {
    const doc = readFileSync(CONFIGURATION_MD, 'utf8');
    expect(doc).toBe(withTable(doc));
    for (const name of Object.keys(SETTINGS)) expect(doc).toContain(`| \`${name}\` |`);
  });

  it('.env.example is what the declaration writes (npm run docs:settings)', () => {
    expect(readFileSync(ENV_EXAMPLE, 'utf8')).toBe(renderEnvExample());
  });

  it('config.ts reads every declared setting and no other', () => {
    const read = new Set([...source('src/config.ts').matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('no setting is read outside config.ts', () => {
    const readers = sourceFiles('src').filter((f) => f !== join('src', 'config.ts') && /process\.env(\.|\[)/.test(source(f)));
    expect(readers).toEqual([]);
  });

  it.each(Object.entries(SETTINGS).filter(([, s]) => s.type === 'int'))('%s is refused past its declared bounds', (name, s) => {
    const { min = 0, max } = s as { min?: number; max?: number };
    expect(() => resolveConfig({ [name]: String(min - 1) })).toThrow(ConfigError);
    if (max !== undefined) expect(() => resolveConfig({ [name]: String(max + 1) })).toThrow(ConfigError);
  });
});
