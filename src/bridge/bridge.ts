import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Hazelcast, RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { rewriteLostHistory, startupCatchUp, type CatchUpDeps } from './catch-up.js';
import { FolderWatch } from './watch/folder-watch.js';
import { HistoryWriter } from './hazelcast/history-writer.js';
import { LatestKeeper } from './hazelcast/keep-latest.js';
import { LatestWriter, type LatestItem } from './hazelcast/latest-writer.js';
import { OutageRetry } from './hazelcast/outage.js';
import { freshPayload, type DecodedScan } from './hazelcast/payload.js';
import { BridgeReport, type BridgeEvent } from './report.js';
import { ScanDecoder, type ReaderSettings } from './scan-decoder.js';
import { ScanFileReader } from './scan-intake.js';
import { preciseNow } from './scan-times.js';
import type { BridgeStats } from './stats.js';
import { HistoryStore, LatestStore, WriteRefusedError, type WriteGate } from './hazelcast/store.js';
import { scanOrderOf, type ScanOrderKey } from './guards/scan-order.js';

export type { BridgeEvent };

export type BridgeSettings = Pick<
  Config,
  'arrowDir' | 'hzMap' | 'hzKey' | 'hzHistoryMap' | 'hzHistoryTtlS' | 'bridgeSummaryEvery' | 'watchMode' | 'watchPollMs' | 'watchRescanMs' | 'maxClockSkewS'
> &
  ReaderSettings;

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
 * outage retry (outage.ts), the start-up catch-up (catch-up.ts), the folder watch
 * (folder-watch.ts) and the run's lines, events and counts (report.ts).
 */
export class Bridge {
  readonly id: string;
  private readonly s: BridgeSettings;
  private readonly hz: Hazelcast;
  private readonly report: BridgeReport;
  private readonly decoder: ScanDecoder;
  private readonly reader: ScanFileReader;
  private readonly latest: LatestWriter;
  private readonly latestStore: LatestStore;
  private readonly history: HistoryWriter;
  private readonly historyStore: HistoryStore;
  private readonly outage: OutageRetry;
  private readonly keeper: LatestKeeper;
  private readonly folder: FolderWatch;
  private stopped = false;
  private catchUp: Promise<void> = Promise.resolve();

  constructor(opts: BridgeOptions) {
    this.s = opts.settings;
    this.hz = opts.hazelcast;
    this.id = opts.bridgeId ?? `${hostname()}:${process.pid}`;
    const say = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => this.report.say(level, message, fields);
    this.report = new BridgeReport({
      bridgeId: this.id,
      log: opts.log,
      onEvent: opts.onEvent,
      maxClockSkewS: this.s.maxClockSkewS,
      summaryEvery: this.s.bridgeSummaryEvery,
      stats: () => this.stats(),
    });
    const payloadOf = (item: { scan: DecodedScan; relPath: string; payload?: LatestItem['payload'] }) => freshPayload(item, this.id);
    this.decoder = new ScanDecoder(this.s, this.id, opts.redis, opts.log, (relPath) => this.released(relPath));
    const read = (path: string, relPath: string) => this.decoder.read(path, relPath);
    this.outage = new OutageRetry({
      hazelcast: this.hz,
      kick: () => {
        this.latest.kick();
        this.history.resume();
      },
      hasPending: () => this.latest.pendingScan() !== null || this.history.backlog() > 0,
      say,
    });
    this.reader = new ScanFileReader({
      arrowDir: this.s.arrowDir,
      incompleteTimeoutMs: opts.incompleteTimeoutMs ?? 5000,
      read,
      onSkip: (relPath, reason) => this.report.skip(relPath, reason),
      onIncomplete: (relPath, reason) => this.report.incomplete(relPath, reason),
      onScan: (scan, relPath, eventAt, mtimeMs) => {
        if (this.report.refused(scan, relPath, mtimeMs)) return;
        this.report.delivered(relPath);
        this.accept({ scan, relPath, eventAt });
      },
      onReject: (relPath, reason) => this.report.reject(relPath, reason),
    });
    this.latestStore = new LatestStore(this.hz.client, this.s.hzMap, this.s.hzKey, this.s.maxClockSkewS, opts.writeGate);
    this.latest = new LatestWriter({
      store: this.latestStore,
      payloadOf,
      onDone: (item, outcome, restored) => {
        this.history.nudge();
        this.outage.recovered();
        this.report.latestDone(item, outcome, restored);
        // A member that lost the latest value may have lost the history too.
        if (restored && outcome.kind === 'written') this.rewriteLostHistory(scanOrderOf(item.scan));
      },
      onError: (err, newest) => {
        // Refused, not failed: this bridge may not write any more and is being stopped.
        if (err instanceof WriteRefusedError) return;
        this.outage.failed(err, `keeping scan #${newest.scan.scanNumber} to write when it returns`);
        this.history.nudge();
      },
    });
    this.historyStore = new HistoryStore(this.hz.client, this.s.hzHistoryMap, this.s.hzHistoryTtlS * 1000, this.s.maxClockSkewS, opts.writeGate);
    this.history = new HistoryWriter({
      store: this.historyStore,
      hazelcast: this.hz,
      arrowDir: this.s.arrowDir,
      read,
      inMemory: opts.historyInMemory ?? 500,
      payloadOf,
      outage: this.outage,
      say,
      latestFirst: () => this.latest.writing(),
    });
    this.keeper = new LatestKeeper({
      hazelcast: this.hz,
      mapName: this.s.hzMap,
      key: this.s.hzKey,
      present: () => this.latestStore.present(),
      restore: () => this.latest.restore(),
      say: (level, message) => this.report.say(level, message),
    });
    this.folder = new FolderWatch({
      settings: this.s,
      bridgeId: this.id,
      file: (p) => this.reader.onFile(p),
      fail: (err) => this.fail(err),
      // The scans in the folder watched again are caught up on, beside any catch-up still running.
      watchingAgain: () => this.catchUpAgain(),
      say,
    });
  }

  /** A catch-up on the scans on disk, beside any still running. */
  private catchUpAgain(): void {
    if (this.stopped) return;
    this.catchUp = Promise.all([this.catchUp, this.catchUpOnDisk()]).then(() => undefined);
  }

  stats(): BridgeStats {
    return {
      ...this.report.counts,
      historyWritten: this.history.written,
      retried: this.reader.retried,
      hazelcastErrors: this.outage.errors,
      pendingLatest: this.latest.pendingScan(),
      historyBacklog: this.history.backlog(),
      hazelcastConnected: this.hz.connected(),
      quarantined: this.decoder.quarantine.size,
      decodersReplaced: this.decoder.decodersReplaced,
      watchMode: this.folder.mode,
      watching: this.folder.watching,
      badFiles: this.report.badFiles.list(),
    };
  }

  /** Starts watching; resolves once the watches are in place. The start-up catch-up runs on (see caughtUp). */
  async start(): Promise<void> {
    this.outage.start();
    this.keeper.start();
    await this.decoder.start();
    await this.folder.start();
    this.catchUp = this.catchUpOnDisk();
  }

  /** Pushes the newest scan on disk and writes the ones Hazelcast has not seen to history (catch-up.ts). */
  private catchUpOnDisk(): Promise<void> {
    return startupCatchUp(this.catchUpDeps()).catch((err: unknown) => this.report.say('error', `catch-up failed: ${coerceError(err).message}`));
  }

  /** Writes again the history entries Hazelcast lost up to the scan put back (catch-up.ts), beside any catch-up running. */
  private rewriteLostHistory(upTo: ScanOrderKey): void {
    if (this.stopped) return;
    const rewrite = rewriteLostHistory(this.catchUpDeps(), upTo).catch((err: unknown) =>
      this.report.say('error', `writing the lost history again failed: ${coerceError(err).message}`),
    );
    this.catchUp = Promise.all([this.catchUp, rewrite]).then(() => undefined);
  }

  private catchUpDeps(): CatchUpDeps {
    return {
      arrowDir: this.s.arrowDir,
      historyTtlS: this.s.hzHistoryTtlS,
      maxClockSkewS: this.s.maxClockSkewS,
      hazelcast: this.hz,
      latest: this.latestStore,
      reader: this.reader,
      read: (path, relPath) => this.decoder.read(path, relPath),
      history: this.history,
      absentFromHistory: (scanNumbers) => this.historyStore.absent(scanNumbers),
      seen: (scan) => this.report.seen(scan),
      refused: (scan, relPath) => this.report.refused(scan, relPath, null),
      reject: (relPath, reason) => this.report.reject(relPath, reason),
      skip: (relPath, reason) => this.report.skip(relPath, reason),
      say: (level, message) => this.report.say(level, message),
      stopped: () => this.stopped,
    };
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
    this.report.say('error', `bridge failed: ${err.message}`);
    this.failWith(err);
  }

  /** Resolves when the start-up catch-up (history backfill) has finished. */
  caughtUp(): Promise<void> {
    return this.catchUp;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.folder.stop();
    this.outage.stop();
    this.keeper.stop();
    this.reader.stop();
    this.latest.stop();
    this.history.stop();
    // Closing the decoders first ends the catch-up's pending reads at once.
    await this.decoder.stop();
    await this.catchUp;
    this.report.say('info', `stopped after pushing ${this.report.counts.pushed} scans`);
  }

  /** Released from quarantine by hand: read it again now, as if it were new. */
  private released(relPath: string): void {
    if (this.stopped) return;
    this.report.released(relPath);
    this.reader.readAgain(join(this.s.arrowDir, relPath));
  }

  /** A scan read from a file event: to the latest value when it is ahead, to history in any case. */
  private accept(p: LatestItem): void {
    p.times = { event: p.eventAt, decoded: preciseNow() };
    freshPayload(p, this.id);
    p.times.payload = preciseNow();
    this.report.seen(p.scan);
    const offer = this.latest.offer(p);
    if (!offer.taken) this.report.kept(p.scan, offer.ahead);
    // Queued now, written once the latest value is answered (latestFirst).
    this.history.enqueue(p.scan, p.relPath, p.payload, p.times);
  }
}
