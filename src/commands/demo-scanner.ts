import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import { runDemoScanner } from '../demo/scanner.js';

function positiveInt(flag: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not valid: expected a whole number above 0`);
  return n;
}

/** `scan-bridge demo-scanner`: writes scans until SIGINT/SIGTERM (or `--count`). */
export async function demoScannerCommand(config: Config, log: Logger, values: Record<string, unknown>): Promise<number> {
  const intervalMs = positiveInt('interval-ms', values['interval-ms'], 5000);
  const assets = positiveInt('assets', values.assets, 400);
  const count = values.count === undefined ? undefined : positiveInt('count', values.count, 1);
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  log.info(`demo scanner: writing a ${assets}-asset scan every ${intervalMs} ms into ${config.arrowDir}`);
  await runDemoScanner({ arrowDir: config.arrowDir, intervalMs, assets, log, signal: ctl.signal, ...(count !== undefined ? { count } : {}) });
  return 0;
}
