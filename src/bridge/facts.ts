import { hostname } from 'node:os';
import type { RedisConnection } from '../connections.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { keys } from '../keys.js';
import { luaScript } from '../lua-script.js';
import type { BridgeStats } from './stats.js';

export function bridgeKeys(prefix: string) {
  const k = keys(prefix);
  return { heartbeat: k.heartbeat, stats: k.stats, generation: k.generation };
}

/** The live bridge, as it says itself every few seconds. Missing or expired: no live bridge. */
export interface Heartbeat {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  /** Increases by one for every bridge run, across all machines. */
  generation: number;
  beatAt: number;
  watching: boolean;
  /** When `watching` last changed (the run's start until it first does); absent from heartbeats of older versions. */
  watchingChangedAt?: number;
}

export interface BridgeFactsOptions {
  redis: RedisConnection;
  prefix: string;
  stats: () => BridgeStats;
  log: Logger;
  intervalMs: number;
  ttlMs: number;
  /** This run's generation, as the bridge lease gave it (jobs/bridge-lease.ts); absent: the next of the counter, taken at the first beat. */
  generation?: number;
}

/** Sets the heartbeat and stats unless the heartbeat there is another run's (its header names KEYS and ARGV). */
const WRITE_OVER_OWN = luaScript(new URL('./lua/heartbeat-write.lua', import.meta.url));

/**
 * Publishes the bridge's heartbeat and stats to Redis for supervision. A Redis outage is
 * logged once and never stops the bridge; the facts resume when Redis returns.
 */
export class BridgeFacts {
  private timer: NodeJS.Timeout | undefined;
  private generation: number;
  private failing = false;
  /** The counter's next number on its way (two beats at once take one). */
  private taking: Promise<number> | undefined;
  /** The watching flag as the last heartbeat said it, and since when. */
  private watchingSeen: { watching: boolean; at: number } | undefined;
  private readonly keys;

  constructor(private readonly o: BridgeFactsOptions) {
    this.keys = bridgeKeys(o.prefix);
    this.generation = o.generation ?? -1;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** Takes a new generation number (unless the lease gave one) and writes the first heartbeat (best effort). */
  async start(): Promise<void> {
    // The timer first: a stop() while the first beat is on its way (a run that failed to start) clears it.
    this.timer = setInterval(() => void this.beat(), this.o.intervalMs);
    this.timer.unref();
    await this.beat();
  }

  /**
   * Writes a last heartbeat (not watching), then removes it if it is still this run's. With
   * `keepHeartbeat` (the run lost its lock: the job goes to whichever worker takes it next) the
   * last one stays until it expires or a successor's replaces it, so a check in between reads a
   * bridge that stopped watching a moment ago, not a missing bridge to restart.
   */
  async stop(opts: { keepHeartbeat?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      // The last one only over a heartbeat of this run's (or none): a successor's stays.
      await this.write(true);
      if (opts.keepHeartbeat) return;
      // Remove the heartbeat only if it is still ours, so a successor's is never deleted.
      const hb = await this.o.redis.get(this.keys.heartbeat);
      if (hb && (JSON.parse(hb) as Heartbeat).generation === this.generation) await this.o.redis.del(this.keys.heartbeat);
    } catch {
      /* Redis gone: the heartbeat expires on its own */
    }
  }

  /** Writes the heartbeat and stats now. */
  async beat(): Promise<void> {
    try {
      if (this.generation < 0) {
        this.taking ??= this.o.redis.incr(this.keys.generation).catch((err: unknown) => {
          this.taking = undefined;
          throw err;
        });
        this.generation = await this.taking;
      }
      await this.write();
      if (this.failing) {
        this.failing = false;
        this.o.log.info('Redis is back: bridge heartbeat resumed');
      }
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.o.log.warn(`cannot write the bridge heartbeat to Redis (${coerceError(err).message}); scans keep flowing, retrying`);
      }
    }
  }

  /** `onlyOverOwn`: write only if the heartbeat in Redis is this run's, or there is none. */
  private async write(onlyOverOwn = false): Promise<void> {
    if (this.generation < 0) return;
    const s = this.o.stats();
    if (!this.watchingSeen || this.watchingSeen.watching !== s.watching) {
      this.watchingSeen = { watching: s.watching, at: this.watchingSeen ? Date.now() : s.startedAt };
    }
    const hb: Heartbeat = {
      id: s.bridgeId,
      host: hostname(),
      pid: process.pid,
      startedAt: s.startedAt,
      generation: this.generation,
      beatAt: Date.now(),
      watching: s.watching,
      watchingChangedAt: this.watchingSeen.at,
    };
    const stats = JSON.stringify({ ...s, generation: this.generation, updatedAt: Date.now() });
    if (onlyOverOwn) {
      await WRITE_OVER_OWN(this.o.redis, [this.keys.heartbeat, this.keys.stats], [JSON.stringify(hb), this.o.ttlMs, stats, this.generation]);
      return;
    }
    // The generation counter too, if Redis lost it (restarted empty while this run went on): the
    // next run is then numbered after this one, and a restart waits for a generation past it.
    await this.o.redis
      .multi()
      .set(this.keys.heartbeat, JSON.stringify(hb), 'PX', this.o.ttlMs)
      .set(this.keys.stats, stats)
      .set(this.keys.generation, this.generation, 'NX')
      .exec();
  }
}

export interface BridgeFactsView {
  heartbeat: Heartbeat | null;
  stats: (BridgeStats & { generation: number; updatedAt: number }) | null;
}

export async function readBridgeFacts(redis: RedisConnection, prefix: string): Promise<BridgeFactsView> {
  const k = bridgeKeys(prefix);
  const [hb, st] = await redis.mget(k.heartbeat, k.stats);
  return { heartbeat: hb ? (JSON.parse(hb) as Heartbeat) : null, stats: st ? (JSON.parse(st) as BridgeFactsView['stats']) : null };
}
