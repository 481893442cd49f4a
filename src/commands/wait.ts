import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createHazelcast } from '../connections.js';
import { UsageError } from '../errors.js';
import { clientLog } from './commands.js';
import { describeReadiness } from '../ready/decide.js';
import { waitUntilReady } from '../ready/wait.js';

type Ctx = { config: Config; log: Logger; values: Record<string, unknown> };

/** Seconds from an option: a number ≥ 0, or a message for the usage mistake. */
export function secondsOption(values: Record<string, unknown>, name: string, fallback: number): number | string {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : `--${name} must be a number of seconds ≥ 0, got ${JSON.stringify(v)}`;
}

/**
 * `scan-bridge wait`: Hazelcast only, so it works without Redis. Exit 0 ready, 1 timed out
 * (one line on stdout saying what is missing), 2 Hazelcast unreachable and 64 a bad option
 * (both thrown to the CLI). While it waits, one line on stderr says what for.
 */
export async function waitCommand({ config, log, values }: Ctx): Promise<number> {
  const maxAgeS = secondsOption(values, 'max-age', 30);
  const timeoutS = secondsOption(values, 'timeout', 300);
  for (const v of [maxAgeS, timeoutS]) if (typeof v === 'string') throw new UsageError(v);
  const timeoutMs = (timeoutS as number) * 1000;
  const hz = await createHazelcast(config, clientLog(log), { kind: 'command', timeoutMs: Math.min(5000, Math.max(1000, timeoutMs)) });
  try {
    const r = await waitUntilReady(hz, config, {
      maxAgeS: maxAgeS as number,
      timeoutMs,
      onWaiting: (w) => console.error(`waiting up to ${timeoutS} s for: ${describeReadiness(w)}`),
    });
    if (values.json) console.log(JSON.stringify(r));
    else console.log(r.ready ? `ready: ${describeReadiness(r)}` : `not ready after ${timeoutS} s: ${describeReadiness(r)}`);
    return r.ready ? 0 : 1;
  } finally {
    await hz.shutdown();
  }
}
