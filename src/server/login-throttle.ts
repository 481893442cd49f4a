/**
 * Failed logins counted per client address, in memory: `limit` failures, then every request from
 * that address is refused for `windowMs` without its credentials being checked. Pure: the caller
 * passes the clock.
 *
 * Per process: two board processes each allow `limit`. Bounded: past `maxAddresses` the oldest
 * entry is forgotten, so a flood of addresses costs memory it cannot grow.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, { windowStart: number; failures: number; blockedUntil: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Milliseconds this address must still wait; 0 when it may try. */
  blockedForMs(address: string, now: number): number {
    const e = this.entries.get(address);
    return e !== undefined && e.blockedUntil > now ? e.blockedUntil - now : 0;
  }

  /** Records a failure; returns the failures in the current window and whether it is now blocked. */
  failed(address: string, now: number): { failures: number; blocked: boolean } {
    let e = this.entries.get(address);
    if (e === undefined || now - e.windowStart >= this.windowMs) {
      this.entries.delete(address);
      e = { windowStart: now, failures: 0, blockedUntil: 0 };
      if (this.entries.size >= this.maxAddresses) this.evict(now);
      this.entries.set(address, e);
    }
    e.failures++;
    const blocked = e.failures >= this.limit;
    // Blocked for a whole window from the last allowed guess, then the count starts again.
    if (blocked) {
      e.blockedUntil = now + this.windowMs;
      e.windowStart = now;
      e.failures = 0;
    }
    return { failures: blocked ? this.limit : e.failures, blocked };
  }

  /** A right password forgives the typos before it. */
  succeeded(address: string): void {
    this.entries.delete(address);
  }

  private evict(now: number): void {
    for (const [addr, e] of this.entries) {
      if (e.blockedUntil <= now && now - e.windowStart >= this.windowMs) this.entries.delete(addr);
    }
    const oldest = this.entries.keys().next();
    if (this.entries.size >= this.maxAddresses && !oldest.done) this.entries.delete(oldest.value);
  }
}

/** The peer address of the socket, with IPv4-mapped IPv6 shown as IPv4. Proxies are not trusted. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
