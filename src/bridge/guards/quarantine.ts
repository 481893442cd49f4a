/**
 * Files that broke a decoding limit (time, memory, size) or crashed a decoder. They are kept in
 * Redis so that every bridge, a standby's start-up catch-up included, skips them until their
 * size or mtime changes; while Redis is down they are kept in memory and written when it returns.
 */
import { isAbsolute, resolve } from 'node:path';
import type { RedisConnection as Redis } from '../../connections.js';
import type { Logger } from '../../log.js';
import { coerceError } from '../../errors.js';
import { reasonInWords } from '../../reachability.js';
import { keys } from '../../keys.js';
import { withTimeout } from '../../time.js';
import { relativeToRoot } from '../watch/scan-files.js';
import type { Limit } from '../threads/limits.js';

export interface QuarantineEntry {
  /** Relative to ARROW_DIR, as in payloads. */
  relPath: string;
  size: number;
  mtimeMs: number;
  limit: Limit;
  reason: string;
  at: number;
  bridgeId: string;
}

function parse(relPath: string, text: string): QuarantineEntry | null {
  try {
    const e = JSON.parse(text) as QuarantineEntry;
    return { ...e, relPath };
  } catch {
    return null;
  }
}

/** Every quarantined file, oldest first. */
export function readQuarantine(redis: Redis, prefix: string): Promise<QuarantineEntry[]> {
  return readEntries(redis, keys(prefix).quarantine);
}

async function readEntries(redis: Redis, key: string): Promise<QuarantineEntry[]> {
  const all = await redis.hgetall(key);
  return Object.entries(all)
    .map(([rel, text]) => parse(rel, text))
    .filter((e): e is QuarantineEntry => e !== null)
    .sort((a, b) => a.at - b.at);
}

/** How many files are quarantined. */
export function quarantineSize(redis: Redis, prefix: string): Promise<number> {
  return redis.hlen(keys(prefix).quarantine);
}

/** The quarantine field for what a person typed: a path relative to ARROW_DIR, or any path inside it. */
export function quarantineField(arrowDir: string, path: string): string {
  if (!isAbsolute(path) && !path.startsWith('.')) return path.split('\\').join('/');
  return relativeToRoot(arrowDir, resolve(path));
}

/** Releases one file: every bridge reads it again from its next look at it. False when it was not quarantined. */
export async function releaseQuarantine(redis: Redis, prefix: string, relPath: string): Promise<boolean> {
  return (await redis.hdel(keys(prefix).quarantine, relPath)) > 0;
}

/** Redis calls wait no longer: while it is down (commands queue up) the bridge goes on from memory. */
const REDIS_WAIT_MS = 2000;

/** A bridge's view of the quarantine: Redis mirrored in memory, refreshed now and then. */
export class Quarantine {
  private entries = new Map<string, QuarantineEntry>();
  /** Added while Redis could not be written: kept across refreshes until written. */
  private readonly unsaved = new Map<string, QuarantineEntry>();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private readonly key: string;

  constructor(
    private readonly redis: Redis | undefined,
    prefix: string,
    private readonly log: Logger,
    /** Called for each file released by hand (gone from Redis since the last refresh). */
    private readonly onRelease: (relPath: string) => void = () => undefined,
  ) {
    this.key = keys(prefix).quarantine;
  }

  /** Loads what Redis holds, then refreshes every `intervalMs` (releases by hand show up then). */
  async start(intervalMs: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get(relPath: string): QuarantineEntry | undefined {
    return this.entries.get(relPath);
  }

  get size(): number {
    return this.entries.size;
  }

  list(): QuarantineEntry[] {
    return [...this.entries.values()];
  }

  add(entry: QuarantineEntry): void {
    this.entries.set(entry.relPath, entry);
    this.unsaved.set(entry.relPath, entry);
    void this.save();
  }

  /** The file changed since it was quarantined and decoded fine (or is gone): no longer quarantined. */
  forget(relPath: string): void {
    const e = this.entries.get(relPath);
    if (!e) return;
    this.entries.delete(relPath);
    this.unsaved.delete(relPath);
    if (this.redis)
      withTimeout(this.redis.hdel(this.key, relPath), REDIS_WAIT_MS, 'Redis').catch((err: unknown) =>
        this.log.debug(`quarantine: cannot remove ${relPath} from Redis yet: ${coerceError(err).message}`),
      );
  }

  private async save(): Promise<void> {
    if (!this.redis || this.unsaved.size === 0) return;
    const batch = [...this.unsaved.values()];
    try {
      await withTimeout(
        this.redis.hset(this.key, Object.fromEntries(batch.map(({ relPath, ...rest }) => [relPath, JSON.stringify(rest)]))),
        REDIS_WAIT_MS,
        'Redis',
      );
      for (const e of batch) if (this.unsaved.get(e.relPath) === e) this.unsaved.delete(e.relPath);
      this.recovered();
    } catch (err) {
      this.down(err);
    }
  }

  private async refresh(): Promise<void> {
    if (!this.redis) return;
    await this.save();
    try {
      const fresh = new Map((await withTimeout(readEntries(this.redis, this.key), REDIS_WAIT_MS, 'Redis')).map((e) => [e.relPath, e]));
      for (const [rel, e] of this.unsaved) fresh.set(rel, e);
      const released = [...this.entries.keys()].filter((rel) => !fresh.has(rel));
      this.entries = fresh;
      for (const rel of released) this.onRelease(rel);
      this.recovered();
    } catch (err) {
      this.down(err);
    }
  }

  private down(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    // The outage itself is the process's one warning (reachability.ts); this says what is done about it.
    this.log.info(`quarantine: Redis cannot be reached (${reasonInWords(err)}); quarantined files are kept in memory until it returns`);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info('quarantine: Redis is back; quarantined files written there');
  }
}
