/**
 * The bridge process's main thread does not load apache-arrow (about 15 MiB of resident memory):
 * only its decode threads decode files. Issue 24's idle memory target counts on it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function packagesImported(modules: string[]): string[] {
  const code = modules.map((m) => `await import(${JSON.stringify(join(ROOT, 'dist', m))});`).join('');
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'fixtures', 'record-imports.mjs'), '--input-type=module', '-e', code], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`importing ${modules.join(', ')} failed: ${r.stderr}`);
  // The package of each specifier: `@scope/name` or `name`, without a path inside it.
  return [...r.stderr.matchAll(/^import ((?:@[^/\s]+\/)?[^/\s]+)/gm)].map((m) => m[1]!);
}

describe('the main thread of a bridge process', () => {
  it('loads no apache-arrow: the start, the bridge worker and the bridge', () => {
    const seen = packagesImported(['start.js', 'workers/bridge-worker.js', 'bridge/run.js']);
    expect(seen).toContain('bullmq');
    expect(seen).not.toContain('apache-arrow');
  });
});
