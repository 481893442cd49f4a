import { reasonInWords } from './reachability.js';

/** A setting that cannot be used: start-up stops with one line naming it. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is not valid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

/** The command line itself is wrong (unknown command, job, role or flag, a bad flag value): exit 64, with the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A server the command needs did not answer; the CLI prints it without a stack trace. */
export class UnreachableError extends Error {
  constructor(
    readonly service: 'redis' | 'hazelcast',
    readonly target: string,
    cause: unknown,
  ) {
    // In words (reachability.ts), not the driver's text; the driver's error stays the cause.
    super(`${service} at ${target} is unreachable: ${reasonInWords(cause)}`, { cause });
    this.name = 'UnreachableError';
  }
}

/**
 * Turns anything thrown into an Error, so callers never deal with strings or undefined. An Error
 * is returned as it is (its own `cause` kept); anything else becomes the `cause` of the new one.
 */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err, { cause: err });
  let text: string;
  try {
    text = JSON.stringify(err) ?? String(err);
  } catch {
    text = String(err);
  }
  return new Error(text, { cause: err });
}
