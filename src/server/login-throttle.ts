/**
 * Login checks per client address, in memory: a burst of `limit`, then one check per
 * `windowMs / limit`, in order of arrival (a generic cell rate algorithm: the "theoretical arrival
 * time" of each address moves on by one spacing per check). Pure: the caller passes the clock.
 *
 * Failures are what is throttled, not success: every check is charged when it is let through and
 * a right password gives its charge back ({@link LoginThrottle.refund}). A throttled address is
 * not shut out: its logins wait their turn, so a right password among wrong ones gets in after
 * at most the guess ahead of it, while guesses from that address never exceed `limit` per window
 * once the burst is spent. More than a window's worth of waiting logins is refused at once (429):
 * a flood is not queued without end.
 *
 * Per process: two board processes each allow `limit`. Bounded: past `maxAddresses` an address
 * that has paid back every charge is forgotten first, then the oldest, so a flood of addresses
 * costs memory it cannot grow.
 */
export type Turn = { waitMs: number } | { refusedForMs: number };

export class LoginThrottle {
  /** Per address: the time its charges are paid back by (the theoretical arrival time). */
  private readonly tat = new Map<string, number>();
  /** Time between checks once the burst is spent. */
  readonly spacingMs: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {
    this.spacingMs = windowMs / limit;
  }

  /** When this login may be checked (waiting its turn), or refused: charges one check unless refused. */
  admit(address: string, now: number): Turn {
    const tat = Math.max(this.tat.get(address) ?? now, now);
    const waitMs = tat - (this.windowMs - this.spacingMs) - now;
    if (waitMs > this.windowMs) return { refusedForMs: waitMs - this.windowMs };
    if (!this.tat.has(address) && this.tat.size >= this.maxAddresses) this.evict(now);
    this.tat.delete(address);
    this.tat.set(address, tat + this.spacingMs);
    return { waitMs: Math.max(0, waitMs) };
  }

  /** Gives a charge back: the password was right, or the caller left before its check. */
  refund(address: string): void {
    const tat = this.tat.get(address);
    if (tat !== undefined) this.tat.set(address, tat - this.spacingMs);
  }

  /** Whether a login from this address would have to wait now. */
  throttled(address: string, now: number): boolean {
    const tat = this.tat.get(address);
    return tat !== undefined && tat - (this.windowMs - this.spacingMs) > now;
  }

  private evict(now: number): void {
    for (const [addr, tat] of this.tat) if (tat <= now) this.tat.delete(addr);
    const oldest = this.tat.keys().next();
    if (this.tat.size >= this.maxAddresses && !oldest.done) this.tat.delete(oldest.value);
  }
}

/** The client address as Express names it (`req.ip`, which follows `trust proxy`), with IPv4-mapped IPv6 shown as IPv4. */
export function clientAddress(ip: string | undefined): string {
  if (ip === undefined) return 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
