/**
 * The BullMQ versions scan-bridge is tested against. The bridge job (bridge-job.ts: its lock,
 * stalled checks, abort signal, WaitingError) and the job table rely on BullMQ's behaviour of
 * these versions, through its public API; another minor version may change it
 * without notice, so start-up refuses one outside the range rather than misbehave later.
 */
import { createRequire } from 'node:module';

/** Tested: 6.7.x (package.json pins `bullmq` to 6.7). */
export const TESTED_BULLMQ = { major: 6, minor: 7 } as const;

/** Why `version` is outside the tested range, or null when it is inside. */
export function bullmqVersionProblem(version: string): string | null {
  const m = /^(\d+)\.(\d+)\.\d+/.exec(version);
  const tested = `${TESTED_BULLMQ.major}.${TESTED_BULLMQ.minor}.x`;
  if (m && Number(m[1]) === TESTED_BULLMQ.major && Number(m[2]) === TESTED_BULLMQ.minor) return null;
  return `the installed BullMQ is ${version}, but scan-bridge is tested with BullMQ ${tested} only: install the version package-lock.json names (npm ci)`;
}

/** The installed BullMQ's version, from its package.json. */
export function installedBullmqVersion(): string {
  return (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
}
