import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Hazelcast } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';
import { readScan, buildPayload, type Scan } from './arrow.js';
import { registerCompression } from './compression.js';
import { isScanCandidate, listScanFiles, relativeToRoot, scanTimeFromPath, type ScanFileRef } from './files.js';
import { HistoryStore, LatestStore, storedScanNumber } from './store.js';
import { openScanSource, type ScanSource } from './scan-source.js';
import { chooseWatchMode, type WatchModeChoice } from './watch-mode.js';
import { describeScan, isNewerScan, type ScanOrderKey } from './scan-order.js';
import { clockSkewOf, describeSkew, type ClockSkew } from './clock-skew.js';

export type BridgeSettings = Pick<
  Config,
  'arrowDir' | 'hzMap' | 'hzKey' | 'hzHistoryMap' | 'hzHistoryTtlS' | 'bridgeSummaryEvery' | 'watchMode' | 'watchPollMs' | 'watchRescanMs' | 'maxClockSkewS'
>;

/** The last scan refused for its time stamp (see clock-skew.ts). */
export interface RefusedForSkew extends ClockSkew {
  relPath: string;
  scanNumber: number;
  /** Epoch ms of the refusal. */
  at: number;
}

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
  /** Scans not newer than the stored one (out of order, replayed, or written by another bridge). */
  olderSkipped: number;
  /** Files that stayed broken and were skipped. */
  rejected: number;
  /** Reads of files found incomplete and tried again. */
  retried: number;
  /** Hazelcast calls that failed (each retried). */
  hazelcastErrors: number;
  lastPushedScan: number | null;
  lastPushedAt: number | null;
  /** Milliseconds from the file event to the value stored, for the last push. */
  lastPushLatencyMs: number | null;
  pushLatency: PushLatencyHistogram;
  newestSeenOnDisk: number | null;
  /** Scan time of {@link newestSeenOnDisk}, epoch ms: scans are ordered by time, then number. */
  newestSeenOnDiskAtMs: number | null;
  /** Scans refused because their time stamp is off by more than `MAX_CLOCK_SKEW_S`. */
  clockSkewRefused: number;
  lastClockSkew: RefusedForSkew | null;
  /** How this run watches the scan folder and why; null before it starts watching. */
  watchMode: WatchModeChoice | null;
  /** The newest scan waiting for Hazelcast (during an outage), if any. */
  pendingLatest: number | null;
  historyBacklog: number;
  hazelcastConnected: boolean;
  watching: boolean;
}

export type BridgeEvent =
  | { type: 'pushed'; scanNumber: number; assets: number; latencyMs: number; relPath: string }
  | { type: 'rejected'; relPath: string; reason: string }
  | { type: 'line'; level: 'info' | 'warn' | 'error'; message: string };

export interface BridgeOptions {
  settings: BridgeSettings;
  hazelcast: Hazelcast;
  log: Logger;
  /** `<hostname>:<pid>` unless given. */
  bridgeId?: string;
  onEvent?: (event: BridgeEvent) => void;
  /** How long a file may stay incomplete without growing before it counts as broken. @defaultValue 5000 */
  incompleteTimeoutMs?: number;
  /** Decoded scans kept for history during an outage; later ones are read from disk again. @defaultValue 500 */
  historyInMemory?: number;
}

interface FileState {
  firstSeen: number;
  eventAt: number;
  attempts: number;
  size: number;
  mtimeMs: number;
  lastGrowth: number;
  status: 'reading' | 'waiting' | 'done' | 'broken';
  dirty: boolean;
  timer?: NodeJS.Timeout;
}

/** A scan waiting for the history map; beyond `historyInMemory` of them only the file is kept, read again later. */
interface HistoryItem {
  scanNumber: number;
  relPath: string;
  scan?: Scan;
  payload?: Payload;
}

interface Pending {
  scan: Scan;
  relPath: string;
  eventAt: number;
  payload?: Payload;
}

/** A payload and when it was built: reused for latest and history while `written_at_ms` is still true. */
interface Payload {
  text: string;
  builtAt: number;
}

const PAYLOAD_FRESH_MS = 1000;

const RETRY_DELAYS_MS = [2, 5, 10, 20, 50, 100, 200, 300, 500];
/** Finished files remembered, so a late 'change' event does not read them again. */
const DONE_MEMORY = 2000;
const HISTORY_CONCURRENCY = 32;
const HISTORY_QUEUE_MAX = 100_000;

/**
 * Watches the scan folder and writes each complete scan to Hazelcast: the newest to
 * `latest_eigen_scan` (only ever forward), every one to the history map. Survives broken files
 * and Hazelcast outages; never throws from a callback.
 */
export class Bridge {
  readonly id: string;
  private readonly s: BridgeSettings;
  private readonly hz: Hazelcast;
  private readonly log: Logger;
  private readonly onEvent: (e: BridgeEvent) => void;
  private readonly incompleteTimeoutMs: number;
  private readonly historyInMemory: number;
  private latest!: LatestStore;
  private history!: HistoryStore;
  private source: ScanSource | undefined;
  /** The scan `latest_eigen_scan` was last moved to by this bridge. */
  private lastPushedKey: ScanOrderKey | null = null;
  private readonly files = new Map<string, FileState>();
  private pending: Pending | undefined;
  private latestBusy = false;
  private readonly historyQueue: HistoryItem[] = [];
  private historyInFlight = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private folderCheck: NodeJS.Timeout | undefined;
  /** Set by a failed history write until the next retry, so an outage is not a busy loop. */
  private historyPaused = false;
  private outageLogged = false;
  private stopped = false;
  private catchUp: Promise<void> = Promise.resolve();
  private readonly st: BridgeStats;

  constructor(opts: BridgeOptions) {
    registerCompression();
    this.s = opts.settings;
    this.hz = opts.hazelcast;
    this.log = opts.log;
    this.id = opts.bridgeId ?? `${hostname()}:${process.pid}`;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.incompleteTimeoutMs = opts.incompleteTimeoutMs ?? 5000;
    this.historyInMemory = opts.historyInMemory ?? 500;
    this.st = {
      bridgeId: this.id,
      startedAt: Date.now(),
      pushed: 0,
      historyWritten: 0,
      olderSkipped: 0,
      rejected: 0,
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
      watchMode: null,
      pendingLatest: null,
      historyBacklog: 0,
      hazelcastConnected: false,
      watching: false,
    };
  }

  stats(): BridgeStats {
    return {
      ...this.st,
      pendingLatest: this.pending?.scan.scanNumber ?? null,
      historyBacklog: this.historyQueue.length + this.historyInFlight,
      hazelcastConnected: this.hz.connected(),
    };
  }

  /** Starts watching; resolves once the watches are in place. The start-up catch-up runs on (see caughtUp). */
  async start(): Promise<void> {
    this.latest = new LatestStore(this.hz.client, this.s.hzMap, this.s.hzKey);
    this.history = new HistoryStore(this.hz.client, this.s.hzHistoryMap, this.s.hzHistoryTtlS * 1000);
    this.hz.onChange((up) => {
      if (up && !this.stopped) {
        this.say('info', this.pending || this.historyQueue.length ? 'connected to Hazelcast: writing what is pending' : 'connected to Hazelcast');
        this.kick();
      }
    });
    await mkdir(this.s.arrowDir, { recursive: true });
    const choice = await chooseWatchMode(this.s.watchMode, this.s.arrowDir);
    this.st.watchMode = choice;
    let listingFailed = false;
    this.source = await openScanSource(this.s.arrowDir, choice, { pollMs: this.s.watchPollMs, rescanMs: this.s.watchRescanMs }, {
      file: (p) => this.onFile(p),
      error: (err) => this.fail(err),
      problem: (message) => {
        if (!listingFailed) this.say('warn', `${message}: listing again on the next tick`);
        listingFailed = true;
      },
    });
    // inotify says nothing when the watched folder itself goes away: look for it now and then.
    this.folderCheck = setInterval(() => {
      stat(this.s.arrowDir).then(
        (s) => s.isDirectory() || this.fail(new Error(`the scan folder ${this.s.arrowDir} is no longer a folder`)),
        (err: unknown) => this.fail(new Error(`the scan folder ${this.s.arrowDir} is gone: ${coerceError(err).message}`)),
      );
    }, 1000);
    this.folderCheck.unref();
    this.st.watching = true;
    this.say('info', `watching ${this.s.arrowDir} as bridge ${this.id} ${this.source.how} (${choice.reason})`, { watchMode: choice });
    this.catchUp = this.startupCatchUp().catch((err: unknown) => this.say('error', `start-up catch-up failed: ${coerceError(err).message}`));
  }

  // Declared before `failure`: class fields are defined in order, and the executor sets it.
  private failWith!: (err: Error) => void;
  /**
   * Resolves with the error that stopped this bridge from working (the watcher failed, the scan
   * folder vanished). The bridge keeps running; its supervisor decides to restart it.
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
    clearTimeout(this.retryTimer);
    clearInterval(this.folderCheck);
    for (const f of this.files.values()) clearTimeout(f.timer);
    this.source?.close();
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

  /**
   * Pushes the newest scan on disk at once, then writes to history the scans this bridge
   * missed: those newer than what Hazelcast holds and younger than the history TTL.
   */
  private async startupCatchUp(): Promise<void> {
    const listed = await listScanFiles(this.s.arrowDir);
    if (listed.length === 0) return;
    const newest = listed[listed.length - 1]!;
    let stored = -1;
    // A client just created is still connecting: give it a moment before deciding what was missed.
    await this.hz.waitConnected(5000);
    try {
      const current = await this.latest.read();
      stored = current === null ? -1 : storedScanNumber(current);
    } catch (err) {
      this.say('warn', `cannot read the current scan from Hazelcast (${coerceError(err).message}): catching up from disk alone`);
    }
    this.onFile(newest.path);
    const horizon = Date.now() - this.s.hzHistoryTtlS * 1000;
    const missed = listed.slice(0, -1).filter((f) => (f.scanNumber === undefined || f.scanNumber > stored) && (scanTimeFromPath(f.relPath) ?? Infinity) >= horizon);
    if (missed.length === 0) return;
    this.say('info', `catching up: ${missed.length} scans on disk are newer than #${stored} in Hazelcast; writing them to history`);
    await this.backfill(missed);
  }

  private async backfill(refs: ScanFileRef[]): Promise<void> {
    const t0 = Date.now();
    let done = 0;
    let lastReport = t0;
    let next = 0;
    const workerCount = 8;
    const work = async () => {
      while (!this.stopped && next < refs.length) {
        const ref = refs[next++]!;
        if (this.files.has(ref.path)) continue;
        const res = await this.readOnce(ref.path, ref.relPath);
        if (res.kind === 'ok') {
          this.seen(res.scan);
          await this.writeHistoryNow({ scan: res.scan, relPath: ref.relPath, scanNumber: res.scan.scanNumber });
        } else if (res.kind === 'broken') {
          this.reject(ref.relPath, res.reason);
        } else if (res.kind === 'incomplete') {
          this.onFile(ref.path);
        }
        done++;
        if (Date.now() - lastReport >= 2000) {
          lastReport = Date.now();
          this.say('info', `catching up: ${done}/${refs.length} scans written to history (${Math.round((done * 1000) / (lastReport - t0))}/s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: workerCount }, work));
    const s = (Date.now() - t0) / 1000;
    this.say('info', `caught up: ${done} scans written to history in ${s.toFixed(1)} s`);
  }

  private async readOnce(path: string, relPath: string) {
    try {
      const bytes = await readFile(path);
      return readScan(bytes, { relPath });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { kind: 'gone' as const, reason: 'the file is gone' };
      return { kind: 'incomplete' as const, reason: e.message };
    }
  }

  private onFile(path: string): void {
    if (this.stopped || !isScanCandidate(path)) return;
    const now = Date.now();
    let f = this.files.get(path);
    if (!f) {
      f = { firstSeen: now, eventAt: now, attempts: 0, size: -1, mtimeMs: -1, lastGrowth: now, status: 'waiting', dirty: false };
      this.files.set(path, f);
      this.forgetOldFiles();
    } else if (f.status === 'reading') {
      f.dirty = true;
      return;
    } else if (f.status === 'done' || f.status === 'broken') {
      // Rewritten after we finished with it: look again only if it really changed.
      void this.changedSince(path, f).then((changed) => {
        if (changed && f) {
          f.status = 'waiting';
          f.eventAt = Date.now();
          this.read(path, f);
        }
      });
      return;
    }
    clearTimeout(f.timer);
    this.read(path, f);
  }

  private async changedSince(path: string, f: FileState): Promise<boolean> {
    try {
      const s = await stat(path);
      return s.size !== f.size || s.mtimeMs !== f.mtimeMs;
    } catch {
      return false;
    }
  }

  private read(path: string, f: FileState): void {
    f.status = 'reading';
    f.dirty = false;
    const relPath = relativeToRoot(this.s.arrowDir, path);
    void (async () => {
      // Side by side: the size and time tell a growing file from a finished one later on.
      const [res, st] = await Promise.all([this.readOnce(path, relPath), stat(path).catch(() => null)]);
      const size = st?.size ?? -1;
      const mtimeMs = st?.mtimeMs ?? -1;
      if (size !== f.size) f.lastGrowth = Date.now();
      f.size = size;
      f.mtimeMs = mtimeMs;
      if (this.stopped) return;
      if (res.kind === 'gone') {
        // Removed (cleaned up, or renamed away): nothing to push, nothing to complain about.
        this.files.delete(path);
        return;
      }
      if (res.kind === 'ok') {
        f.status = 'done';
        const skew = clockSkewOf(res.scan.timestampMs, { nowMs: Date.now(), mtimeMs: st ? mtimeMs : null, maxSkewS: this.s.maxClockSkewS });
        if (skew) this.refuseSkewed(relPath, res.scan, skew);
        else this.accept({ scan: res.scan, relPath, eventAt: f.eventAt });
        return;
      }
      if (res.kind === 'broken' && !f.dirty) {
        f.status = 'broken';
        this.reject(relPath, res.reason);
        return;
      }
      // Incomplete (or broken while still being written): try again soon, unless it stopped growing long ago.
      if (!f.dirty && Date.now() - f.lastGrowth > this.incompleteTimeoutMs) {
        f.status = 'broken';
        this.reject(relPath, `${res.reason} (still incomplete after ${this.incompleteTimeoutMs} ms without growing)`);
        return;
      }
      this.st.retried++;
      f.status = 'waiting';
      const delay = f.dirty ? 0 : RETRY_DELAYS_MS[Math.min(f.attempts, RETRY_DELAYS_MS.length - 1)]!;
      f.attempts++;
      f.timer = setTimeout(() => this.read(path, f), delay);
    })().catch((err: unknown) => {
      f.status = 'broken';
      this.reject(relPath, `unexpected error: ${coerceError(err).message}`);
    });
  }

  private forgetOldFiles(): void {
    if (this.files.size <= DONE_MEMORY) return;
    for (const [path, f] of this.files) {
      if (this.files.size <= DONE_MEMORY / 2) break;
      if (f.status === 'done' || f.status === 'broken') this.files.delete(path);
    }
  }

  private reject(relPath: string, reason: string): void {
    this.st.rejected++;
    this.say('warn', `rejected ${relPath}: ${reason}`, { file: relPath, reason });
    this.emit({ type: 'rejected', relPath, reason });
  }

  private seen(scan: Scan): void {
    const seen = this.st.newestSeenOnDisk === null ? null : { scanNumber: this.st.newestSeenOnDisk, timestampMs: this.st.newestSeenOnDiskAtMs ?? -Infinity };
    if (isNewerScan(orderOf(scan), seen)) {
      this.st.newestSeenOnDisk = scan.scanNumber;
      this.st.newestSeenOnDiskAtMs = scan.timestampMs;
    }
  }

  /** A scan whose stamp cannot be trusted: it would hold the latest value (ahead) or look like silence (behind). */
  private refuseSkewed(relPath: string, scan: Scan, skew: ClockSkew): void {
    this.st.clockSkewRefused++;
    this.st.lastClockSkew = { ...skew, relPath, scanNumber: scan.scanNumber, at: Date.now() };
    this.say('warn', `refused ${relPath} (scan #${scan.scanNumber}): ${describeSkew(skew)}, beyond MAX_CLOCK_SKEW_S=${this.s.maxClockSkewS}; a clock is off`, {
      file: relPath, scan: scan.scanNumber, skewS: skew.skewS, skew: skew.kind,
    });
  }

  private payloadOf(item: { scan: Scan; relPath: string; payload?: Payload | undefined }): string {
    const now = Date.now();
    if (item.payload && now - item.payload.builtAt < PAYLOAD_FRESH_MS) return item.payload.text;
    item.payload = { text: buildPayload(item.scan, { sourceFile: item.relPath, bridgeId: this.id, writtenAtMs: now }), builtAt: now };
    return item.payload.text;
  }

  private accept(p: Pending): void {
    const n = p.scan.scanNumber;
    this.payloadOf(p);
    this.seen(p.scan);
    const ahead = this.pending ? orderOf(this.pending.scan) : this.lastPushedKey;
    if (isNewerScan(orderOf(p.scan), ahead)) {
      this.pending = p;
      this.writeLatest();
    } else {
      this.st.olderSkipped++;
      this.say('info', `scan #${n} arrived after #${ahead!.scanNumber} (${describeScan(orderOf(p.scan))}, ${describeScan(ahead!)}): kept in history only, the latest stays #${ahead!.scanNumber}`, { scan: n });
    }
    if (this.historyQueue.length >= HISTORY_QUEUE_MAX) {
      const dropped = this.historyQueue.shift()!;
      this.say('warn', `history backlog full: scan #${dropped.scanNumber} will not be written to history`);
    }
    const keep = this.historyQueue.length < this.historyInMemory;
    this.historyQueue.push({ scanNumber: n, relPath: p.relPath, ...(keep ? { scan: p.scan, payload: p.payload! } : {}) });
    this.writeHistory();
  }

  private kick(): void {
    this.historyPaused = false;
    this.writeLatest();
    this.writeHistory();
  }

  private writeLatest(): void {
    if (this.latestBusy || !this.pending || this.stopped) return;
    this.latestBusy = true;
    const p = this.pending;
    this.latest.putIfNewer(orderOf(p.scan), this.payloadOf(p)).then(
      (outcome) => {
        this.latestBusy = false;
        if (this.pending === p) this.pending = undefined;
        this.recovered();
        const n = p.scan.scanNumber;
        if (outcome.kind === 'written') {
          const latencyMs = Date.now() - p.eventAt;
          this.st.pushed++;
          this.st.lastPushedScan = n;
          this.lastPushedKey = orderOf(p.scan);
          this.st.lastPushedAt = Date.now();
          this.st.lastPushLatencyMs = latencyMs;
          this.observeLatency(latencyMs);
          this.say('info', `pushed scan #${n} (${p.scan.assetCount} assets) in ${latencyMs} ms`, { scan: n, assets: p.scan.assetCount, ms: latencyMs, file: p.relPath });
          this.emit({ type: 'pushed', scanNumber: n, assets: p.scan.assetCount, latencyMs, relPath: p.relPath });
          if (this.st.pushed % this.s.bridgeSummaryEvery === 0) this.summary();
        } else {
          this.st.olderSkipped++;
          this.say('info', `scan #${n} not written: Hazelcast already holds #${outcome.current.scanNumber} (${describeScan(orderOf(p.scan))}, ${describeScan(outcome.current)})`, { scan: n, current: outcome.current.scanNumber });
        }
        this.writeLatest();
      },
      (err: unknown) => {
        this.latestBusy = false;
        this.failed(err, `keeping scan #${(this.pending ?? p).scan.scanNumber} to write when it returns`);
      },
    );
  }

  private observeLatency(ms: number): void {
    const h = this.st.pushLatency;
    h.bucketsMs.forEach((bound, i) => {
      if (ms <= bound) h.cumulative[i]!++;
    });
    h.sumMs += ms;
    h.count++;
  }

  private writeHistory(): void {
    while (!this.stopped && !this.historyPaused && this.historyInFlight < HISTORY_CONCURRENCY && this.historyQueue.length > 0) {
      const p = this.historyQueue.shift()!;
      this.historyInFlight++;
      this.writeHistoryNow(p, true).finally(() => {
        this.historyInFlight--;
        this.writeHistory();
      });
    }
  }

  /** One history write; on failure the scan goes back in the queue (live) or is retried here (catch-up). */
  private async writeHistoryNow(p: HistoryItem, live = false): Promise<void> {
    if (!p.scan) {
      const res = await this.readOnce(join(this.s.arrowDir, p.relPath), p.relPath);
      if (res.kind !== 'ok') {
        this.say('warn', `scan #${p.scanNumber} not written to history: ${p.relPath} cannot be read again (${res.reason})`);
        return;
      }
      p.scan = res.scan;
    }
    const item = { ...p, scan: p.scan };
    for (;;) {
      if (this.stopped) return;
      try {
        const outcome = await this.history.put(orderOf(item.scan), this.payloadOf(item));
        if (outcome === 'written') this.st.historyWritten++;
        else this.log.debug({ scan: item.scan.scanNumber, file: item.relPath }, 'history already holds this scan or a newer one under its number');
        this.recovered();
        return;
      } catch (err) {
        this.failed(err, 'history writes wait for it');
        if (live) {
          this.historyPaused = true;
          this.historyQueue.unshift(p);
          return;
        }
        await this.hz.waitConnected(2000);
      }
    }
  }

  private failed(err: unknown, plan: string): void {
    this.st.hazelcastErrors++;
    if (!this.outageLogged) {
      this.outageLogged = true;
      this.say('warn', `Hazelcast write failed (${coerceError(err).message}): ${plan}`);
    }
    // Retry on reconnect (see start) and on a timer, in case the failure was not a disconnect.
    if (!this.retryTimer && !this.stopped) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, 500);
    }
  }

  private recovered(): void {
    if (this.outageLogged) {
      this.outageLogged = false;
      this.say('info', 'Hazelcast writes succeed again');
    }
  }

  private summary(): void {
    const s = this.stats();
    this.say('info', `summary: ${s.pushed} scans pushed, latest #${s.lastPushedScan}, ${s.olderSkipped} out of order, ${s.rejected} rejected, ${s.retried} retried reads, ${s.hazelcastErrors} Hazelcast errors`, { stats: s });
  }
}


function orderOf(scan: Scan): ScanOrderKey {
  return { timestampMs: scan.timestampMs, scanNumber: scan.scanNumber };
}
