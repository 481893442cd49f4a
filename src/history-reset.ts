/**
 * A health history that Redis lost is marked, never dropped silently. Checks mark when they
 * began (`checking-since`, set once); a process that saw one start and now finds a later one
 * knows Redis lost its data (restarted without persistence, or evicted it) and records when the
 * history began again and since when it had been kept, for the status page to say.
 */
import type { RedisConnection } from './connections.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { keys } from './keys.js';
import { withTimeout } from './time.js';

export interface HistoryReset {
  /** When the history began again (the first check after the loss), epoch ms. */
  at: number;
  /** When the lost history had begun. */
  lostSince: number;
}

/** What this process saw of when checks began, per prefix. */
const seen = new Map<string, number>();

const TIMEOUT_MS = 5000;

/** Marks when checks began (kept if there), and records a reset when it began again since this process last looked. Best effort. */
export async function markCheckingSince(redis: RedisConnection, prefix: string, log: Logger, now = Date.now()): Promise<void> {
  const k = keys(prefix);
  try {
    const replies = await withTimeout(redis.multi().set(k.checkingSince, String(now), 'NX').get(k.checkingSince).exec(), TIMEOUT_MS, 'Redis');
    const since = Number(replies?.[1]?.[1]);
    if (!Number.isFinite(since)) return;
    const before = seen.get(prefix);
    seen.set(prefix, since);
    if (before === undefined || since <= before) return;
    const reset: HistoryReset = { at: since, lostSince: before };
    await withTimeout(redis.set(k.healthReset, JSON.stringify(reset)), TIMEOUT_MS, 'Redis');
    log.warn(
      { reset },
      `the health history in Redis began again at ${new Date(since).toISOString()}: the checks kept since ${new Date(before).toISOString()} are gone (Redis restarted without its data?)`,
    );
  } catch (err) {
    // Redis away: the check itself says so in its result.
    log.debug(`cannot mark when checks began: ${coerceError(err).message}`);
  }
}

/** When the kept history began, and the last reset, if any. */
export async function readHistoryStart(redis: RedisConnection, prefix: string): Promise<{ since: number | null; reset: HistoryReset | null }> {
  const k = keys(prefix);
  const [since, reset] = await redis.mget(k.checkingSince, k.healthReset);
  let r: HistoryReset | null = null;
  try {
    const parsed = reset ? (JSON.parse(reset) as Partial<HistoryReset>) : null;
    if (parsed && typeof parsed.at === 'number' && typeof parsed.lostSince === 'number') r = { at: parsed.at, lostSince: parsed.lostSince };
  } catch {
    // Not one this version wrote: no note rather than a wrong one.
  }
  const s = since === null ? null : Number(since);
  return { since: s !== null && Number.isFinite(s) ? s : null, reset: r };
}
