/**
 * The systemd units' sandboxing, as `systemd-analyze security` rates it offline (from the unit
 * file alone, no systemd running). Needs systemd-analyze (Debian's `systemd` package): without it
 * this test fails, naming it.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = 'deploy/systemd';
const services = readdirSync(DIR).filter((f) => f.endsWith('.service'));

function exposure(unit: string): { level: number; report: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', join(DIR, unit)], { encoding: 'utf8' });
  if (r.error) throw new Error(`systemd-analyze cannot run (${r.error.message}): apt-get install systemd`);
  const m = /Overall exposure level for .*: (\d+(?:\.\d+)?)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure level in systemd-analyze's output:\n${r.stdout}${r.stderr}`);
  return { level: Number(m[1]), report: r.stdout };
}

describe('the systemd units (deploy/systemd)', () => {
  it('systemd-analyze can rate unit files offline', () => {
    expect(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' })).toMatch(/^systemd \d+/);
    expect(services.length).toBeGreaterThan(0);
  });

  it.each(services)('%s is rated 4.5 or lower (OK) by systemd-analyze security --offline=true', (unit) => {
    const { level, report } = exposure(unit);
    // The lines still marked ✗ say what is left open, should this fail.
    expect(
      level,
      report
        .split('\n')
        .filter((l) => l.startsWith('✗'))
        .join('\n'),
    ).toBeLessThanOrEqual(4.5);
  });

  it('keeps what the service needs: the network (Redis, Hazelcast, the board), the JIT, and ARROW_DIR readable', () => {
    const unit = readFileSync(join(DIR, 'scan-bridge@.service'), 'utf8');
    expect(unit).toMatch(/^RestrictAddressFamilies=.*AF_INET\b.*AF_INET6\b/m);
    expect(unit).not.toMatch(/^PrivateNetwork=yes/m);
    // V8 compiles to memory it then runs: MemoryDenyWriteExecute would stop node at start.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
    // Read-only everywhere (ProtectSystem=strict), /home included: the bridge only reads ARROW_DIR.
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^ProtectHome=read-only$/m);
  });
});
