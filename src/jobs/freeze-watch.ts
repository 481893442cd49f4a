/**
 * Whether this process has been frozen (SIGSTOP, a suspended VM, an event loop blocked by a long
 * task) since a given moment. A tick every `limitMs`/2 notes when the event loop last ran; a gap
 * between ticks longer than `limitMs` is a freeze, remembered by when it ended. A freeze longer
 * than `limitMs` makes a gap at least that long whenever the ticks come, so ticking faster finds
 * none sooner; half the limit leaves the other half for a tick that runs late under load. The gap
 * still open when `frozenSince` is asked counts too, so the answer is right even before the first
 * tick after waking has run.
 */
export class FreezeWatch {
  private lastTick = performance.now();
  /** performance.now() when the last freeze ended; -Infinity: none seen. */
  private lastFreezeEnd = -Infinity;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly limitMs: number) {
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.floor(limitMs / 2)));
    this.timer.unref();
  }

  /** Whether the process was frozen for longer than `limitMs` at any time after `since` (a performance.now() time). */
  frozenSince(since: number): boolean {
    this.tick();
    return this.lastFreezeEnd > since;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.lastTick > this.limitMs) this.lastFreezeEnd = now;
    this.lastTick = now;
  }
}
