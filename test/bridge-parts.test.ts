/**
 * The bridge's parts, each alone: per-file reading and retry, coalescing of the latest value,
 * the history writer, the outage retry and the folder check. Real files, the real Hazelcast
 * member of the global setup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, renameSync } from 'node:fs';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { checkFolderEvery } from '../src/bridge/watch/folder-check.js';
import { HistoryWriter } from '../src/bridge/hazelcast/history-writer.js';
import { LatestWriter, type LatestItem } from '../src/bridge/hazelcast/latest-writer.js';
import { OutageRetry } from '../src/bridge/hazelcast/outage.js';
import { bodyJson, freshPayload, type DecodedScan } from '../src/bridge/hazelcast/payload.js';
import { readScan } from '../src/bridge/arrow/reference-decoder.js';
import { ScanDecoder } from '../src/bridge/scan-decoder.js';
import { ScanFileReader } from '../src/bridge/scan-intake.js';
import { scanRelPath, writeScanFile } from '../src/bridge/watch/scan-files.js';
import { HistoryStore, LatestStore, storedScanNumber, type PutOutcome } from '../src/bridge/hazelcast/store.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { EventLog, eventually, testConfig, testLog } from './helpers.js';

const T0 = Date.now() - 60_000;
function scanOf(n: number): { scan: DecodedScan; relPath: string; bytes: Uint8Array } {
  const at = new Date(T0 + n * 1000);
  const bytes = encodeScan(makeScan({ scanNumber: n, time: at, assets: 3 }));
  const relPath = scanRelPath(n, at);
  const r = readScan(bytes, { relPath });
  if (r.kind !== 'ok') throw new Error(r.reason);
  const { body, ...head } = r.scan;
  return { scan: { ...head, body: bodyJson(body) }, relPath, bytes };
}

let hz: Hazelcast;
// Files are read as the bridge reads them: in decoder threads (quarantine in memory only).
let decoder: ScanDecoder;
const read = (path: string, relPath: string) => decoder.read(path, relPath);
beforeAll(async () => {
  hz = await createHazelcast(testConfig(), testLog);
  decoder = new ScanDecoder(testConfig(), 'test:1', undefined, testLog);
  await decoder.start();
  expect(await hz.waitConnected(20_000)).toBe(true);
});
afterAll(async () => {
  await decoder.stop();
  await hz.shutdown();
});

describe('ScanFileReader', () => {
  type Ev = { type: 'scan'; n: number } | { type: 'reject'; reason: string };
  function reader(arrowDir: string, incompleteTimeoutMs = 5000) {
    const events = new EventLog<Ev>();
    const r = new ScanFileReader({
      arrowDir,
      incompleteTimeoutMs,
      read,
      onSkip: (_relPath, reason) => events.push({ type: 'reject', reason }),
      onScan: (scan) => events.push({ type: 'scan', n: scan.scanNumber }),
      onReject: (_relPath, reason) => events.push({ type: 'reject', reason }),
    });
    return { r, events };
  }

  it('reads a file written in two halves once it is whole, and tells it once', async () => {
    const { arrowDir } = testConfig();
    const { r, events } = reader(arrowDir);
    const s = scanOf(7);
    const path = join(arrowDir, s.relPath);
    await mkdir(join(path, '..'), { recursive: true });
    const half = Math.floor(s.bytes.length / 2);
    await writeFile(path, s.bytes.subarray(0, half));
    r.onFile(path);
    await eventually('a retry of the half-written file', () => (r.retried > 0 ? true : undefined));
    await appendFile(path, s.bytes.subarray(half));
    r.onFile(path);
    await events.until((e) => e.type === 'scan');
    expect(events.events).toEqual([{ type: 'scan', n: 7 }]);
    r.stop();
  });

  it('rejects a file that stops growing while incomplete, and one that is not Arrow at once', async () => {
    const { arrowDir } = testConfig();
    const { r, events } = reader(arrowDir, 200);
    const s = scanOf(8);
    const dir = join(arrowDir, s.relPath, '..');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'scan_000008_000000.arrow'), s.bytes.subarray(0, 100));
    await writeFile(join(dir, 'scan_000009_000000.arrow'), '{"not": "arrow"}');
    r.onFile(join(dir, 'scan_000008_000000.arrow'));
    r.onFile(join(dir, 'scan_000009_000000.arrow'));
    const json = await events.until((e) => e.type === 'reject' && e.reason.includes('JSON'));
    expect(json).toMatchObject({ type: 'reject' });
    const stuck = await events.until((e) => e.type === 'reject' && e.reason.includes('still incomplete after 200 ms'));
    expect(stuck).toMatchObject({ type: 'reject' });
    expect(events.events.filter((e) => e.type === 'scan')).toEqual([]);
    r.stop();
  });
});

describe('LatestWriter', () => {
  it('coalesces: scans offered during a write replace each other, only the newest is written next', async () => {
    const config = testConfig();
    const store = new LatestStore(hz.client, config.hzMap, config.hzKey);
    const done: Array<{ n: number; outcome: PutOutcome }> = [];
    const w = new LatestWriter({
      store,
      payloadOf: (item) => freshPayload(item, 'test:1'),
      onDone: (item, outcome) => done.push({ n: item.scan.scanNumber, outcome }),
      onError: (err) => {
        throw err;
      },
    });
    const items: LatestItem[] = Array.from({ length: 20 }, (_, k) => ({ ...scanOf(k + 1), eventAt: Date.now() }));
    for (const item of items) expect(w.offer(item)).toEqual({ taken: true });
    expect(w.pendingScan()).toBe(20);
    await eventually('scan #20 written', () => (done.some((d) => d.n === 20) ? true : undefined));
    expect(done.map((d) => d.n)).toEqual([1, 20]);
    expect(done.every((d) => d.outcome.kind === 'written')).toBe(true);
    expect(w.offer(items[4]!)).toMatchObject({ taken: false, ahead: { scanNumber: 20 } });
    expect(storedScanNumber((await store.read())!)).toBe(20);
  });
});

describe('LatestStore', () => {
  it('writes with one Hazelcast call in the usual case, and reads only after another writer moved the key', async () => {
    const config = testConfig();
    const k = (n: number) => ({ scanNumber: n, timestampMs: T0 + n * 1000 });
    const v = (n: number) => `{"scan_number":${n},"timestamp":"${new Date(T0 + n * 1000).toISOString()}","timestamp_ms":${T0 + n * 1000}}`;
    const a = new LatestStore(hz.client, config.hzMap, config.hzKey);
    // An empty key: putIfAbsent, no read first.
    expect(await a.putIfNewer(k(1), v(1))).toEqual({ kind: 'written', previous: null, calls: 1 });
    // replaceIfSame on the value it wrote.
    expect(await a.putIfNewer(k(2), v(2))).toEqual({ kind: 'written', previous: 1, calls: 1 });
    // A second writer: putIfAbsent answers with #2, then replaceIfSame.
    const b = new LatestStore(hz.client, config.hzMap, config.hzKey);
    expect(await b.putIfNewer(k(5), v(5))).toEqual({ kind: 'written', previous: 2, calls: 2 });
    // The first writer's compare fails; it reads #5 and leaves it.
    expect(await a.putIfNewer(k(4), v(4))).toEqual({ kind: 'not_newer', current: k(5) });
    expect(await a.putIfNewer(k(6), v(6))).toEqual({ kind: 'written', previous: 5, calls: 1 });
    expect(storedScanNumber((await b.read())!)).toBe(6);
  });
});

describe('HistoryWriter', () => {
  it('writes live scans, reading again from disk the ones not kept in memory', async () => {
    // inMemory 0: no decoded scan is kept, each is read again from its file when written.
    const config = testConfig();
    const lines: string[] = [];
    const outage = new OutageRetry({ hazelcast: hz, kick: () => undefined, hasPending: () => false, say: (_l, m) => lines.push(m) });
    const w = new HistoryWriter({
      store: new HistoryStore(hz.client, config.hzHistoryMap, 60_000),
      hazelcast: hz,
      arrowDir: config.arrowDir,
      read,
      inMemory: 0,
      payloadOf: (item) => freshPayload(item, 'test:1'),
      outage,
      say: (_l, m) => lines.push(m),
    });
    const scans = [1, 2, 3, 4].map(scanOf);
    // #1 to #3 are on disk; #4 is not (gone before it is written): it is skipped with a warning.
    for (const n of [1, 2, 3]) await writeScanFile(config.arrowDir, n, new Date(T0 + n * 1000), scans[n - 1]!.bytes);
    for (const s of scans) w.enqueue(s.scan, s.relPath, undefined);
    await eventually('the queue drained', () => (w.backlog() === 0 ? true : undefined));
    const map = await hz.client.getMap<string, string>(config.hzHistoryMap);
    expect([...(await map.keySet())].sort()).toEqual(['000001', '000002', '000003']);
    expect(w.written).toBe(3);
    expect(lines.some((l) => l.startsWith('scan #4 not written to history:') && l.includes(scans[3]!.relPath))).toBe(true);
    expect(outage.errors).toBe(0);
  });
});

describe('OutageRetry', () => {
  it('counts every failure, says so once, retries on a timer, and says when writes succeed again', async () => {
    const lines = new EventLog<string>();
    let kicks = 0;
    const o = new OutageRetry({ hazelcast: hz, kick: () => void kicks++, hasPending: () => true, say: (_l, m) => lines.push(m), retryMs: 20 });
    o.failed(new Error('boom'), 'keeping it');
    o.failed(new Error('boom again'), 'keeping it');
    expect(o.errors).toBe(2);
    expect(lines.events).toEqual(['Hazelcast write failed (boom): keeping it']);
    await eventually('the timed retry', () => (kicks === 1 ? true : undefined));
    o.recovered();
    o.recovered();
    expect(lines.events).toEqual(['Hazelcast write failed (boom): keeping it', 'Hazelcast writes succeed again']);
    o.stop();
  });
});

describe('checkFolderEvery', () => {
  it('tells when the folder goes away', async () => {
    const { arrowDir } = testConfig();
    const gone = new EventLog<Error>();
    const stop = checkFolderEvery(arrowDir, 20, (err) => gone.push(err));
    await rm(arrowDir, { recursive: true });
    const err = await gone.until(() => true, 5000);
    expect(err.message).toContain(`the scan folder ${arrowDir} is gone`);
    stop();
  });

  it('tells when the folder is removed and created again at once: the watch still holds the old one', async () => {
    const { arrowDir } = testConfig();
    const gone = new EventLog<Error>();
    const stop = checkFolderEvery(arrowDir, 20, (err) => gone.push(err));
    // The first check remembers which folder it is.
    await new Promise((r) => setTimeout(r, 100));
    // rename(2) puts the new (empty) folder over the old empty one in one step: a check, which
    // runs on libuv's thread pool, cannot see the path missing in between (rm + mkdir left a gap).
    mkdirSync(`${arrowDir}.new`);
    renameSync(`${arrowDir}.new`, arrowDir);
    const err = await gone.until(() => true, 5000);
    expect(err.message).toContain(`the scan folder ${arrowDir} was replaced by another folder`);
    stop();
  });
});
