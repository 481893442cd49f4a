import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { UsageError } from '../errors.js';
import { runDemoScanner } from '../demo/scanner.js';
import { DEMO_FAULTS, type DemoFault, type FaultPlan } from '../demo/faults.js';

function positiveInt(flag: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not valid: expected a whole number ${min === 1 ? 'above 0' : `from ${min}`}`);
  return n;
}

/** `--fault KIND [--fault-after N] [--fault-for N]`: 10 normal scans first, then the fault until stopped. */
function faultPlan(values: Record<string, unknown>): FaultPlan | undefined {
  const fault = values.fault;
  if (fault === undefined) {
    for (const flag of ['fault-after', 'fault-for']) if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --fault`);
    return undefined;
  }
  if (!(DEMO_FAULTS as readonly unknown[]).includes(fault))
    throw new UsageError(`--fault ${JSON.stringify(fault)} is not valid: expected ${DEMO_FAULTS.join(', ')}`);
  const forScans = values['fault-for'] === undefined ? undefined : positiveInt('fault-for', values['fault-for'], 1);
  return { fault: fault as DemoFault, after: positiveInt('fault-after', values['fault-after'], 10, 0), for: forScans };
}

/** `scan-bridge demo-scanner`: writes scans until SIGINT/SIGTERM (or `--count`). */
export async function demoScannerCommand(config: Config, log: Logger, values: Record<string, unknown>): Promise<number> {
  const intervalMs = positiveInt('interval-ms', values['interval-ms'], 5000);
  const assets = positiveInt('assets', values.assets, 400);
  const count = values.count === undefined ? undefined : positiveInt('count', values.count, 1);
  const fault = faultPlan(values);
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const faulty = fault ? `; fault ${fault.fault} after ${fault.after} scans${fault.for === undefined ? ', until stopped' : `, for ${fault.for} scans`}` : '';
  log.info(`demo scanner: writing a ${assets}-asset scan every ${intervalMs} ms into ${config.arrowDir}${faulty}`);
  await runDemoScanner({
    arrowDir: config.arrowDir,
    intervalMs,
    assets,
    log,
    signal: ctl.signal,
    ...(count !== undefined ? { count } : {}),
    ...(fault ? { fault } : {}),
  });
  return 0;
}
