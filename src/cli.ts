#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { resolveConfig, type Config } from './config.js';
import { ConfigError, UnreachableError, UsageError, coerceError } from './errors.js';
import { createLogger, type Logger } from './log.js';

interface Command {
  summary: string;
  usage: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  run(ctx: { config: Config; log: Logger; values: Record<string, unknown>; positionals: string[] }): Promise<number>;
}

const commands: Record<string, Command> = {
  start: {
    summary: 'run the roles until SIGTERM/SIGINT, then shut down gracefully',
    usage: 'start [--role all|scheduler|worker|bridge|board]… [--with-demo-scanner]',
    options: { role: { type: 'string', multiple: true, short: 'r' }, 'with-demo-scanner': { type: 'boolean' } },
    run: async (ctx) => (await import('./start.js')).start(ctx.config, ctx.log, ctx.values),
  },
  create: {
    summary: 'create or update the schedules (idempotent)',
    usage: 'create',
    run: async (ctx) => (await import('./commands/commands.js')).createCommand(ctx),
  },
  status: {
    summary: 'schedules, workers, the active bridge, latest scan, last health',
    usage: 'status [--json]',
    options: { json: { type: 'boolean' } },
    run: async (ctx) => (await import('./commands/commands.js')).statusCommand(ctx),
  },
  health: {
    summary: 'run the health check now; exit 0 healthy, 1 warning, 2 stale/down/error',
    usage: 'health [--json]',
    options: { json: { type: 'boolean' } },
    run: async (ctx) => (await import('./commands/commands.js')).healthCommand(ctx),
  },
  trigger: {
    summary: 'enqueue a job by hand: health-check or restart-bridge',
    usage: 'trigger <health-check|restart-bridge>',
    run: async (ctx) => (await import('./commands/commands.js')).triggerCommand(ctx),
  },
  wait: {
    summary: 'wait until data is fresh and the bridge is checked; exit 0 ready, 1 timed out, 2 Hazelcast unreachable',
    usage: 'wait [--max-age SECONDS] [--timeout SECONDS] [--json]',
    options: { 'max-age': { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
    run: async (ctx) => (await import('./commands/wait.js')).waitCommand(ctx),
  },
  quarantine: {
    summary: 'files that broke a decoding limit, skipped by every bridge until they change; release one to read it again',
    usage: 'quarantine [list|release PATH] [--json]',
    options: { json: { type: 'boolean' } },
    run: async (ctx) => (await import('./commands/quarantine.js')).quarantineCommand(ctx),
  },
  'demo-scanner': {
    summary: 'write canonical scan files into ARROW_DIR/<day>/, atomically',
    usage: 'demo-scanner [--interval-ms N] [--assets N] [--count N]',
    options: { 'interval-ms': { type: 'string' }, assets: { type: 'string' }, count: { type: 'string' } },
    run: async (ctx) => (await import('./commands/demo-scanner.js')).demoScannerCommand(ctx.config, ctx.log, ctx.values),
  },
};

function help(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.usage.length));
  return [
    'scan-bridge: Arrow scan files into Hazelcast, supervised by BullMQ',
    '',
    'Usage: scan-bridge <command> [options]',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Settings come from the environment and .env (see README: Configuration).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    console.error(help());
    return 64;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${help()}`);
    return 64;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (err) {
    console.error(`scan-bridge ${name}: ${coerceError(err).message}\nusage: scan-bridge ${command.usage}`);
    return 64;
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.help) {
    console.log(`usage: scan-bridge ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  loadDotenv({ quiet: true });
  let config: Config;
  try {
    config = resolveConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`scan-bridge: bad setting: ${err.message}`);
      return 78;
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  try {
    return await command.run({ config, log, values, positionals: parsed.positionals });
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`scan-bridge ${name}: ${err.message}\nusage: scan-bridge ${command.usage}`);
      return 64;
    }
    if (err instanceof UnreachableError || err instanceof ConfigError) {
      console.error(`scan-bridge ${name}: ${err.message}`);
      return err instanceof ConfigError ? 78 : 2;
    }
    log.fatal({ err: coerceError(err) }, `${name} failed`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Client libraries may keep sockets or timers open after their work is done: do not hang on them.
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (err: unknown) => {
    console.error(`scan-bridge: ${coerceError(err).message}`);
    process.exitCode = 1;
  },
);
