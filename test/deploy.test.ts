import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { resolveConfig } from '../src/config.js';
import { eventually, killChildren, spawnRoles, testEnv } from './helpers.js';

afterEach(killChildren);

const unit = readFileSync('deploy/systemd/scan-bridge@.service', 'utf8');
const settings = parse(readFileSync('deploy/systemd/scan-bridge.env', 'utf8'));
/** `Key=value` lines of the unit, by key (repeated keys keep the last). */
const directives = Object.fromEntries(
  unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

describe('the systemd units in deploy/systemd', () => {
  it('the settings file the units read is a valid configuration', () => {
    expect(directives.EnvironmentFile).toBe('/etc/scan-bridge/scan-bridge.env');
    expect(() => resolveConfig(settings)).not.toThrow();
  });

  it('run one role per instance and give up on the exit codes a restart cannot fix', () => {
    expect(directives.ExecStart).toBe('/usr/bin/node /opt/scan-bridge/dist/cli.js start --role %i');
    expect(directives.RestartPreventExitStatus!.split(' ').sort()).toEqual(['64', '78']);
    expect(directives.KillSignal).toBe('SIGTERM');
  });

  it.each(['bridge', 'worker', 'scheduler', 'board'])(
    'the %s role, started as ExecStart starts it with those settings, stops on SIGTERM within TimeoutStopSec',
    async (role) => {
      // The file's settings, pointed at the test servers and a free board port.
      const env = { ...settings, ...testEnv({ BOARD_PORT: '0' }) };
      const child = spawnRoles([role], env);
      await eventually(`the ${role} role running`, () => (/scan-bridge running: roles/.test(child.output()) ? true : undefined), 30_000);
      child.signal('SIGTERM');
      const timeoutMs = Number(directives.TimeoutStopSec) * 1000;
      const code = await Promise.race([child.exited, new Promise((ok) => setTimeout(() => ok('still running'), timeoutMs))]);
      expect(code).toBe(0);
    },
  );
});

describe('the build (dist/), as the image and the units ship it', () => {
  const files = readdirSync('dist', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));

  it('holds the product only: every file compiled from src/, none that starts test or demo servers', () => {
    expect(files).toContain('cli.js');
    expect(files.filter((f) => !existsSync(`src/${f.replace(/\.js$/, '.ts')}`))).toEqual([]);
    expect(files.filter((f) => /redis-server|HazelcastMemberStarter|scripts\/servers|test\/servers/.test(readFileSync(`dist/${f}`, 'utf8')))).toEqual([]);
  });
});
