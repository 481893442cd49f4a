/**
 * `npm test` on a fresh machine (scripts/test-setup.sh, its pretest): what needs root is checked
 * first, and a missing package stops it at once with one line naming the package and its install
 * command. Run here with a PATH that lacks one tool at a time.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const TOOLS = ['bash', 'redis-server', 'redis-cli', 'chromium', 'java', 'mvn', 'python3', 'systemd-analyze'];

/** A folder for PATH holding every tool the check looks for but `without`. */
function pathWithout(...without: string[]): string {
  const dir = tempDir('sb-path-');
  for (const t of TOOLS.filter((t) => !without.includes(t))) {
    // python3 may be a shim (pyenv) that needs more than PATH holds here: the interpreter itself.
    const where = t === 'python3' ? 'python3 -c "import sys; print(sys.executable)"' : `command -v ${t}`;
    symlinkSync(execFileSync('bash', ['-c', where], { encoding: 'utf8' }).trim(), join(dir, t));
  }
  return dir;
}

function setup(path: string, ...args: string[]) {
  const env: Record<string, string> = { PATH: path, HOME: process.env.HOME ?? '/' };
  return spawnSync(join(path, 'bash'), ['scripts/test-setup.sh', ...args], { env, encoding: 'utf8' });
}

describe('npm test set-up (scripts/test-setup.sh)', () => {
  it('is what npm test runs first', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('bash scripts/test-setup.sh');
  });

  it('passes its checks with every tool there', () => {
    const r = setup(pathWithout(), '--check');
    expect(r.status, r.stderr).toBe(0);
  });

  it.each([
    ['redis-server', 'redis-server'],
    ['chromium', 'chromium'],
    ['mvn', 'maven'],
  ])('stops at once without %s, with one line naming package %s and its install command', (tool, pkg) => {
    const r = setup(pathWithout(tool));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`npm test needs ${tool} (package ${pkg}): sudo apt-get install ${pkg}`]);
    expect(r.stdout).toBe('');
  });

  it('--missing lists every missing package, one a line, for .ci/run to install', () => {
    const r = setup(pathWithout('redis-server', 'redis-cli', 'chromium'), '--missing');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['redis-server', 'redis-tools', 'chromium']);
  });
});
