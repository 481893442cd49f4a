/**
 * The CLI on a production machine: settings from a named env file (`--settings FILE`,
 * SCAN_BRIDGE_ENV_FILE), the systemd install's `scan-bridge` command that reads the units' file,
 * and, when a server does not answer, which Redis and Hazelcast it tried and where that came from.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../scripts/servers/services.js';
import { tempDir } from './helpers.js';

type Run = { code: number | null; out: string; err: string };

/** Runs `file args…` in `cwd` with only `env` (and PATH): no setting of this test process leaks in. */
function run(file: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((ok) => {
    execFile(file, args, { env: { PATH: process.env.PATH ?? '', LOG_PRETTY: '0', ...env }, cwd, encoding: 'utf8', timeout: 60_000 }, (error, out, err) =>
      ok({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
    );
  });
}

const CLI = resolve('dist/cli.js');
const cli = (args: string[], env: Record<string, string> = {}, cwd = tempDir('sb-cwd-')) => run(process.execPath, [CLI, ...args], env, cwd);

/** Addresses where nothing listens, written into a settings file. */
async function unreachableSettings() {
  const [redisPort, hzPort] = await Promise.all([freePort(), freePort()]);
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const hzMembers = `127.0.0.1:${hzPort}`;
  const file = join(tempDir('sb-envfile-'), 'scan-bridge.env');
  writeFileSync(file, `REDIS_URL=${redisUrl}\nHZ_MEMBERS=${hzMembers}\nHZ_CLUSTER_NAME=prod\n`);
  return { file, redisUrl, hzMembers };
}

describe('scan-bridge with a named settings file', () => {
  it('--settings FILE: status tries the servers the file names, and says so, with the file, when they do not answer', async () => {
    const s = await unreachableSettings();
    const r = await cli(['status', '--settings', s.file]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`Redis ${s.redisUrl} (REDIS_URL from ${s.file})`);
    expect(r.err).toContain(`Hazelcast ${s.hzMembers} (HZ_MEMBERS from ${s.file})`);
    // Also before the command name.
    const before = await cli(['--settings', s.file, 'trigger', 'health-check']);
    expect(before.code, before.err).toBe(2);
    expect(before.err).toContain(`Redis ${s.redisUrl} (REDIS_URL from ${s.file})`);
  });

  it('SCAN_BRIDGE_ENV_FILE names the file; a setting in the environment wins over it, and the message says where each came from', async () => {
    const s = await unreachableSettings();
    const other = `redis://127.0.0.1:${await freePort()}`;
    const r = await cli(['trigger', 'health-check'], { SCAN_BRIDGE_ENV_FILE: s.file, REDIS_URL: other });
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`Redis ${other} (REDIS_URL from the environment)`);
    expect(r.err).toContain(`Hazelcast ${s.hzMembers} (HZ_MEMBERS from ${s.file})`);
  });

  it('a named file that does not exist stops the command with one line naming it (exit 78)', async () => {
    const missing = join(tempDir('sb-envfile-'), 'nope.env');
    const flag = await cli(['status', '--settings', missing]);
    expect(flag.code).toBe(78);
    expect(flag.err.trim().split('\n')).toHaveLength(1);
    expect(flag.err).toContain(`--settings=${JSON.stringify(missing)} is not valid`);
    const setting = await cli(['status'], { SCAN_BRIDGE_ENV_FILE: missing });
    expect(setting.code).toBe(78);
    expect(setting.err).toContain(`SCAN_BRIDGE_ENV_FILE=${JSON.stringify(missing)} is not valid`);
  });

  it('./.env is read when no file is named, and the message names it', async () => {
    const s = await unreachableSettings();
    const cwd = tempDir('sb-cwd-');
    writeFileSync(join(cwd, '.env'), readFileSync(s.file));
    const r = await cli(['trigger', 'health-check'], {}, cwd);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`Redis ${s.redisUrl} (REDIS_URL from ${join(cwd, '.env')})`);
  });
});

describe('the systemd install (deploy/systemd, docs/operations.md "With systemd")', () => {
  const unit = readFileSync('deploy/systemd/scan-bridge@.service', 'utf8');
  const envFile = /^EnvironmentFile=(.+)$/m.exec(unit)![1]!;
  const [node, cliPath] = /^ExecStart=(\S+) (\S+)/m.exec(unit)!.slice(1) as [string, string];

  it("puts a scan-bridge command on PATH that runs the units' CLI with the units' settings file", async () => {
    const readme = readFileSync('docs/operations.md', 'utf8');
    const steps = readme.slice(readme.indexOf('### With systemd'));
    const block = steps.slice(steps.indexOf('```bash'), steps.indexOf('```', steps.indexOf('```bash') + 3));
    expect(block).toMatch(/install -m 755 deploy\/systemd\/scan-bridge \/usr\/local\/bin\/scan-bridge/);

    const wrapper = readFileSync('deploy/systemd/scan-bridge', 'utf8');
    // The same node, CLI and settings file as the units: rewritten below to this checkout.
    for (const path of [node, cliPath, envFile]) expect(wrapper).toContain(path);
    const s = await unreachableSettings();
    const local = join(tempDir('sb-bin-'), 'scan-bridge');
    writeFileSync(local, wrapper.replaceAll(envFile, s.file).replaceAll(cliPath, CLI).replaceAll(node, process.execPath));
    chmodSync(local, 0o755);
    const r = await run(local, ['status'], {}, tempDir('sb-cwd-'));
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`Redis ${s.redisUrl} (REDIS_URL from ${s.file})`);
    expect(r.err).toContain(`Hazelcast ${s.hzMembers} (HZ_MEMBERS from ${s.file})`);
  });
});
