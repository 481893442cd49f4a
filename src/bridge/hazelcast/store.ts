import type { IMap } from 'hazelcast-client';
import type { HazelcastClient } from '../../connections.js';
import { isNewerScan, type ScanOrderKey } from '../guards/scan-order.js';
import { judgeStoredKey } from '../guards/stored-value.js';

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
  /**
   * `calls`: Hazelcast calls it took, 1 in the usual case. `replaced`: why the value it replaced
   * was not a scan to keep (stored-value.ts), when it was not one.
   */
  | { kind: 'written'; previous: number | null; calls: number; replaced?: string }
  /** The stored scan is this one or newer: nothing written. */
  | { kind: 'not_newer'; current: ScanOrderKey };

/**
 * Writes the newest scan to one map key, moving only to a newer scan (scan-order.ts), safely against
 * other writers: a compare-and-set on the exact stored string (`replaceIfSame`, `putIfAbsent`),
 * never read-then-set. What is stored is judged like a file (stored-value.ts): a value that is no
 * scan, or one stamped beyond `maxSkewS` ahead, is replaced by any scan.
 *
 * One call in the usual case: `replaceIfSame` on the value this writer last wrote or read
 * (`lastSeen`), or `putIfAbsent` when it has seen none yet. That memory is only the expected
 * value of a compare-and-set, never a reason to refuse: a scan not newer than it is compared with
 * what Hazelcast holds now (one read), so a value set back by hand, or lost, is followed at once.
 */
export class LatestStore {
  private lastSeen: { text: string; key: ScanOrderKey | null } | undefined;
  private readonly map: LazyMap;

  constructor(
    client: HazelcastClient,
    mapName: string,
    private readonly key: string,
    /** MAX_CLOCK_SKEW_S. */
    private readonly maxSkewS: number,
    private readonly gate?: WriteGate,
  ) {
    this.map = lazyMap(client, mapName);
  }

  async read(): Promise<string | null> {
    return (await this.map()).get(this.key);
  }

  /** Whether the key holds any value (one cheap call: the value is not sent). */
  async present(): Promise<boolean> {
    return (await this.map()).containsKey(this.key);
  }

  async putIfNewer(scan: ScanOrderKey, payload: string): Promise<PutOutcome> {
    const wait = this.gate?.();
    if (wait) await wait;
    let calls = 0;
    const map = await this.map();
    let current: string | null;
    if (this.lastSeen && !isNewerScan(scan, this.lastSeen.key)) {
      // Memory says not newer: only Hazelcast can say so.
      calls++;
      current = await map.get(this.key);
    } else {
      // null: nothing seen yet as far as this writer knows; putIfAbsent finds out in the same call.
      current = this.lastSeen?.text ?? null;
    }
    for (;;) {
      if (current === null) {
        calls++;
        const prev = await map.putIfAbsent(this.key, payload);
        if (prev === null || prev === undefined) return this.wrote(scan, payload, { kind: 'written', previous: null, calls });
        current = prev;
      }
      const stored = judgeStoredKey(current, { nowMs: Date.now(), maxSkewS: this.maxSkewS });
      const storedKey = stored.kind === 'scan' ? stored.value : null;
      this.lastSeen = { text: current, key: storedKey };
      if (storedKey && !isNewerScan(scan, storedKey)) return { kind: 'not_newer', current: storedKey };
      calls++;
      if (await map.replaceIfSame(this.key, current, payload)) {
        const outcome: PutOutcome = { kind: 'written', previous: storedKey?.scanNumber ?? null, calls };
        if (stored.kind === 'unusable') outcome.replaced = stored.why;
        return this.wrote(scan, payload, outcome);
      }
      // Another writer moved the key: compare with what is there now.
      calls++;
      current = await map.get(this.key);
    }
  }

  private wrote(scan: ScanOrderKey, payload: string, outcome: PutOutcome): PutOutcome {
    this.lastSeen = { text: payload, key: scan };
    return outcome;
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
    /** MAX_CLOCK_SKEW_S: an entry stamped further ahead is replaced like one that is no scan. */
    private readonly maxSkewS: number,
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
      const stored = judgeStoredKey(current, { nowMs: Date.now(), maxSkewS: this.maxSkewS });
      if (stored.kind === 'scan' && !isNewerScan(scan, stored.value)) return 'kept';
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
