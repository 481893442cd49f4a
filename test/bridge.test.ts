import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bridge, type BridgeEvent } from '../src/bridge/bridge.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import type { Config } from '../src/config.js';
import { dayFolder, scanFileName, writeScanFile } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { EventLog, eventually, testConfig, testLog } from './helpers.js';

type Pushed = Extract<BridgeEvent, { type: 'pushed' }>;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function hazelcast(config: Config): Promise<Hazelcast> {
  const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  cleanups.push(() => hz.shutdown());
  return hz;
}

async function startBridge(config: Config, opts: { id?: string; hz?: Hazelcast; incompleteTimeoutMs?: number } = {}) {
  const events = new EventLog<BridgeEvent>();
  const hz = opts.hz ?? (await hazelcast(config));
  const bridge = new Bridge({
    settings: config,
    hazelcast: hz,
    log: testLog,
    onEvent: events.push,
    ...(opts.id ? { bridgeId: opts.id } : {}),
    ...(opts.incompleteTimeoutMs ? { incompleteTimeoutMs: opts.incompleteTimeoutMs } : {}),
  });
  await bridge.start();
  cleanups.push(() => bridge.stop());
  return { bridge, events, pushed: (n: number) => events.until((e): e is Pushed => e.type === 'pushed' && e.scanNumber === n, 20_000, `scan #${n} pushed`) };
}

// Scan times follow scan numbers (10 ms apart), all within the last minute: the scan order and
// the clock-skew guard then agree with the numbers these tests use.
const T0 = Date.now() - 60_000;
function scan(n: number, assets = 5, at = new Date(T0 + n * 10)) {
  const row = makeScan({ scanNumber: n, time: at, assets });
  return { row, bytes: encodeScan(row), day: dayFolder(at), name: scanFileName(n, at) };
}

/** Writes a scan the way a good producer does: a dotted temp name, then a rename into place. */
async function put(config: Config, n: number, assets = 5): Promise<string> {
  const s = scan(n, assets);
  await writeScanFile(config.arrowDir, n, s.row.timestamp, s.bytes);
  return `${s.day}/${s.name}`;
}

async function latest(hz: Hazelcast, config: Config): Promise<Record<string, unknown> | null> {
  const v = await (await hz.client.getMap<string, string>(config.hzMap)).get(config.hzKey);
  return v === null ? null : (JSON.parse(v) as Record<string, unknown>);
}

async function historyKeys(hz: Hazelcast, config: Config): Promise<string[]> {
  const keys = await (await hz.client.getMap<string, string>(config.hzHistoryMap)).keySet();
  return [...keys].sort();
}

describe('bridge: watching and pushing', () => {
  it('pushes a renamed-into-place scan with the bridge fields, readable by the Python client', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed } = await startBridge(config, { id: 'test-host:1' });
    const rel = await put(config, 4228, 12);
    await pushed(4228);
    const value = await latest(hz, config);
    const { row } = scan(4228, 12);
    expect(value).toMatchObject({
      scan_number: 4228,
      timestamp: row.timestamp.toISOString(),
      timestamp_ms: row.timestamp.getTime(),
      asset_count: 12,
      source_file: rel,
      bridge_id: 'test-host:1',
      regime: row.regime,
      assets: row.assets,
      prices: row.prices,
      loadings: row.loadings,
      w50_lambda_max: row.w50_lambda_max,
    });
    expect(typeof value!.written_at_ms).toBe('number');
    // History is written once the latest value is answered, so it may land a moment after 'pushed'.
    const history = await hz.client.getMap<string, string>(config.hzHistoryMap);
    await eventually('scan #4228 in history', async () => ((await history.get('004228')) ? true : undefined));

    const [host, port] = config.hzMembers[0]!.split(':');
    const py = `
import json, hazelcast
c = hazelcast.HazelcastClient(cluster_members=["${host}:${port}"], cluster_name="${config.hzClusterName}")
latest = json.loads(c.get_map("${config.hzMap}").blocking().get("${config.hzKey}"))
hist = json.loads(c.get_map("${config.hzHistoryMap}").blocking().get("004228"))
print(json.dumps({"scan": latest["scan_number"], "assets": latest["assets"], "hist": hist["scan_number"], "type": type(latest["timestamp_ms"]).__name__}))
c.shutdown()
`;
    const out = JSON.parse(execFileSync('python3', ['-c', py], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n').pop()!) as unknown;
    expect(out).toEqual({ scan: 4228, assets: row.assets, hist: 4228, type: 'int' });
  });

  it('writes each scan to history only once its latest value is answered, in one compare-and-set round', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed, events } = await startBridge(config);
    for (let n = 1; n <= 5; n++) {
      await put(config, n, 50);
      await pushed(n);
    }
    await eventually('5 scans in history', async () => ((await historyKeys(hz, config)).length === 5 ? true : undefined));
    const pushes = events.events.filter((e): e is Pushed => e.type === 'pushed');
    expect(pushes.map((e) => e.scanNumber)).toEqual([1, 2, 3, 4, 5]);
    for (const { times } of pushes) {
      // Filled in by the history write, which the bridge makes after the latest answer.
      await eventually('the history write answered', () => (times?.historyAnswered !== undefined ? true : undefined), 5000);
      expect(times!.event).toBeLessThanOrEqual(times!.decoded);
      expect(times!.payload!).toBeLessThanOrEqual(times!.latestSent!);
      expect(times!.historySent!).toBeGreaterThanOrEqual(times!.latestAnswered!);
    }
    // The first write is a putIfAbsent; after it the bridge compares with the value it wrote: one call each.
    expect(pushes.map((e) => e.times!.calls)).toEqual([1, 1, 1, 1, 1]);
  });

  it('ignores dotfiles and *.tmp, and picks up day folders created later', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed, events } = await startBridge(config);
    const s = scan(7);
    const day = join(config.arrowDir, '2031-01-02');
    await mkdir(day);
    await writeFile(join(day, '.hidden.arrow'), s.bytes);
    await writeFile(join(day, `${s.name}.tmp`), s.bytes);
    await writeFile(join(day, s.name), s.bytes);
    await pushed(7);
    expect((await latest(hz, config))!.source_file).toBe(`2031-01-02/${s.name}`);
    expect(events.events.filter((e) => e.type === 'pushed')).toHaveLength(1);
  });

  it('sees a scan renamed into a day folder the moment the folder is created', async () => {
    // A watcher that lists a new folder before watching it misses such files now and then
    // (chokidar did: paulmillr/chokidar#1471). Try many folders.
    const config = testConfig();
    const hz = await hazelcast(config);
    await startBridge(config, { hz });
    const template = makeScan({ scanNumber: 1, time: new Date(T0), assets: 3 });
    for (let i = 1; i <= 40; i++) {
      const at = new Date(Date.UTC(2030, 0, i, 0, 0, 1));
      // a new day folder each time, the scan renamed into it at once
      // Folders far in the future, stamps of now: the clock-skew guard judges the stamp, not the folder.
      await writeScanFile(config.arrowDir, i, at, encodeScan({ ...template, scan_number: i, timestamp: new Date(T0 + i * 10) }));
    }
    // Every scan reaches the history; out-of-order arrivals are fine here, missing ones are not.
    const keys = await eventually(
      'all 40 scans in history',
      async () => {
        const k = await historyKeys(hz, config);
        return k.length === 40 ? k : undefined;
      },
      10_000,
    );
    expect(keys[0]).toBe('000001');
  });

  it('waits for a file written slowly in place, then pushes it whole', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed, bridge, events } = await startBridge(config);
    const s = scan(31, 400);
    const dir = join(config.arrowDir, s.day);
    await mkdir(dir, { recursive: true });
    const path = join(dir, s.name);
    await writeFile(path, new Uint8Array(0));
    const piece = Math.ceil(s.bytes.length / 8);
    for (let off = 0; off < s.bytes.length; off += piece) {
      await appendFile(path, s.bytes.subarray(off, off + piece));
      // The bridge reads each piece as it lands: wait until it has retried before the next one.
      const retried = bridge.stats().retried;
      await eventually('a retry of the partial file', () => (bridge.stats().retried > retried || off + piece >= s.bytes.length ? true : undefined), 5_000);
    }
    await pushed(31);
    expect((await latest(hz, config))!.asset_count).toBe(400);
    expect(bridge.stats().rejected).toBe(0);
    expect(bridge.stats().retried).toBeGreaterThan(0);
    expect(events.events.some((e) => e.type === 'rejected')).toBe(false);
  });

  it('takes a scan file deleted after its push quietly: no rejection, no error', async () => {
    const config = testConfig();
    const { pushed, bridge, events } = await startBridge(config);
    const rel = await put(config, 3);
    await pushed(3);
    await unlink(join(config.arrowDir, rel));
    await put(config, 4);
    await pushed(4);
    expect(bridge.stats().rejected).toBe(0);
    expect(events.events.filter((e) => e.type === 'line' && e.level !== 'info')).toEqual([]);
  });

  it('rejects broken files once, with path and reason, and keeps going', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed, events, bridge } = await startBridge(config, { incompleteTimeoutMs: 300 });
    const day = join(config.arrowDir, '2030-05-05');
    await mkdir(day);
    const good = scan(50);
    await writeFile(join(day, 'scan_000048_000000.arrow'), Buffer.from('{"not": "arrow"}'));
    await writeFile(join(day, 'scan_000049_000000.arrow'), good.bytes.subarray(0, Math.floor(good.bytes.length / 2)));
    const r1 = await events.until((e) => e.type === 'rejected' && e.relPath.endsWith('scan_000048_000000.arrow'));
    const r2 = await events.until((e) => e.type === 'rejected' && e.relPath.endsWith('scan_000049_000000.arrow'));
    expect(r1).toMatchObject({ relPath: '2030-05-05/scan_000048_000000.arrow' });
    expect((r1 as { reason: string }).reason).toMatch(/not an Arrow|JSON/i);
    expect((r2 as { reason: string }).reason).toMatch(/incomplete|truncated|footer/i);
    await writeFile(join(day, good.name), good.bytes);
    await pushed(50);
    expect(bridge.stats().rejected).toBe(2);
    expect((await latest(hz, config))!.scan_number).toBe(50);
  });

  it('never moves latest_eigen_scan backwards on out-of-order arrivals, and keeps every scan in history', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const { pushed, events, bridge } = await startBridge(config);
    await put(config, 10);
    await pushed(10);
    await put(config, 8);
    await events.until((e) => e.type === 'line' && e.message.includes('scan #8 arrived after #10'));
    await put(config, 12);
    await pushed(12);
    await put(config, 11);
    await events.until((e) => e.type === 'line' && e.message.includes('scan #11 arrived after #12'));
    expect((await latest(hz, config))!.scan_number).toBe(12);
    await eventually('history of all four', async () => ((await historyKeys(hz, config)).length === 4 ? true : undefined));
    expect(await historyKeys(hz, config)).toEqual(['000008', '000010', '000011', '000012']);
    expect(bridge.stats()).toMatchObject({ pushed: 2, olderSkipped: 2, lastPushedScan: 12, newestSeenOnDisk: 12 });
    const h = bridge.stats().pushLatency;
    expect(h.count).toBe(2);
    expect(h.cumulative[h.cumulative.length - 1]).toBe(2);
    expect(h.sumMs).toBeGreaterThanOrEqual(0);
  });
});

describe('bridge: start-up catch-up', () => {
  it('pushes the newest of a 5,000-file backlog at once and writes the missed ones to history', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const now = new Date();
    const day = join(config.arrowDir, dayFolder(now));
    await mkdir(day, { recursive: true });
    const template = makeScan({ scanNumber: 1, time: now, assets: 3 });
    for (let n = 1; n <= 5000; n++) {
      const at = new Date(now.getTime() - (5000 - n) * 10);
      await writeFile(join(day, scanFileName(n, at)), encodeScan({ ...template, scan_number: n, timestamp: at }));
    }
    const { pushed, bridge } = await startBridge(config);
    await pushed(5000);
    expect(bridge.stats().pushed).toBe(1);
    await bridge.caughtUp();
    expect((await historyKeys(hz, config)).length).toBe(5000);
    expect((await latest(hz, config))!.scan_number).toBe(5000);
  });

  it('on restart writes to history what it missed while down, and the entries missing up to the latest value', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const first = await startBridge(config, { hz });
    for (const n of [1, 2, 3]) await put(config, n);
    await first.pushed(3);
    // The three reach history before the stop: files that land together are decoded newest first,
    // so #1 and #2 may still be on their way when #3 is the latest value.
    await eventually('#1 to #3 in history', async () => ((await historyKeys(hz, config)).length === 3 ? true : undefined));
    await first.bridge.stop();
    for (const n of [4, 5, 6]) await put(config, n);
    const hist = await hz.client.getMap<string, string>(config.hzHistoryMap);
    // As a run killed between the latest value and the history write leaves it.
    await hist.delete('000002');
    const second = await startBridge(config, { hz });
    await second.pushed(6);
    await second.bridge.caughtUp();
    // #6, the newest, is the live path's: its history write follows its latest value, and may end
    // after the catch-up of #2, #4 and #5 (it did in a clean-clone run on a loaded machine).
    await eventually('the history entry of #6', async () => ((await historyKeys(hz, config)).includes('000006') ? true : undefined));
    expect(await historyKeys(hz, config)).toEqual(['000001', '000002', '000003', '000004', '000005', '000006']);
    // #1 and #3 have their entries: only looked up, not read or written again.
    const said = second.events.events.flatMap((e) => (e.type === 'line' ? [e.message] : []));
    expect(said.some((l) => l.startsWith('catching up: 2 scans on disk are newer than #3'))).toBe(true);
    expect(said.some((l) => l.startsWith('catching up: 1 of the 3 scans on disk up to #3'))).toBe(true);
    expect(said.some((l) => l.startsWith('caught up: 3 scans written to history'))).toBe(true);
  });
});

describe('bridge: what people read about a catch-up', () => {
  const lines = (events: EventLog<BridgeEvent>) => events.events.flatMap((e) => (e.type === 'line' ? [e.message] : []));

  it('a first start on an empty map names no sentinel scan number', async () => {
    const config = testConfig();
    for (const n of [1, 2, 3]) await put(config, n);
    const { pushed, bridge, events } = await startBridge(config);
    await pushed(3);
    await bridge.caughtUp();
    expect(lines(events).join('\n')).not.toMatch(/#-1|-Infinity|null|undefined|NaN/);
    expect(lines(events)).toContain('catching up: 2 scans on disk that Hazelcast has not seen; writing them to history');
  });

  it('a restart that finds its newest scan already in Hazelcast counts nothing out of order', async () => {
    const config = testConfig();
    const hz = await hazelcast(config);
    const first = await startBridge(config, { hz });
    for (const n of [1, 2]) await put(config, n);
    await first.pushed(2);
    await first.bridge.stop();
    const second = await startBridge(config, { hz });
    await second.events.until((e) => e.type === 'line' && /#2 is already in Hazelcast/.test(e.message), 20_000, 'the newest scan found already pushed');
    await put(config, 3);
    await second.pushed(3);
    expect(second.bridge.stats().olderSkipped).toBe(0);
    expect(lines(second.events).join('\n')).not.toMatch(/not written|out of order/);
  });
});

describe('bridge: two bridges racing on the same map', () => {
  it('only ever moves the value forward', async () => {
    const a = testConfig();
    const b = { ...a, arrowDir: testConfig().arrowDir };
    const hz = await hazelcast(a);
    const ba = await startBridge(a, { id: 'bridge-a' });
    const bb = await startBridge(b, { id: 'bridge-b' });
    const seen: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const v = await latest(hz, a);
        if (v) seen.push(v.scan_number as number);
      }
    })();
    // Both write every number, in opposite orders, interleaved.
    const numbers = Array.from({ length: 60 }, (_, i) => i + 1);
    await Promise.all([
      (async () => {
        for (const n of numbers) await put(a, n);
      })(),
      (async () => {
        for (const n of [...numbers].reverse()) await put(b, n);
      })(),
    ]);
    await Promise.all([
      ba.events.until((e) => e.type === 'line' && e.message.includes('#60')),
      bb.events.until((e) => e.type === 'line' && e.message.includes('#60')),
    ]);
    polling = false;
    await poller;
    expect((await latest(hz, a))!.scan_number).toBe(60);
    expect(seen.length).toBeGreaterThan(10);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);
  });
});
