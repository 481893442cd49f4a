/**
 * The bridge lease: who may run the bridge, in scan-bridge's own key (keys.ts `lease`), not in
 * BullMQ's. Its value names the holder's token and generation (and pid and host, for people); a
 * taker increments the generation counter. The holder renews only a lease whose value is still
 * its own, takes back one that lapsed while nobody took a newer generation (a Redis failover
 * longer than the lease), and sets back both lease and counter when Redis lost them (restarted
 * empty), so generation numbers only grow. The scripts are in ./lua/.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { REDIS_RECONNECT_MAX_MS, type RedisConnection } from '../connections.js';
import { keys } from '../keys.js';
import { luaScript } from '../lua-script.js';
import { sleep } from '../time.js';

const ACQUIRE = luaScript(new URL('./lua/lease-acquire.lua', import.meta.url));
const RENEW = luaScript(new URL('./lua/lease-renew.lua', import.meta.url));
const RELEASE = luaScript(new URL('./lua/lease-release.lua', import.meta.url));

/** What a renewal found: 0 not ours; 1 ours, extended; 2 lapsed and taken back; 3 Redis had lost it and the counter, both set back. */
export type LeaseAnswer = 0 | 1 | 2 | 3;

export interface LeaseValue {
  token: string;
  generation: number;
  pid: number;
  host: string;
}

/**
 * The timings of the bridge, from BRIDGE_LOCK_MS (L, 5 s by default). Takeover of a SIGKILLed
 * holder: its lease is renewed up to its death, so it lapses at most L after it; the BullMQ job
 * lock too (also L), and a stalled check within L/4 after that gives the job to a standby, whose
 * processor looks at the lease every L/4: the lease is taken at most L + L/4 after the death
 * (6.25 s), and the bridge pushes after its start (Hazelcast client, newest scan: about 1 s).
 * A Redis outage of any length does not stop the data: the holder writes on (it ran throughout),
 * and takes its lease back when Redis answers, unless a standby took a newer generation first,
 * which a standby does only once its own connection has been up for SETTLE (below), longer than
 * the holder needs to reconnect and renew. Renewals every L/4 leave 3L/4 for a slow answer
 * before the write gate asks again. The BullMQ job lock only keeps the job on a worker: renewed
 * every L/2 (BullMQ's timer ticks at half that), checked for stalls every L/4.
 */
export function bridgeTimings(lockMs: number) {
  return {
    /** The lease and the BullMQ job lock. */
    lockMs,
    leaseRenewMs: Math.max(50, Math.floor(lockMs / 4)),
    /** How often a standby holding the job looks whether the lease is free. */
    standbyLookMs: Math.max(50, Math.floor(lockMs / 4)),
    jobLockRenewMs: Math.max(100, Math.floor(lockMs / 2)),
    stalledIntervalMs: Math.max(250, Math.floor(lockMs / 4)),
  };
}

/** Garbage in the key (written by hand?) reads as held by nobody known; it still keeps a standby off until it lapses. */
function parseLease(raw: string): LeaseValue {
  try {
    const v = JSON.parse(raw) as Partial<LeaseValue>;
    return { token: String(v.token), generation: Number(v.generation) || 0, pid: Number(v.pid) || 0, host: String(v.host ?? '?') };
  } catch {
    return { token: '?', generation: 0, pid: 0, host: '?' };
  }
}

/** One process's side of the lease (one per bridge worker). */
export class BridgeLease {
  readonly token = randomUUID();
  private held: { raw: string; value: LeaseValue; sentAt: number } | undefined;
  /** The highest generation this process has seen: a counter Redis lost is set past it. */
  private seen = 0;
  /** performance.now() when the connection last came back after a drop; -Infinity: never dropped. */
  private reconnectedAt = -Infinity;
  private readonly k;

  constructor(
    private readonly redis: RedisConnection,
    prefix: string,
    readonly lockMs: number,
  ) {
    this.k = keys(prefix);
    let up = redis.status === 'ready';
    redis.on('ready', () => {
      if (up) this.reconnectedAt = performance.now();
      up = true;
    });
  }

  /** The lease as this process took it; undefined when it holds none. */
  get value(): LeaseValue | undefined {
    return this.held?.value;
  }

  get generation(): number | undefined {
    return this.held?.value.generation;
  }

  /** performance.now() when the call that last took the lease was sent: it is ours until that plus lockMs at least. */
  get takenAt(): number {
    return this.held?.sentAt ?? -Infinity;
  }

  /** Takes the lease with a new generation if it is free or already ours; else says who holds it. */
  async acquire(): Promise<{ taken: LeaseValue } | { heldBy: LeaseValue }> {
    const sentAt = performance.now();
    const [gen, raw] = (await ACQUIRE(this.redis, [this.k.lease, this.k.generation], [this.token, this.lockMs, process.pid, hostname(), this.seen])) as [
      number,
      string,
    ];
    const value = parseLease(raw);
    this.seen = Math.max(this.seen, value.generation);
    if (Number(gen) === 0) return { heldBy: value };
    this.held = { raw, value, sentAt };
    return { taken: value };
  }

  /** Renews the lease this process took (see LeaseAnswer); 0 if it holds none. */
  async renew(): Promise<LeaseAnswer> {
    const h = this.held;
    if (!h) return 0;
    const answer = Number(await RENEW(this.redis, [this.k.lease, this.k.generation], [h.raw, h.value.generation, this.lockMs])) as LeaseAnswer;
    if (answer === 0 && this.held === h) this.held = undefined;
    return answer;
  }

  /** Gives the lease up if it is still ours (a standby takes it at once); true if it was. */
  async release(): Promise<boolean> {
    const h = this.held;
    if (!h) return false;
    this.held = undefined;
    return Number(await RELEASE(this.redis, [this.k.lease], [h.raw])) === 1;
  }

  /** Who holds the lease now; null: nobody. */
  async holder(): Promise<LeaseValue | null> {
    const raw = await this.redis.get(this.k.lease);
    if (raw === null) return null;
    const v = parseLease(raw);
    this.seen = Math.max(this.seen, v.generation);
    return v;
  }

  /**
   * Waits as a standby until the lease is free, then takes it; undefined if `stop` aborts first.
   * Looks every `lookMs`, and tells `onHeld` of each holder it sees (again when it changes). A
   * lease found free just after this connection came back is left alone for SETTLE: a holder that
   * ran through the outage gets the time to reconnect and take it back.
   */
  async standBy(lookMs: number, stop: AbortSignal, onHeld: (v: LeaseValue) => void): Promise<LeaseValue | undefined> {
    const settleMs = REDIS_RECONNECT_MAX_MS + bridgeTimings(this.lockMs).leaseRenewMs;
    let told: string | undefined;
    while (!stop.aborted) {
      try {
        // Only over a connection that is up (a call made while it is down would run the moment it
        // is back, before the holder could reconnect) and has been for SETTLE.
        const settled = this.redis.status === 'ready' && performance.now() - this.reconnectedAt >= settleMs;
        const now = settled
          ? await untilAborted(this.acquireUnlessStopped(stop), stop)
          : await untilAborted(
              this.holder().then((h) => (h ? { heldBy: h } : null)),
              stop,
            );
        if (now && 'taken' in now) return now.taken;
        if (now && 'heldBy' in now && `${now.heldBy.token}/${now.heldBy.generation}` !== told) {
          told = `${now.heldBy.token}/${now.heldBy.generation}`;
          onHeld(now.heldBy);
        }
      } catch {
        /* Redis down or answering slowly: look again */
      }
      await sleep(lookMs, stop);
    }
    return undefined;
  }

  /** acquire(), giving the lease up again if `stop` aborted while the call was on its way: nobody would run the bridge under it. */
  private async acquireUnlessStopped(stop: AbortSignal): Promise<{ taken: LeaseValue } | { heldBy: LeaseValue }> {
    const r = await this.acquire();
    if (stop.aborted && 'taken' in r) await this.release();
    return r;
  }
}

/** `p`, or undefined once `stop` aborts (a call to a Redis that is away waits until it is back). */
function untilAborted<T>(p: Promise<T>, stop: AbortSignal): Promise<T | undefined> {
  if (stop.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((ok, fail) => {
    const onAbort = () => ok(undefined);
    stop.addEventListener('abort', onAbort, { once: true });
    p.then(ok, fail).finally(() => stop.removeEventListener('abort', onAbort));
  });
}
