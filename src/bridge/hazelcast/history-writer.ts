import { join } from 'node:path';
import type { Hazelcast } from '../../connections.js';
import type { BuiltPayload, DecodedScan as Scan } from './payload.js';
import type { ReadOutcome } from '../scan-decoder.js';
import { preciseNow, type ScanTimes } from '../scan-times.js';
import { WriteRefusedError, type HistoryStore } from './store.js';
import { scanOrderOf } from '../guards/scan-order.js';

/** A scan waiting for the history map; without `scan` only its file is kept, read again when written. */
export interface HistoryItem {
  scanNumber: number;
  relPath: string;
  scan?: Scan;
  payload?: BuiltPayload;
  times?: ScanTimes;
}

export interface HistoryWriterOptions {
  store: Pick<HistoryStore, 'put'>;
  hazelcast: Pick<Hazelcast, 'waitConnected'>;
  arrowDir: string;
  /** One read of one file (scan-decoder.ts): a scan not kept in memory is read again. */
  read(path: string, relPath: string): Promise<ReadOutcome>;
  /** Decoded scans kept in the queue; later ones are read from disk again. */
  inMemory: number;
  payloadOf(item: { scan: Scan; relPath: string; payload?: BuiltPayload | undefined }): string;
  /** Told of every failed write and every successful one (the outage retry). */
  outage: { failed(err: unknown, plan: string): void; recovered(): void };
  say(level: 'warn', message: string): void;
  /**
   * While true, live scans wait: the latest value goes first, alone on the connection and the
   * member. Call `nudge` when it turns false.
   */
  latestFirst?(): boolean;
}

const CONCURRENCY = 32;
const QUEUE_MAX = 100_000;

/**
 * The one history writer, shared by live scans and the start-up backfill. Live scans are queued
 * and written up to 32 at a time; after a failure the queue pauses until `resume` (the outage
 * retry calls it). The backfill writes one scan at a time per caller and waits for Hazelcast
 * between attempts.
 */
export class HistoryWriter {
  /** Scans written to the history map. */
  written = 0;
  private readonly queue: HistoryItem[] = [];
  private inFlight = 0;
  /** Set by a failed write until the next retry, so an outage is not a busy loop. */
  private paused = false;
  private stopped = false;

  constructor(private readonly o: HistoryWriterOptions) {}

  /** Scans queued or being written. */
  backlog(): number {
    return this.queue.length + this.inFlight;
  }

  /** Queues a live scan. When the queue is full the oldest scan in it is dropped, with a warning. */
  enqueue(scan: Scan, relPath: string, payload: BuiltPayload | undefined, times?: ScanTimes): void {
    if (this.queue.length >= QUEUE_MAX) {
      const dropped = this.queue.shift()!;
      this.o.say('warn', `history backlog full: scan #${dropped.scanNumber} will not be written to history`);
    }
    const keep = this.queue.length < this.o.inMemory;
    this.queue.push({ scanNumber: scan.scanNumber, relPath, times, ...(keep ? { scan, payload } : {}) });
    this.pump();
  }

  /** Unpauses the queue and writes what waits. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Writes what waits, unless paused by a failure. */
  nudge(): void {
    this.pump();
  }

  /** Writes one scan now, trying again whenever Hazelcast is back, until written or stopped. */
  async write(item: HistoryItem): Promise<void> {
    return this.writeOne(item, false);
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.stopped && !this.paused && !this.o.latestFirst?.() && this.inFlight < CONCURRENCY && this.queue.length > 0) {
      const p = this.queue.shift()!;
      this.inFlight++;
      void this.writeOne(p, true).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** One history write; on failure the scan goes back in the queue (live) or is retried here (backfill). */
  private async writeOne(p: HistoryItem, live: boolean): Promise<void> {
    if (!p.scan) {
      const res = await this.o.read(join(this.o.arrowDir, p.relPath), p.relPath);
      if (res.kind !== 'ok') {
        this.o.say('warn', `scan #${p.scanNumber} not written to history: ${p.relPath} cannot be read again (${res.reason})`);
        return;
      }
      p.scan = res.scan;
    }
    const item = { ...p, scan: p.scan };
    for (;;) {
      if (this.stopped) return;
      try {
        const payload = this.o.payloadOf(item);
        if (p.times) p.times.historySent = preciseNow();
        // `kept`: the number holds this scan already, or a newer one (a scanner restart replayed).
        const outcome = await this.o.store.put(scanOrderOf(item.scan), payload);
        if (p.times) p.times.historyAnswered = preciseNow();
        if (outcome === 'written') this.written++;
        this.o.outage.recovered();
        return;
      } catch (err) {
        // This bridge may not write any more (its job's lock is lost): it is being stopped.
        if (err instanceof WriteRefusedError) return;
        this.o.outage.failed(err, 'history writes wait for it');
        if (live) {
          this.paused = true;
          this.queue.unshift(p);
          return;
        }
        await this.o.hazelcast.waitConnected(2000);
      }
    }
  }
}
