import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; pretty, coloured lines when a person watches a terminal
 * (stdout is a TTY) or LOG_PRETTY=1. Pretty lines are the message alone: the fields (a health
 * result, a scan's numbers) would take a dozen lines each and are in the JSON logs; errors still show.
 */
export function createLogger(level: string, name = 'scan-bridge'): Logger {
  const options: LoggerOptions = { name, level, base: { pid: process.pid } };
  const pretty = process.env.LOG_PRETTY === '1' || (process.env.LOG_PRETTY !== '0' && process.stdout.isTTY);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', hideObject: true } },
    });
  }
  return pino(options);
}
