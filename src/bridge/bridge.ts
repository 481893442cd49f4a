import { mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Hazelcast, RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { sleep } from '../time.js';
import { startupCatchUp } from './catch-up.js';
import { checkFolderEvery } from './folder-check.js';
import { HistoryWriter } from './history-writer.js';
import { LatestWriter, type LatestItem } from './latest-writer.js';
import { OutageRetry } from './outage.js';
import { freshPayload, type DecodedScan } from './payload.js';
import { ScanDecoder, type ReaderSettings } from './scan-decoder.js';
import { ScanFileReader } from './scan-reader.js';
import { preciseNow, type ScanTimes } from './scan-times.js';
import { initialStats, observeLatency, type BridgeStats } from './stats.js';
import { HistoryStore, LatestStore, WriteRefusedError, type PutOutcome, type WriteGate } from './store.js';
import { openScanSource, type ScanSource } from './scan-source.js';
import { chooseWatchMode } from './watch-mode.js';
import { compareScans, describeScan, isNewerScan, scanOrderOf } from './scan-order.js';
import { clockSkewOf, describeSkew } from './clock-skew.js';

/** How long a missing scan folder is left for others to make again before the bridge makes it. */
const FOLDER_GRACE_MS = 1000;

export type BridgeSettings = Pick<
  Config,
  'arrowDir' | 'hzMap' | 'hzKey' | 'hzHistoryMap' | 'hzHistoryTtlS' | 'bridgeSummaryEvery' | 'watchMode' | 'watchPollMs' | 'watchRescanMs' | 'maxClockSkewS'
> &
  ReaderSettings;

export type BridgeEvent =
  /** `times`: the moments of this scan's path (scan-times.ts); its history write fills in later. */
  | { type: 'pushed'; scanNumber: number; assets: number; latencyMs: number; relPath: string; times?: ScanTimes }
  | { type: 'rejected'; relPath: string; reason: string }
  | { type: 'line'; level: 'info' | 'warn' | 'error'; message: string };

export interface BridgeOptions {
  settings: BridgeSettings;
  hazelcast: Hazelcast;
  log: Logger;
  /** `<hostname>:<pid>` unless given. */
  bridgeId?: string;
  onEvent?: (event: BridgeEvent) => void;
  /** Where the quarantine is kept; without it, in memory only. */
  redis?: RedisConnection;
  /** How long a file may stay incomplete without growing before it counts as broken. @defaultValue 5000 */
  incompleteTimeoutMs?: number;
  /** Decoded scans kept for history during an outage; later ones are read from disk again. @defaultValue 500 */
  historyInMemory?: number;
  /** Asked before every Hazelcast write (the bridge job's lock, jobs/bridge-lock.ts); none: always write. */
  writeGate?: WriteGate;
}

/**
 * Watches the scan folder and writes each complete scan to Hazelcast: the newest to
 * `latest_eigen_scan` (only ever forward), every one to the history map. Survives broken files
 * and Hazelcast outages; never throws from a callback. Composes the parts: decoding off the
 * main thread, under limits, with the quarantine (scan-decoder.ts), per-file reading
 * (scan-reader.ts), the latest value (latest-writer.ts), the history (history-writer.ts), the
 * outage retry (outage.ts), the start-up catch-up (catch-up.ts) and the folder check.
 */
export class Bridge {
  readonly id: string;
  private readonly s: BridgeSettings;
  private readonly hz: Hazelcast;
  private readonly log: Logger;
  private readonly onEvent: (e: BridgeEvent) => void;
  private readonly decoder: ScanDecoder;
  private readonly reader: ScanFileReader;
  /** Paths already logged as skipped in this run: a FIFO or a quarantined file is logged once. */
  private readonly skipLogged = new Set<string>();
  private readonly latest: LatestWriter;
  private readonly latestStore: LatestStore;
  private readonly history: HistoryWriter;
  private readonly historyStore: HistoryStore;
  private readonly outage: OutageRetry;
  private source: ScanSource | undefined;
  private stopFolderCheck: () => void = () => undefined;
  private stopped = false;
  /** Set while watchAgain replaces the watches. */
  private rewatching = false;
  private catchUp: Promise<void> = Promise.resolve();
  private readonly st: BridgeStats;

  constructor(opts: BridgeOptions) {
    this.s = opts.settings;
    this.hz = opts.hazelcast;
    this.log = opts.log;
    this.id = opts.bridgeId ?? `${hostname()}:${process.pid}`;
    this.onEvent = opts.onEvent ?? (() => undefined);
    const payloadOf = (item: { scan: DecodedScan; relPath: string; payload?: LatestItem['payload'] }) => freshPayload(item, this.id);
    this.decoder = new ScanDecoder(this.s, this.id, opts.redis, this.log, (relPath) => this.released(relPath));
    const read = (path: string, relPath: string) => this.decoder.read(path, relPath);
    this.outage = new OutageRetry({
      hazelcast: this.hz,
      kick: () => {
        this.latest.kick();
        this.history.resume();
      },
      hasPending: () => this.latest.pendingScan() !== null || this.history.backlog() > 0,
      say: (level, message) => this.say(level, message),
    });
    this.reader = new ScanFileReader({
      arrowDir: this.s.arrowDir,
      incompleteTimeoutMs: opts.incompleteTimeoutMs ?? 5000,
      read,
      onSkip: (relPath, reason) => this.skip(relPath, reason),
      onScan: (scan, relPath, eventAt, mtimeMs) => {
        if (!this.refused(scan, relPath, mtimeMs)) this.accept({ scan, relPath, eventAt });
      },
      onReject: (relPath, reason) => this.reject(relPath, reason),
    });
    this.latestStore = new LatestStore(this.hz.client, this.s.hzMap, this.s.hzKey, opts.writeGate);
    this.latest = new LatestWriter({
      store: this.latestStore,
      payloadOf,
      onDone: (item, outcome) => {
        this.history.nudge();
        this.latestDone(item, outcome);
      },
      onError: (err, newest) => {
        // Refused, not failed: this bridge may not write any more and is being stopped.
        if (err instanceof WriteRefusedError) return;
        this.outage.failed(err, `keeping scan #${newest.scan.scanNumber} to write when it returns`);
        this.history.nudge();
      },
    });
    this.historyStore = new HistoryStore(this.hz.client, this.s.hzHistoryMap, this.s.hzHistoryTtlS * 1000, opts.writeGate);
    this.history = new HistoryWriter({
      store: this.historyStore,
      hazelcast: this.hz,
      arrowDir: this.s.arrowDir,
      read,
      inMemory: opts.historyInMemory ?? 500,
      payloadOf,
      outage: this.outage,
      say: (level, message) => this.say(level, message),
      latestFirst: () => this.latest.writing(),
    });
    this.st = initialStats(this.id);
  }

  stats(): BridgeStats {
    return {
      ...this.st,
      historyWritten: this.history.written,
      retried: this.reader.retried,
      hazelcastErrors: this.outage.errors,
      pendingLatest: this.latest.pendingScan(),
      historyBacklog: this.history.backlog(),
      hazelcastConnected: this.hz.connected(),
      quarantined: this.decoder.quarantine.size,
      decodersReplaced: this.decoder.decodersReplaced,
    };
  }

  /** Starts watching; resolves once the watches are in place. The start-up catch-up runs on (see caughtUp). */
  async start(): Promise<void> {
    this.outage.start();
    await this.decoder.start();
    await this.watchFolder('watching');
    this.catchUp = this.catchUpOnDisk();
  }

  /**
   * Watches the scan folder at its path as it is now (made if missing), by the watch mode chosen
   * for it, and checks every second that the path still names that folder.
   */
  private async watchFolder(verb: string): Promise<void> {
    await mkdir(this.s.arrowDir, { recursive: true });
    const choice = await chooseWatchMode(this.s.watchMode, this.s.arrowDir);
    this.st.watchMode = choice;
    let listingFailed = false;
    const source = await openScanSource(
      this.s.arrowDir,
      choice,
      { pollMs: this.s.watchPollMs, rescanMs: this.s.watchRescanMs },
      {
        file: (p) => this.reader.onFile(p),
        error: (err) => this.fail(err),
        problem: (message) => {
          // Once per run: the folder check reports a folder that is gone for good.
          if (!listingFailed) this.say('warn', `${message}; listing again on the next tick`);
          listingFailed = true;
        },
        watchProblem: (message) => this.say('warn', message),
      },
    );
    if (this.stopped) return source.close();
    this.source = source;
    this.stopFolderCheck = checkFolderEvery(this.s.arrowDir, 1000, (err) => void this.watchAgain(err));
    this.st.watching = true;
    this.say('info', `${verb} ${this.s.arrowDir} as bridge ${this.id} ${source.how} (${choice.reason})`, { watchMode: choice });
  }

  /**
   * The scan folder went away, or was removed and made again: the watches still hold the old one.
   * This run watches the folder at the path now (made again if missing, as at start) and catches
   * up on the scans already in it, without a restart: the heartbeat and the latest value's writer
   * carry on. Only when that fails (the path is a file now) does the bridge fail.
   */
  private async watchAgain(why: Error): Promise<void> {
    if (this.rewatching || this.stopped || this.failed_) return;
    this.rewatching = true;
    this.stopFolderCheck();
    this.source?.close();
    this.source = undefined;
    // `watching` stays set: a heartbeat saying otherwise for this moment would read as a dead bridge.
    this.say('warn', `${why.message}: watching the folder at that path again`);
    try {
      // Removed to be made again (rm -r, then mkdir): whoever removed it gets a moment to make it first.
      if (
        !(await stat(this.s.arrowDir).then(
          () => true,
          () => false,
        ))
      )
        await sleep(FOLDER_GRACE_MS);
      if (this.stopped) return;
      await this.watchFolder('watching again');
      if (!this.stopped) this.catchUp = Promise.all([this.catchUp, this.catchUpOnDisk()]).then(() => undefined);
    } catch (err) {
      this.fail(new Error(`${why.message}, and watching it again failed: ${coerceError(err).message}`));
    } finally {
      this.rewatching = false;
    }
  }

  /** Pushes the newest scan on disk and writes the ones Hazelcast has not seen to history (catch-up.ts). */
  private catchUpOnDisk(): Promise<void> {
    return startupCatchUp({
      arrowDir: this.s.arrowDir,
      historyTtlS: this.s.hzHistoryTtlS,
      hazelcast: this.hz,
      latest: this.latestStore,
      reader: this.reader,
      read: (path, relPath) => this.decoder.read(path, relPath),
      history: this.history,
      absentFromHistory: (scanNumbers) => this.historyStore.absent(scanNumbers),
      seen: (scan) => this.seen(scan),
      refused: (scan, relPath) => this.refused(scan, relPath, null),
      reject: (relPath, reason) => this.reject(relPath, reason),
      skip: (relPath, reason) => this.skip(relPath, reason),
      say: (level, message) => this.say(level, message),
      stopped: () => this.stopped,
    }).catch((err: unknown) => this.say('error', `catch-up failed: ${coerceError(err).message}`));
  }

  // Declared before `failure`: class fields are defined in order, and the executor sets it.
  private failWith!: (err: Error) => void;
  /**
   * Resolves with the error that stopped this bridge from working (the watcher failed, the scan
   * folder could not be watched again). The bridge keeps running; its supervisor decides to restart it.
   */
  readonly failure: Promise<Error> = new Promise((ok) => (this.failWith = ok));
  private failed_ = false;

  private fail(err: Error): void {
    if (this.failed_ || this.stopped) return;
    this.failed_ = true;
    this.say('error', `bridge failed: ${err.message}`);
    this.failWith(err);
  }

  /** Resolves when the start-up catch-up (history backfill) has finished. */
  caughtUp(): Promise<void> {
    return this.catchUp;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.st.watching = false;
    this.outage.stop();
    this.stopFolderCheck();
    this.reader.stop();
    this.latest.stop();
    this.history.stop();
    this.source?.close();
    // Closing the decoders first ends the catch-up's pending reads at once.
    await this.decoder.stop();
    await this.catchUp;
    this.say('info', `stopped after pushing ${this.st.pushed} scans`);
  }

  private say(level: 'info' | 'warn' | 'error' | 'debug', message: string, fields: Record<string, unknown> = {}): void {
    this.log[level](fields, message);
    if (level !== 'debug') this.emit({ type: 'line', level, message });
  }

  private emit(e: BridgeEvent): void {
    try {
      this.onEvent(e);
    } catch (err) {
      this.log.error({ err }, 'bridge event listener failed');
    }
  }

  private reject(relPath: string, reason: string): void {
    this.st.rejected++;
    this.say('warn', `rejected ${relPath}: ${reason}`, { file: relPath, reason });
    this.emit({ type: 'rejected', relPath, reason });
  }

  /** A file named like a scan that is not read: not a regular file, or quarantined. Logged once a run. */
  private skip(relPath: string, reason: string): void {
    this.st.skipped++;
    if (this.skipLogged.has(relPath)) return;
    this.skipLogged.add(relPath);
    this.say('warn', `skipped ${relPath}: ${reason}`, { file: relPath, reason });
  }

  /** Released from quarantine by hand: read it again now, as if it were new. */
  private released(relPath: string): void {
    if (this.stopped) return;
    this.skipLogged.delete(relPath);
    this.say('info', `${relPath} released from quarantine: reading it again`, { file: relPath });
    this.reader.readAgain(join(this.s.arrowDir, relPath));
  }

  private seen(scan: DecodedScan): void {
    const newest = this.st.newestSeenOnDisk === null ? null : { scanNumber: this.st.newestSeenOnDisk, timestampMs: this.st.newestSeenOnDiskAtMs ?? -Infinity };
    if (isNewerScan(scanOrderOf(scan), newest)) {
      this.st.newestSeenOnDisk = scan.scanNumber;
      this.st.newestSeenOnDiskAtMs = scan.timestampMs;
    }
  }

  /**
   * Refuses a scan whose stamp cannot be trusted (clock-skew.ts): it would hold the latest value
   * (ahead) or look like a silent scanner (long before its file was written). Reported once per
   * file version: the reader reads a finished file again only when it changes.
   */
  private refused(scan: DecodedScan, relPath: string, mtimeMs: number | null): boolean {
    const skew = clockSkewOf(scan.timestampMs, { nowMs: Date.now(), mtimeMs, maxSkewS: this.s.maxClockSkewS });
    if (!skew) return false;
    this.st.clockSkewRefused++;
    this.st.lastClockSkew = { ...skew, relPath, scanNumber: scan.scanNumber, at: Date.now() };
    this.say('warn', `refused ${relPath} (scan #${scan.scanNumber}): ${describeSkew(skew)}, beyond MAX_CLOCK_SKEW_S=${this.s.maxClockSkewS}; a clock is off`, {
      file: relPath,
      scan: scan.scanNumber,
      skewS: skew.skewS,
      skew: skew.kind,
    });
    return true;
  }

  /** A scan read from a file event: to the latest value when it is ahead, to history in any case. */
  private accept(p: LatestItem): void {
    const n = p.scan.scanNumber;
    p.times = { event: p.eventAt, decoded: preciseNow() };
    freshPayload(p, this.id);
    p.times.payload = preciseNow();
    this.seen(p.scan);
    const offer = this.latest.offer(p);
    if (!offer.taken) {
      this.st.olderSkipped++;
      const a = offer.ahead.scanNumber;
      this.say(
        'info',
        `scan #${n} arrived after #${a} (${describeScan(scanOrderOf(p.scan))}, ${describeScan(offer.ahead)}): kept in history only, the latest stays #${a}`,
        { scan: n },
      );
    }
    // Queued now, written once the latest value is answered (latestFirst).
    this.history.enqueue(p.scan, p.relPath, p.payload, p.times);
  }

  private latestDone(p: LatestItem, outcome: PutOutcome): void {
    this.outage.recovered();
    const n = p.scan.scanNumber;
    if (outcome.kind === 'written') {
      const latencyMs = Math.round(preciseNow() - p.eventAt);
      this.st.pushed++;
      this.st.lastPushedScan = n;
      this.st.lastPushedAt = Date.now();
      this.st.lastPushLatencyMs = latencyMs;
      observeLatency(this.st.pushLatency, latencyMs);
      this.say('info', `pushed scan #${n} (${p.scan.assetCount} assets) in ${latencyMs} ms`, {
        scan: n,
        assets: p.scan.assetCount,
        ms: latencyMs,
        file: p.relPath,
      });
      this.emit({ type: 'pushed', scanNumber: n, assets: p.scan.assetCount, latencyMs, relPath: p.relPath, ...(p.times ? { times: p.times } : {}) });
      if (this.st.pushed % this.s.bridgeSummaryEvery === 0) this.summary();
    } else if (compareScans(outcome.current, scanOrderOf(p.scan)) === 0) {
      this.say('info', `scan #${n} is already in Hazelcast: nothing to write`, { scan: n });
    } else {
      this.st.olderSkipped++;
      const c = outcome.current;
      this.say(
        'info',
        `scan #${n} not written: Hazelcast already holds the newer #${c.scanNumber} (${describeScan(scanOrderOf(p.scan))}, ${describeScan(c)})`,
        { scan: n, current: c.scanNumber },
      );
    }
  }

  private summary(): void {
    const s = this.stats();
    this.say(
      'info',
      `summary: ${s.pushed} scans pushed, latest #${s.lastPushedScan}, ${s.olderSkipped} out of order, ${s.rejected} rejected, ${s.retried} retried reads, ${s.hazelcastErrors} Hazelcast errors`,
      { stats: s },
    );
  }
}
