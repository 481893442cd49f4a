import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; pretty, coloured lines when a person watches a terminal
 * (stdout is a TTY) or `mode` (LOG_PRETTY) is `1`. Pretty lines are the message alone: the fields (a health
 * result, a scan's numbers) would take a dozen lines each and are in the JSON logs; errors still show.
 */
export function createLogger(level: string, name = 'scan-bridge', mode: 'auto' | '1' | '0' = 'auto'): Logger {
  const options: LoggerOptions = { name, level, base: { pid: process.pid } };
  const pretty = mode === '1' || (mode === 'auto' && process.stdout.isTTY);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', hideObject: true } },
    });
  }
  return pino(options);
}
