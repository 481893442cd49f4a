/**
 * Where the CLI's settings come from: the environment, over one settings file of `NAME=value`
 * lines. The file is the one `--settings FILE` names, else the one `SCAN_BRIDGE_ENV_FILE` names
 * (the systemd install's `scan-bridge` command names the units' file this way), else `./.env` when
 * there is one. A named file that cannot be read is a bad setting. Also says where a setting came
 * from, for the line that names the servers a command could not reach. The flag is not
 * `--env-file`: Node 20 takes that one for itself wherever it stands on the command line, and
 * exits when the file is missing before this code runs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { envFileOf, type Config } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { describeRedis } from './connections.js';

type Env = Record<string, string | undefined>;

export interface Settings {
  /** The environment over the file's settings. */
  env: Env;
  /** Where `name` came from: `from the environment`, `from <the file's path>`, or `not set: the default`. */
  origin(name: string): string;
}

/** Takes `--settings FILE` (or `--settings=FILE`) out of the command line, wherever it stands. */
export function takeSettingsFlag(argv: string[]): { argv: string[]; envFile: string | undefined } {
  const rest: string[] = [];
  let envFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--settings=')) envFile = a.slice('--settings='.length);
    else if (a === '--settings') {
      envFile = argv[++i];
      if (envFile === undefined || envFile.startsWith('-')) throw new UsageError('--settings needs a file: --settings /etc/scan-bridge/scan-bridge.env');
    } else rest.push(a);
  }
  return { argv: rest, envFile };
}

function readSettingsFile(path: string, named: string | undefined): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (named === undefined && code === 'ENOENT') return undefined;
    const why =
      code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied: this user may not read it' : `it cannot be read (${code ?? 'error'})`;
    throw new ConfigError(named ?? path, path, `a settings file of NAME=value lines that this user can read; ${why}`);
  }
  return parse(text);
}

/** The settings for `resolveConfig`: `environment` over the named file, or over `./.env` when none is named. */
export function loadSettings(environment: Env, flag: string | undefined): Settings {
  const named = flag !== undefined ? '--settings' : envFileOf(environment) !== undefined ? 'SCAN_BRIDGE_ENV_FILE' : undefined;
  const path = resolve(flag ?? envFileOf(environment) ?? '.env');
  const file = readSettingsFile(path, named) ?? {};
  const given = (v: string | undefined) => v !== undefined && v.trim() !== '';
  return {
    env: { ...file, ...Object.fromEntries(Object.entries(environment).filter(([, v]) => given(v))) },
    origin: (name) => (given(environment[name]) ? 'from the environment' : given(file[name]) ? `from ${path}` : 'not set: the default'),
  };
}

const REDIS_SETTING: Record<Config['redis']['kind'], string> = { url: 'REDIS_URL', sentinel: 'REDIS_SENTINELS', cluster: 'REDIS_CLUSTER_NODES' };

/** One line: the Redis and Hazelcast this command talks to, and which setting, from where, says so. */
export function describeServers(config: Config, settings: Settings): string {
  const redisSetting = REDIS_SETTING[config.redis.kind];
  return (
    `settings used: Redis ${describeRedis(config.redis)} (${redisSetting} ${settings.origin(redisSetting)}), ` +
    `Hazelcast ${config.hzMembers.join(',')} (HZ_MEMBERS ${settings.origin('HZ_MEMBERS')}), cluster ${config.hzClusterName}`
  );
}
