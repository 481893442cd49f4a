import type { IMap } from 'hazelcast-client';
import type { HazelcastClient } from '../connections.js';
import { historyKey } from './files.js';

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

export type PutOutcome =
  | { kind: 'written'; previous: number | null; rounds: number }
  /** The stored scan is this one or newer: nothing written. */
  | { kind: 'not_newer'; current: number };

/**
 * Writes the newest scan to one map key, moving only to a higher scan number, safely against
 * other writers: a compare-and-set on the exact stored string (`replaceIfSame`, `putIfAbsent`),
 * never read-then-set. `lastWritten` (what this writer stored last) saves the read in the usual case.
 */
export class LatestStore {
  private lastWritten: string | undefined;

  constructor(
    private readonly map: IMap<string, string>,
    private readonly key: string,
  ) {}

  static async open(client: HazelcastClient, mapName: string, key: string): Promise<LatestStore> {
    return new LatestStore(await client.getMap<string, string>(mapName), key);
  }

  async read(): Promise<string | null> {
    return this.map.get(this.key);
  }

  async putIfNewer(scanNumber: number, payload: string): Promise<PutOutcome> {
    let rounds = 0;
    let current: string | null | undefined = this.lastWritten;
    for (;;) {
      rounds++;
      if (current === undefined) current = await this.map.get(this.key);
      if (current === null) {
        const prev = await this.map.putIfAbsent(this.key, payload);
        if (prev === null || prev === undefined) return this.wrote(payload, null, rounds);
        current = prev;
        continue;
      }
      const currentNumber = storedScanNumber(current);
      if (currentNumber >= scanNumber) {
        this.lastWritten = current;
        return { kind: 'not_newer', current: currentNumber };
      }
      if (await this.map.replaceIfSame(this.key, current, payload)) return this.wrote(payload, currentNumber, rounds);
      current = undefined;
    }
  }

  private wrote(payload: string, previous: number | null, rounds: number): PutOutcome {
    this.lastWritten = payload;
    return { kind: 'written', previous, rounds };
  }
}

/** Every scan by zero-padded number, each entry expiring after `ttlMs`. */
export class HistoryStore {
  constructor(
    private readonly map: IMap<string, string>,
    private readonly ttlMs: number,
  ) {}

  static async open(client: HazelcastClient, mapName: string, ttlS: number): Promise<HistoryStore> {
    return new HistoryStore(await client.getMap<string, string>(mapName), ttlS * 1000);
  }

  async put(scanNumber: number, payload: string): Promise<void> {
    await this.map.set(historyKey(scanNumber), payload, this.ttlMs);
  }

  async has(scanNumber: number): Promise<boolean> {
    return this.map.containsKey(historyKey(scanNumber));
  }
}
