import type { IMap } from 'hazelcast-client';
import type { HazelcastClient } from '../../connections.js';
import { isNewerScan, storedScanKey, type ScanOrderKey } from '../scan-order.js';

/** The scan number inside a stored payload; -1 when it holds none (then any scan replaces it). */
export function storedScanNumber(stored: string): number {
  // Our payloads start with it; anything else is parsed in full.
  const m = /^\{"scan_number":(\d+)[,}]/.exec(stored);
  if (m) return Number(m[1]);
  try {
    const n = (JSON.parse(stored) as { scan_number?: unknown }).scan_number;
    return typeof n === 'number' ? n : typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : -1;
  } catch {
    return -1;
  }
}

/**
 * Asked before each write: undefined to write now, or a promise that resolves when the write may
 * go ahead and rejects with WriteRefusedError when it may not (the bridge job's lock is lost).
 */
export type WriteGate = () => Promise<void> | undefined;

/** A write not made because this bridge may not write any more: not a Hazelcast failure. */
export class WriteRefusedError extends Error {
  constructor(why: string) {
    super(`not written: ${why}`);
    this.name = 'WriteRefusedError';
  }
}

export type PutOutcome =
  /** `calls`: Hazelcast calls it took, 1 in the usual case. */
  | { kind: 'written'; previous: number | null; calls: number }
  /** The stored scan is this one or newer: nothing written. */
  | { kind: 'not_newer'; current: ScanOrderKey };

/**
 * Writes the newest scan to one map key, moving only to a newer scan (scan-order.ts), safely against
 * other writers: a compare-and-set on the exact stored string (`replaceIfSame`, `putIfAbsent`),
 * never read-then-set. One call in the usual case: `replaceIfSame` on what this writer stored last
 * (`lastWritten`), or `putIfAbsent` when it has written nothing yet; a read only after a compare
 * that failed because another writer moved the key.
 */
export class LatestStore {
  private lastWritten: string | undefined;
  private readonly map: LazyMap;

  constructor(
    client: HazelcastClient,
    mapName: string,
    private readonly key: string,
    private readonly gate?: WriteGate,
  ) {
    this.map = lazyMap(client, mapName);
  }

  async read(): Promise<string | null> {
    return (await this.map()).get(this.key);
  }

  async putIfNewer(scan: ScanOrderKey, payload: string): Promise<PutOutcome> {
    const wait = this.gate?.();
    if (wait) await wait;
    let calls = 0;
    const map = await this.map();
    // null: nothing written yet as far as this writer knows; putIfAbsent finds out in the same call.
    let current: string | null = this.lastWritten ?? null;
    for (;;) {
      if (current === null) {
        calls++;
        const prev = await map.putIfAbsent(this.key, payload);
        if (prev === null || prev === undefined) return this.wrote(payload, null, calls);
        current = prev;
      }
      const stored = storedScanKey(current);
      if (stored && !isNewerScan(scan, stored)) {
        this.lastWritten = current;
        return { kind: 'not_newer', current: stored };
      }
      calls++;
      if (await map.replaceIfSame(this.key, current, payload)) return this.wrote(payload, stored?.scanNumber ?? null, calls);
      // Another writer moved the key: compare with what is there now.
      calls++;
      current = await map.get(this.key);
    }
  }

  private wrote(payload: string, previous: number | null, calls: number): PutOutcome {
    this.lastWritten = payload;
    return { kind: 'written', previous, calls };
  }
}

/**
 * Every scan by zero-padded number, each entry expiring after `ttlMs`. After a scanner restarts
 * its numbering a number comes round again: a newer scan replaces the older one under it, never
 * the reverse, by the same compare-and-set as the latest value.
 */
export class HistoryStore {
  private readonly map: LazyMap;

  constructor(
    client: HazelcastClient,
    mapName: string,
    private readonly ttlMs: number,
    private readonly gate?: WriteGate,
  ) {
    this.map = lazyMap(client, mapName);
  }

  /** `kept`: the key already holds this scan or a newer one. */
  async put(scan: ScanOrderKey, payload: string): Promise<'written' | 'kept'> {
    const wait = this.gate?.();
    if (wait) await wait;
    const map = await this.map();
    const key = historyKey(scan.scanNumber);
    // The usual case, a number not seen yet, costs one call.
    let current: string | null | undefined = await map.putIfAbsent(key, payload, this.ttlMs);
    for (;;) {
      if (current === null || current === undefined) return 'written';
      const stored = storedScanKey(current);
      if (stored && !isNewerScan(scan, stored)) return 'kept';
      if (await map.replaceIfSame(key, current, payload)) {
        // A replace does not take a TTL: give the new entry its own.
        await map.setTtl(key, this.ttlMs);
        return 'written';
      }
      current = await map.get(key);
      if (current === null) current = await map.putIfAbsent(key, payload, this.ttlMs);
    }
  }

  /** The scan numbers among `scanNumbers` that have no history entry (key lookups only, 100 at a time). */
  async absent(scanNumbers: number[]): Promise<number[]> {
    const map = await this.map();
    const out: number[] = [];
    for (let i = 0; i < scanNumbers.length; i += 100) {
      const chunk = scanNumbers.slice(i, i + 100);
      const has = await Promise.all(chunk.map((n) => map.containsKey(historyKey(n))));
      out.push(...chunk.filter((_, j) => !has[j]));
    }
    return out;
  }
}

type LazyMap = () => Promise<IMap<string, string>>;

/**
 * The map's proxy, fetched on first use: getting it needs a connected cluster, and a bridge
 * started during a Hazelcast outage must still start (its writes fail and are retried).
 */
function lazyMap(client: HazelcastClient, name: string): LazyMap {
  let map: Promise<IMap<string, string>> | undefined;
  return () => {
    map ??= client.getMap<string, string>(name).catch((err: unknown) => {
      map = undefined;
      throw err;
    });
    return map;
  };
}

/** History key: the scan number zero-padded to six digits, as in the file names. */
function historyKey(scanNumber: number): string {
  return String(scanNumber).padStart(6, '0');
}
