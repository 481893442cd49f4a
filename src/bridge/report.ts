import { addToWindow } from '../content/window.js';
import type { Logger } from '../log.js';
import { BadFiles } from './guards/bad-files.js';
import { clockSkewOf, describeSkew } from './guards/clock-skew.js';
import type { LatestItem } from './hazelcast/latest-writer.js';
import type { DecodedScan } from './hazelcast/payload.js';
import { preciseNow, type ScanTimes } from './scan-times.js';
import { compareScans, describeScan, isNewerScan, scanOrderOf, type ScanOrderKey } from './guards/scan-order.js';
import { initialStats, observeLatency, type BridgeStats } from './stats.js';
import type { PutOutcome } from './hazelcast/store.js';

export type BridgeEvent =
  /** `times`: the moments of this scan's path (scan-times.ts); its history write fills in later. */
  | { type: 'pushed'; scanNumber: number; assets: number; latencyMs: number; relPath: string; times?: ScanTimes }
  | { type: 'rejected'; relPath: string; reason: string }
  | { type: 'line'; level: 'info' | 'warn' | 'error'; message: string };

export interface BridgeReportOptions {
  bridgeId: string;
  log: Logger;
  onEvent?: (event: BridgeEvent) => void;
  /** MAX_CLOCK_SKEW_S. */
  maxClockSkewS: number;
  /** A summary line every this many pushes. */
  summaryEvery: number;
  /** The whole stats, the parts' counters included, for the summary line. */
  stats(): BridgeStats;
}

/**
 * What a bridge tells of its run: its log lines, its events (never throwing from a listener) and
 * the counts it keeps; the parts keep their own counters (Bridge.stats adds them).
 */
export class BridgeReport {
  /** This run's counts and last values; the parts' counters in it stay at their start values. */
  readonly counts: BridgeStats;
  /** Paths already logged as skipped in this run: a FIFO or a quarantined file is logged once. */
  private readonly skipLogged = new Set<string>();
  /** Files not delivered, for health's "newest good file on disk". */
  readonly badFiles = new BadFiles();
  private readonly onEvent: (e: BridgeEvent) => void;

  constructor(private readonly o: BridgeReportOptions) {
    this.counts = initialStats(o.bridgeId);
    this.onEvent = o.onEvent ?? (() => undefined);
  }

  say(level: 'info' | 'warn' | 'error' | 'debug', message: string, fields: Record<string, unknown> = {}): void {
    this.o.log[level](fields, message);
    if (level !== 'debug') this.emit({ type: 'line', level, message });
  }

  private emit(e: BridgeEvent): void {
    try {
      this.onEvent(e);
    } catch (err) {
      this.o.log.error({ err }, 'bridge event listener failed');
    }
  }

  reject(relPath: string, reason: string): void {
    this.counts.rejected++;
    this.badFiles.note(relPath, 'rejected', reason);
    this.say('warn', `rejected ${relPath}: ${reason}`, { file: relPath, reason });
    this.emit({ type: 'rejected', relPath, reason });
  }

  /** A file named like a scan that is not read: not a regular file, or quarantined. Logged once a run. */
  skip(relPath: string, reason: string): void {
    this.counts.skipped++;
    this.badFiles.note(relPath, 'skipped', reason);
    if (this.skipLogged.has(relPath)) return;
    this.skipLogged.add(relPath);
    this.say('warn', `skipped ${relPath}: ${reason}`, { file: relPath, reason });
  }

  /** A file found incomplete and waited on (read again as it grows): not delivered yet. */
  incomplete(relPath: string, reason: string): void {
    this.badFiles.note(relPath, 'incomplete', reason);
  }

  /** A file read whole and not refused: whatever was wrong with it before is mended. */
  delivered(relPath: string): void {
    this.badFiles.clear(relPath);
  }

  /** Released from quarantine by hand: skipping it again is logged again. */
  released(relPath: string): void {
    this.skipLogged.delete(relPath);
    this.say('info', `${relPath} released from quarantine: reading it again`, { file: relPath });
  }

  seen(scan: DecodedScan): void {
    const c = this.counts;
    const newest = c.newestSeenOnDisk === null ? null : { scanNumber: c.newestSeenOnDisk, timestampMs: c.newestSeenOnDiskAtMs ?? -Infinity };
    if (isNewerScan(scanOrderOf(scan), newest)) {
      c.newestSeenOnDisk = scan.scanNumber;
      c.newestSeenOnDiskAtMs = scan.timestampMs;
    }
  }

  /**
   * Refuses a scan stamped beyond MAX_CLOCK_SKEW_S ahead (clock-skew.ts): it would hold the
   * latest value until the clock caught up. One stamped that long before its file was written
   * is delivered, and the skew reported as a fact. Reported once per file version: the reader
   * reads a finished file again only when it changes.
   */
  refused(scan: DecodedScan, relPath: string, mtimeMs: number | null): boolean {
    const maxSkewS = this.o.maxClockSkewS;
    const skew = clockSkewOf(scan.timestampMs, { nowMs: Date.now(), mtimeMs, maxSkewS });
    if (!skew) return false;
    const fields = { file: relPath, scan: scan.scanNumber, skewS: skew.skewS, skew: skew.kind };
    if (skew.kind === 'before_mtime') {
      this.counts.stampedBeforeWrite++;
      this.counts.lastStampedBeforeWrite = { relPath, scanNumber: scan.scanNumber, skewS: skew.skewS, at: Date.now() };
      this.say(
        'warn',
        `${relPath} (scan #${scan.scanNumber}) is ${describeSkew(skew)}, beyond MAX_CLOCK_SKEW_S=${maxSkewS} (a copied or restored folder, or a file server's clock): delivered as it is`,
        fields,
      );
      return false;
    }
    const reason = `${describeSkew(skew)}, beyond MAX_CLOCK_SKEW_S=${maxSkewS}`;
    this.counts.clockSkewRefused++;
    this.counts.lastClockSkew = { kind: 'ahead', skewS: skew.skewS, relPath, scanNumber: scan.scanNumber, at: Date.now() };
    this.badFiles.note(relPath, 'refused', reason);
    this.say('warn', `refused ${relPath} (scan #${scan.scanNumber}): ${reason}; a clock is off`, fields);
    return true;
  }

  /** A scan from a file event that the latest value already holds a newer scan than. */
  kept(scan: DecodedScan, ahead: ScanOrderKey): void {
    const n = scan.scanNumber;
    const a = ahead.scanNumber;
    this.counts.olderSkipped++;
    this.say(
      'info',
      `scan #${n} arrived after #${a} (${describeScan(scanOrderOf(scan))}, ${describeScan(ahead)}): kept in history only, the latest stays #${a}`,
      {
        scan: n,
      },
    );
  }

  /** The latest value's write of a scan was answered. `restored`: it was put back after Hazelcast lost the value. */
  latestDone(p: LatestItem, outcome: PutOutcome, restored = false): void {
    const n = p.scan.scanNumber;
    if (restored) {
      if (outcome.kind === 'written') {
        this.say('warn', `Hazelcast had lost the latest value: put scan #${n} back (${p.relPath})`, { scan: n, file: p.relPath });
      }
      return;
    }
    if (outcome.kind === 'written') {
      const latencyMs = Math.round(preciseNow() - p.eventAt);
      const c = this.counts;
      c.pushed++;
      c.lastPushedScan = n;
      c.lastPushedAt = Date.now();
      c.lastPushLatencyMs = latencyMs;
      observeLatency(c.pushLatency, latencyMs);
      if (outcome.replaced !== undefined) {
        this.say('warn', `replaced the value in Hazelcast with scan #${n}: it was not a scan to keep (${outcome.replaced})`, {
          scan: n,
          replaced: outcome.replaced,
        });
      }
      addToWindow(c.content, p.scan);
      this.say('info', `pushed scan #${n} (${p.scan.assetCount} assets) in ${latencyMs} ms`, {
        scan: n,
        assets: p.scan.assetCount,
        ms: latencyMs,
        file: p.relPath,
      });
      this.emit({ type: 'pushed', scanNumber: n, assets: p.scan.assetCount, latencyMs, relPath: p.relPath, ...(p.times ? { times: p.times } : {}) });
      if (c.pushed % this.o.summaryEvery === 0) this.summary();
    } else if (compareScans(outcome.current, scanOrderOf(p.scan)) === 0) {
      this.say('info', `scan #${n} is already in Hazelcast: nothing to write`, { scan: n });
    } else {
      this.counts.olderSkipped++;
      const c = outcome.current;
      this.say(
        'info',
        `scan #${n} not written: Hazelcast already holds the newer #${c.scanNumber} (${describeScan(scanOrderOf(p.scan))}, ${describeScan(c)})`,
        { scan: n, current: c.scanNumber },
      );
    }
  }

  private summary(): void {
    // The content window (50 scans' facts) is for health, not for a log line.
    const { content: _content, ...s } = this.o.stats();
    this.say(
      'info',
      `summary: ${s.pushed} scans pushed, latest #${s.lastPushedScan}, ${s.olderSkipped} out of order, ${s.rejected} rejected, ${s.retried} retried reads, ${s.hazelcastErrors} Hazelcast errors`,
      { stats: s },
    );
  }
}
