/**
 * Follows the sentinels' `+switch-master` for the Sentinel connections of this process, in place
 * of ioredis's own failover detector. That detector disconnects its connector whenever the
 * message comes, also while the connection is asking a sentinel for the master (a slow sentinel,
 * or the wait after "All sentinels are unreachable. Retrying from scratch"): the attempt then
 * fails with "Connection is closed." and ioredis ends the connection for good, since it ends a
 * connection whose connector rejects. Here only a connection that is ready is told to reconnect
 * (`disconnect(true)`, public API); one that is reconnecting asks the sentinels by itself.
 */
import { Redis } from 'ioredis';
import type { RedisTarget } from './config.js';
import { coerceError } from './errors.js';

type SentinelTarget = Extract<RedisTarget, { kind: 'sentinel' }>;

const CHANNEL = '+switch-master';
/** How often a subscription to a sentinel that went away is tried again. */
const RESUBSCRIBE_MS = 1000;

/** The connections of one Sentinel deployment, and one subscriber per sentinel while any is open. */
class Watch {
  private readonly conns = new Set<Redis>();
  private subscribers: Redis[] = [];

  constructor(
    private readonly target: SentinelTarget,
    private readonly debug: (line: string) => void,
  ) {}

  add(conn: Redis): void {
    if (this.conns.size === 0) this.subscribe();
    this.conns.add(conn);
    // `end`: closed for good (by its owner); the last one closes the subscriptions.
    conn.once('end', () => {
      this.conns.delete(conn);
      if (this.conns.size === 0) this.unsubscribe();
    });
  }

  private subscribe(): void {
    this.subscribers = this.target.sentinels.map((s) => {
      const sub = new Redis({
        host: s.host,
        port: s.port,
        password: this.target.sentinelPassword,
        retryStrategy: () => RESUBSCRIBE_MS,
        maxRetriesPerRequest: null,
        connectTimeout: 3000,
      });
      sub.on('error', (err) => this.debug(`sentinel ${s.host}:${s.port}: ${coerceError(err).message}`));
      sub.on('message', (_channel: string, message: string) => this.switched(message));
      sub.subscribe(CHANNEL).catch((err: unknown) => this.debug(`sentinel ${s.host}:${s.port}: cannot subscribe yet: ${coerceError(err).message}`));
      return sub;
    });
  }

  private unsubscribe(): void {
    for (const sub of this.subscribers) sub.disconnect();
    this.subscribers = [];
  }

  /** `<master name> <old ip> <old port> <new ip> <new port>`; every sentinel sends it once. */
  private switched(message: string): void {
    const [name, , , host, port] = message.split(' ');
    if (name !== this.target.master) return;
    for (const conn of this.conns) {
      // Only a ready connection is safe to disconnect (see above); one already on the new master stays.
      const onNew = conn.stream?.remotePort === Number(port) && conn.stream?.remoteAddress?.replace(/^::ffff:/, '') === host;
      if (conn.status === 'ready' && !onNew) conn.disconnect(true);
    }
  }
}

const watches = new Map<string, Watch>();

/** Makes `conn` (a Sentinel connection created with `failoverDetector: false`) follow failovers. */
export function followFailovers(target: SentinelTarget, conn: Redis, debug: (line: string) => void): void {
  const key = JSON.stringify([target.master, target.sentinels]);
  let watch = watches.get(key);
  if (!watch) {
    watch = new Watch(target, debug);
    watches.set(key, watch);
  }
  watch.add(conn);
}
