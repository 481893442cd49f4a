/**
 * How the bridge gets a scan out of a path: decoded in the worker-thread pool, under the
 * decoding limits, with the quarantine consulted before and kept up to date after. The bridge
 * only sees outcomes; what is skipped (not a regular file, quarantined) it logs once.
 */
import type { RedisConnection as Redis } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { DecodePool } from './threads/pool.js';
import type { DecodedScan } from './hazelcast/payload.js';
import { Quarantine, type QuarantineEntry } from './guards/quarantine.js';

export type ReaderSettings = Pick<Config, 'queuePrefix' | 'decodeTimeoutMs' | 'decodeTimeoutMsPerMb' | 'maxScanBytes' | 'maxScanFileBytes'>;

export type ReadOutcome =
  | { kind: 'ok'; scan: DecodedScan; size: number; mtimeMs: number }
  | { kind: 'incomplete' | 'broken'; reason: string; size: number; mtimeMs: number }
  /** Not to be read at all: not a regular file, or quarantined and unchanged. */
  | { kind: 'skip'; reason: string; size: number; mtimeMs: number }
  | { kind: 'gone'; reason: string };

/** How often the quarantine is read again from Redis: a release by hand takes effect within this. */
const QUARANTINE_REFRESH_MS = 2000;

export class ScanDecoder {
  private readonly pool: DecodePool;
  readonly quarantine: Quarantine;

  constructor(
    s: ReaderSettings,
    private readonly bridgeId: string,
    redis: Redis | undefined,
    private readonly log: Logger,
    onRelease?: (relPath: string) => void,
  ) {
    this.pool = new DecodePool({
      timeoutMs: s.decodeTimeoutMs,
      timeoutMsPerMb: s.decodeTimeoutMsPerMb,
      maxScanBytes: s.maxScanBytes,
      maxFileBytes: s.maxScanFileBytes,
      log,
    });
    this.quarantine = new Quarantine(redis, s.queuePrefix, log, onRelease);
  }

  /** Loads the quarantine (from memory alone while Redis is down). */
  start(): Promise<void> {
    const t0 = Date.now();
    void this.pool
      .ready()
      .then((all) => this.log.info(all ? `decoder threads ready in ${Date.now() - t0} ms` : 'decoder threads not all ready: reads wait for them'));
    return this.quarantine.start(QUARANTINE_REFRESH_MS);
  }

  async stop(): Promise<void> {
    this.quarantine.stop();
    await this.pool.close();
  }

  /** Decoder threads replaced after a limit or a crash. */
  get decodersReplaced(): number {
    return this.pool.replaced;
  }

  async read(path: string, relPath: string): Promise<ReadOutcome> {
    const q = this.quarantine.get(relPath);
    const r = await this.pool.decode(path, relPath, q ? { size: q.size, mtimeMs: q.mtimeMs } : undefined);
    switch (r.kind) {
      case 'quarantined':
        return {
          kind: 'skip',
          reason: `quarantined since ${q ? new Date(q.at).toISOString() : '?'} (${q?.reason ?? 'a decoding limit'}) and unchanged`,
          size: r.size,
          mtimeMs: r.mtimeMs,
        };
      case 'not-regular':
        return { kind: 'skip', reason: `${r.what}, not a regular file`, size: -1, mtimeMs: -1 };
      case 'limit': {
        const entry: QuarantineEntry = { relPath, size: r.size, mtimeMs: r.mtimeMs, limit: r.limit, reason: r.reason, at: Date.now(), bridgeId: this.bridgeId };
        this.quarantine.add(entry);
        return { kind: 'broken', reason: `${r.reason}; quarantined until it changes`, size: r.size, mtimeMs: r.mtimeMs };
      }
    }
    // Read again after a change and not over a limit this time: no longer quarantined.
    if (q) this.quarantine.forget(relPath);
    switch (r.kind) {
      case 'gone':
        return { kind: 'gone', reason: 'the file is gone' };
      case 'ok':
        return { kind: 'ok', scan: { ...r.scan, body: r.body, content: r.content }, size: r.size, mtimeMs: r.mtimeMs };
      default:
        return { kind: r.kind, reason: r.reason, size: r.size, mtimeMs: r.mtimeMs };
    }
  }
}
