/** What a bridge reports about its run (heartbeat, /metrics, status). */
import type { BadFile } from './guards/bad-files.js';
import { emptyWindow, type ContentWindow } from '../content/window.js';
import type { RefusedForSkew, StampedBeforeWrite } from './guards/clock-skew.js';
import type { WatchModeChoice } from './watch/watch-mode.js';

/** Push latencies of this run as a cumulative histogram (exported by /metrics). */
export interface PushLatencyHistogram {
  /** Bucket upper bounds, milliseconds. */
  bucketsMs: number[];
  /** Pushes at or under each bound. */
  cumulative: number[];
  sumMs: number;
  count: number;
}

const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface BridgeStats {
  bridgeId: string;
  startedAt: number;
  /** Scans that moved `latest_eigen_scan` forward. */
  pushed: number;
  /** Scans written to the history map. */
  historyWritten: number;
  /**
   * Scans older than the stored one (out of order, replayed, or overtaken by another bridge). The
   * very scan already stored (a restart pushing its newest scan again) is not one of them.
   */
  olderSkipped: number;
  /** Files that stayed broken and were skipped. */
  rejected: number;
  /** Reads of paths named like scans that were not read: not regular files (FIFOs, folders, ...), or quarantined. */
  skipped: number;
  /** Files in quarantine (broke a decoding limit), as this bridge knows them. */
  quarantined: number;
  /** Decoder threads replaced after a limit or a crash. */
  decodersReplaced: number;
  /** Reads of files found incomplete and tried again. */
  retried: number;
  /** Hazelcast calls that failed (each retried). */
  hazelcastErrors: number;
  lastPushedScan: number | null;
  lastPushedAt: number | null;
  /** Milliseconds from the file event to the value stored, for the last push. */
  lastPushLatencyMs: number | null;
  pushLatency: PushLatencyHistogram;
  /** The newest scan read from disk, in scan order (time, then number). */
  newestSeenOnDisk: number | null;
  /** Its scan time, epoch ms. */
  newestSeenOnDiskAtMs: number | null;
  /** Scans refused because they are stamped more than `MAX_CLOCK_SKEW_S` ahead of this machine's clock. */
  clockSkewRefused: number;
  lastClockSkew: RefusedForSkew | null;
  /** Scans delivered although stamped more than `MAX_CLOCK_SKEW_S` before their file was written (copied or restored folders). */
  stampedBeforeWrite: number;
  lastStampedBeforeWrite: StampedBeforeWrite | null;
  /** The newest files this run could not deliver (refused, rejected, skipped, incomplete), newest first: health's "newest good file". */
  badFiles: BadFile[];
  /** How this run watches the scan folder and why; null before it starts watching. */
  watchMode: WatchModeChoice | null;
  /** The newest scan waiting for Hazelcast (during an outage), if any. */
  pendingLatest: number | null;
  historyBacklog: number;
  hazelcastConnected: boolean;
  watching: boolean;
  /** The content facts of the last scans pushed (content/window.ts), for the content rules. */
  content: ContentWindow;
}

export function initialStats(bridgeId: string): BridgeStats {
  return {
    bridgeId,
    startedAt: Date.now(),
    pushed: 0,
    historyWritten: 0,
    olderSkipped: 0,
    rejected: 0,
    skipped: 0,
    quarantined: 0,
    decodersReplaced: 0,
    retried: 0,
    hazelcastErrors: 0,
    lastPushedScan: null,
    lastPushedAt: null,
    lastPushLatencyMs: null,
    pushLatency: { bucketsMs: LATENCY_BUCKETS_MS, cumulative: LATENCY_BUCKETS_MS.map(() => 0), sumMs: 0, count: 0 },
    newestSeenOnDisk: null,
    newestSeenOnDiskAtMs: null,
    clockSkewRefused: 0,
    lastClockSkew: null,
    stampedBeforeWrite: 0,
    lastStampedBeforeWrite: null,
    badFiles: [],
    watchMode: null,
    pendingLatest: null,
    historyBacklog: 0,
    hazelcastConnected: false,
    watching: false,
    content: emptyWindow(),
  };
}

export function observeLatency(h: PushLatencyHistogram, ms: number): void {
  h.bucketsMs.forEach((bound, i) => {
    if (ms <= bound) h.cumulative[i]!++;
  });
  h.sumMs += ms;
  h.count++;
}
