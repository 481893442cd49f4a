import type { BuiltPayload } from './payload.js';
import type { DecodedScan as Scan } from './payload.js';
import { preciseNow, type ScanTimes } from '../scan-times.js';
import type { LatestStore, PutOutcome } from './store.js';
import { compareScans, isNewerScan, scanOrderOf, type ScanOrderKey } from '../guards/scan-order.js';

/** A scan offered for `latest_eigen_scan`. */
export interface LatestItem {
  scan: Scan;
  relPath: string;
  /** When its file was seen (epoch ms, sub-ms): the push latency is measured from here. */
  eventAt: number;
  payload?: BuiltPayload;
  times?: ScanTimes;
}

export interface LatestWriterOptions {
  store: Pick<LatestStore, 'putIfNewer'>;
  payloadOf(item: LatestItem): string;
  /** The store answered: written, or not newer than what it holds. `restored`: the answer to `restore`. */
  onDone(item: LatestItem, outcome: PutOutcome, restored: boolean): void;
  /** The write failed; `newest` is what waits to be written when Hazelcast answers again. */
  onError(err: unknown, newest: LatestItem): void;
}

/**
 * Coalescing of the latest value: one write in flight at a time; scans arriving meanwhile
 * replace each other, so only the newest waits. A scan not newer than the one waiting or in
 * flight is refused here (the caller keeps it for history only): that one is about to be
 * compared with what Hazelcast holds. Nothing already answered is trusted over Hazelcast: an
 * older scan offered after it goes to the store, which compares it with what is there now.
 */
export class LatestWriter {
  private pending: LatestItem | undefined;
  private inFlight: LatestItem | undefined;
  /** The newest scan Hazelcast was seen to hold from this writer (written, or found there): what `restore` puts back. */
  private held: LatestItem | undefined;
  private restoring: LatestItem | undefined;
  private stopped = false;

  constructor(private readonly o: LatestWriterOptions) {}

  /** The scan number waiting to be written, if any. */
  pendingScan(): number | null {
    return this.pending?.scan.scanNumber ?? null;
  }

  /** A write is in flight. */
  writing(): boolean {
    return this.inFlight !== undefined;
  }

  /** Takes the scan when it is ahead in scan order; otherwise returns the scan it is behind. */
  offer(item: LatestItem): { taken: true } | { taken: false; ahead: ScanOrderKey } {
    const next = this.pending ?? this.inFlight;
    const ahead = next ? scanOrderOf(next.scan) : null;
    if (ahead && !isNewerScan(scanOrderOf(item.scan), ahead)) return { taken: false, ahead };
    this.pending = item;
    this.kick();
    return { taken: true };
  }

  /**
   * Hazelcast lost the value (a member restarted empty, the key deleted): offers again the newest
   * scan it held from this writer, unless a newer one is on its way. `onDone` tells the outcome,
   * with `restored` set. False when there is nothing to put back.
   */
  restore(): boolean {
    const p = this.held;
    if (!p || this.stopped) return false;
    if (this.pending || this.inFlight) return true;
    this.restoring = p;
    this.pending = p;
    this.kick();
    return true;
  }

  /** Writes what is pending, unless a write is in flight. */
  kick(): void {
    if (this.inFlight || !this.pending || this.stopped) return;
    const p = this.pending;
    this.inFlight = p;
    const payload = this.o.payloadOf(p);
    if (p.times) p.times.latestSent = preciseNow();
    this.o.store.putIfNewer(scanOrderOf(p.scan), payload).then(
      (outcome) => {
        if (p.times) {
          p.times.latestAnswered = preciseNow();
          if (outcome.kind === 'written') p.times.calls = outcome.calls;
        }
        this.inFlight = undefined;
        if (this.pending === p) this.pending = undefined;
        const restored = this.restoring === p;
        if (restored) this.restoring = undefined;
        const there = outcome.kind === 'written' || compareScans(outcome.current, scanOrderOf(p.scan)) === 0;
        if (there && isNewerScan(scanOrderOf(p.scan), this.held ? scanOrderOf(this.held.scan) : null)) this.held = p;
        this.o.onDone(p, outcome, restored);
        this.kick();
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.o.onError(err, this.pending ?? p);
      },
    );
  }

  stop(): void {
    this.stopped = true;
  }
}
