/**
 * The small harness the bridge benchmark's measures share: clocks and summaries, a change
 * signal, clean-up on exit, the bench's own Hazelcast clients and the watches they keep.
 */
import { performance } from 'node:perf_hooks';
import { Client, type IMap, type EntryEvent } from 'hazelcast-client';
import { hazelcastClientConfig } from '../../src/connections.js';
import type { Started } from '../../scripts/servers/services.js';
import { createLogger } from '../../src/log.js';
import { sleep } from '../../src/time.js';
import { KEY } from './settings.js';

export const mono = (): number => performance.now();
export const epoch = (): number => performance.timeOrigin + performance.now();
export const sleepUntil = (t: number) => sleep(t - mono());
export const r2 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
export const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;
export const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

export interface Summary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  min: number | null;
  mean: number | null;
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : null);
  return {
    count: s.length,
    p50: r2(q(50)),
    p90: r2(q(90)),
    p99: r2(q(99)),
    max: r2(s[s.length - 1]),
    min: r2(s[0]),
    mean: r2(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null),
  };
}

/** Wakes up waiters whenever something changes; `until` re-checks a predicate on each change. */
export class Signal {
  private waiters: Array<() => void> = [];
  fire(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until(pred: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    const deadline = mono() + timeoutMs;
    while (!pred()) {
      const left = deadline - mono();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
  }
}

/**
 * Latency of each sent scan: until that scan, or a newer one, became readable (a consumer that
 * reads the key then has data at least as new). The bridge may coalesce: when two files are seen
 * at once only the newest is written to the key. `superseded` counts scans first covered by a
 * newer one; `missing` counts scans nothing covered.
 */
export function latencies(sent: Array<{ n: number; t0: number }>, seen: Map<number, number>) {
  const ordered = [...seen].sort((a, b) => a[0] - b[0]);
  const xs: number[] = [];
  const perScan = new Map<number, number>();
  let superseded = 0;
  let missing = 0;
  for (const { n, t0 } of sent) {
    let t1 = seen.get(n);
    if (t1 === undefined) {
      // the earliest time any scan >= n was seen
      for (const [m, t] of ordered) if (m >= n && (t1 === undefined || t < t1)) t1 = t;
      if (t1 === undefined) {
        missing++;
        continue;
      }
      superseded++;
    }
    xs.push(t1 - t0);
    perScan.set(n, t1 - t0);
  }
  return { xs, perScan, superseded, missing };
}

export function scanNumberOf(value: string): number {
  const m = /^\{"scan_number": ?(\d+)[,}]/.exec(value);
  if (m) return Number(m[1]);
  const n = (JSON.parse(value) as { scan_number?: unknown }).scan_number;
  return typeof n === 'number' ? n : Number(n);
}

// Clean-up, interruption and the deadline

const cleanups: Array<{ what: string; run: () => Promise<void> }> = [];
export function onCleanup(what: string, run: () => Promise<void>): () => void {
  const entry = { what, run };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop()!;
    await Promise.race([c.run().catch((err: unknown) => progress(`clean-up of ${c.what} failed: ${String(err)}`)), sleep(20_000)]);
  }
}

const benchLog = createLogger('silent', 'bench');

export async function benchClient(member: Started, role: string): Promise<Client> {
  const cfg = hazelcastClientConfig({ hzMembers: [member.address], hzClusterName: 'dev' }, benchLog, { kind: 'command', timeoutMs: 30_000 });
  cfg.instanceName = `bench-${role}-${process.pid}`;
  const client = await Client.newHazelcastClient(cfg);
  onCleanup(`hazelcast client ${role}`, () => client.shutdown());
  return client;
}

/** Records, on one key of one map, when each scan number first became readable (mono ms). */
export class LatestWatch {
  readonly seen = new Map<number, number>();
  max = -1;
  readonly signal = new Signal();
  private constructor(
    private readonly map: IMap<string, string>,
    private id = '',
  ) {}

  static async open(client: Client, mapName: string): Promise<LatestWatch> {
    const map = await client.getMap<string, string>(mapName);
    const w = new LatestWatch(map);
    const on = (e: EntryEvent<string, string>) => w.onValue(e.value);
    w.id = await map.addEntryListener({ added: on, updated: on }, KEY, true);
    return w;
  }

  private onValue(value: string | null | undefined): void {
    const t = mono();
    if (typeof value !== 'string') return;
    const n = scanNumberOf(value);
    if (!this.seen.has(n)) this.seen.set(n, t);
    if (n > this.max) this.max = n;
    this.signal.fire();
  }

  async close(): Promise<void> {
    await this.map.removeEntryListener(this.id).catch(() => undefined);
  }
}

/** Counts history entries as they are added (key = zero-padded scan number). */
export class HistoryWatch {
  count = 0;
  readonly signal = new Signal();
  private constructor(
    private readonly map: IMap<string, string>,
    private id = '',
    private readonly onAdded?: (n: number) => void,
  ) {}

  static async open(client: Client, mapName: string, onAdded?: (n: number) => void): Promise<HistoryWatch> {
    const map = await client.getMap<string, string>(mapName);
    const w = new HistoryWatch(map, '', onAdded);
    w.id = await map.addEntryListener(
      {
        added: (e: EntryEvent<string, string>) => {
          w.count++;
          w.onAdded?.(Number(e.key));
          w.signal.fire();
        },
      },
      undefined,
      false,
    );
    return w;
  }

  async close(): Promise<void> {
    await this.map.removeEntryListener(this.id).catch(() => undefined);
  }
}

/**
 * Splits each scan's latency with the bridge's own measure (its 'pushed' event: from the file
 * event to the CAS acknowledged, whole ms): `add_to_written` is that part, `rest` the
 * remainder = rename → the bridge's file event (inotify via fs.watch, then its read and stat of
 * the new file) plus listener delivery to the observer (the floor's p50 is an estimate of the latter).
 * Only scans the bridge itself wrote to the key count (not superseded ones). Approximate: the
 * bridge's figure ends when its event loop handles the CAS reply, which can come after the
 * observer already got the entry event (a busy loop), so single `rest` values can be negative.
 */
export function decompose(ns: number[], total: Map<number, number>, pushes: Map<number, number>) {
  const inner: number[] = [];
  const rest: number[] = [];
  for (const n of ns) {
    const own = pushes.get(n);
    const t = total.get(n);
    if (own === undefined || t === undefined) continue;
    inner.push(own);
    rest.push(t - own);
  }
  return { scans: inner.length, add_to_written_ms: summarize(inner), rest_ms: summarize(rest) };
}

export async function destroyMaps(client: Client, names: string[]): Promise<void> {
  for (const name of names) await (await client.getMap(name)).destroy().catch(() => undefined);
}
