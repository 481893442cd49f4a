import type { BuiltPayload } from './payload.js';
import type { DecodedScan as Scan } from './payload.js';
import { preciseNow, type ScanTimes } from '../scan-times.js';
import type { LatestStore, PutOutcome } from './store.js';
import { isNewerScan, scanOrderOf, type ScanOrderKey } from '../scan-order.js';

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
  /** The store answered: written, or not newer than what it holds. */
  onDone(item: LatestItem, outcome: PutOutcome): void;
  /** The write failed; `newest` is what waits to be written when Hazelcast answers again. */
  onError(err: unknown, newest: LatestItem): void;
}

/**
 * Coalescing of the latest value: one write in flight at a time; scans arriving meanwhile
 * replace each other, so only the newest waits. A scan not newer than the one waiting or last
 * written is refused (the caller keeps it for history only).
 */
export class LatestWriter {
  private pending: LatestItem | undefined;
  private busy = false;
  private lastWritten: ScanOrderKey | null = null;
  private stopped = false;

  constructor(private readonly o: LatestWriterOptions) {}

  /** The scan number waiting to be written, if any. */
  pendingScan(): number | null {
    return this.pending?.scan.scanNumber ?? null;
  }

  /** A write is in flight. */
  writing(): boolean {
    return this.busy;
  }

  /** Takes the scan when it is ahead in scan order; otherwise returns the scan it is behind. */
  offer(item: LatestItem): { taken: true } | { taken: false; ahead: ScanOrderKey } {
    const ahead = this.pending ? scanOrderOf(this.pending.scan) : this.lastWritten;
    if (ahead && !isNewerScan(scanOrderOf(item.scan), ahead)) return { taken: false, ahead };
    this.pending = item;
    this.kick();
    return { taken: true };
  }

  /** Writes what is pending, unless a write is in flight. */
  kick(): void {
    if (this.busy || !this.pending || this.stopped) return;
    this.busy = true;
    const p = this.pending;
    const payload = this.o.payloadOf(p);
    if (p.times) p.times.latestSent = preciseNow();
    this.o.store.putIfNewer(scanOrderOf(p.scan), payload).then(
      (outcome) => {
        if (p.times) {
          p.times.latestAnswered = preciseNow();
          if (outcome.kind === 'written') p.times.calls = outcome.calls;
        }
        this.busy = false;
        if (this.pending === p) this.pending = undefined;
        if (outcome.kind === 'written') this.lastWritten = scanOrderOf(p.scan);
        this.o.onDone(p, outcome);
        this.kick();
      },
      (err: unknown) => {
        this.busy = false;
        this.o.onError(err, this.pending ?? p);
      },
    );
  }

  stop(): void {
    this.stopped = true;
  }
}
