import { afterEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../src/bridge/bridge.js';
import { waitUntilReady } from '../src/ready/wait.js';
import { writeScanFile } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { EventLog, eventually, testConfig } from './helpers.js';
import { startBridge } from './bridge-world.js';

/** Issue 20, finding 1: the value already in Hazelcast is judged like a file, and never by the bridge's memory. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Pushed = Extract<BridgeEvent, { type: 'pushed' }>;

async function world() {
  const config = testConfig();
  const { hz, bridge, events } = await startBridge(config, cleanups);
  const map = await hz.client.getMap<string, string>(config.hzMap);
  const T0 = Date.now() - 60_000;
  return {
    config,
    hz,
    map,
    events,
    bridge,
    /** Scan `n` stamped T0 + n × 100 ms (within the last minute); resolves when its file is in place. */
    async put(n: number): Promise<number> {
      const at = new Date(T0 + n * 100);
      await writeScanFile(config.arrowDir, n, at, encodeScan(makeScan({ scanNumber: n, time: at, assets: 3 })));
      return Date.now();
    },
    pushed: (n: number) => events.until((e): e is Pushed => e.type === 'pushed' && e.scanNumber === n, 20_000, `scan #${n} pushed`),
    held: async () => JSON.parse((await map.get(config.hzKey)) ?? 'null') as { scan_number: number; bridge_id?: string } | null,
    stampedAt: (n: number) => T0 + n * 100,
  };
}

async function landsWithin(w: Awaited<ReturnType<typeof world>>, n: number, ms: number): Promise<number> {
  const wrote = await w.put(n);
  const at = await eventually(`scan #${n} in Hazelcast`, async () => ((await w.held())?.scan_number === n ? Date.now() : undefined), 10_000);
  expect(at - wrote, `ms from scan #${n}'s file to its value in Hazelcast`).toBeLessThan(ms);
  return at;
}

const warnings = (events: EventLog<BridgeEvent>) =>
  events.events.filter((e): e is Extract<BridgeEvent, { type: 'line' }> => e.type === 'line' && e.level === 'warn');

describe('a stored value is judged like a file (issue 20)', () => {
  it('replaces a value another client stamped in 2099, by the next real scan within 1 s of its file, with one warning naming it', async () => {
    const w = await world();
    await w.put(1);
    await w.pushed(1);
    const forged = JSON.stringify({
      scan_number: 999999,
      timestamp: '2099-01-01T00:00:00.000Z',
      timestamp_ms: 4070908800000,
      written_at_ms: Date.now(),
      asset_count: 3,
      source_file: 'x.arrow',
      bridge_id: 'elsewhere',
    });
    await w.map.set(w.config.hzKey, forged);
    // Meanwhile the gates say not ready, naming why.
    const gate = await waitUntilReady(w.hz, w.config, { maxAgeS: 30, timeoutMs: 0 });
    expect(gate.ready).toBe(false);
    expect(gate.missing[0]).toMatch(/^the value in Hazelcast is no usable scan: scan #999999 of 2099-01-01T00:00:00\.000Z, written by "elsewhere", is stamped/);
    await landsWithin(w, 2, 1000);
    const replaced = warnings(w.events).filter((l) => l.message.includes('999999'));
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.message).toMatch(/replaced/);
    expect(replaced[0]!.message).toMatch(/ahead/);
    // The next scan is an ordinary one: no further warning.
    await landsWithin(w, 3, 1000);
    expect(warnings(w.events).filter((l) => l.message.includes('replaced'))).toHaveLength(1);
  });

  it.each([
    ['text that is not JSON', 'not json at all'],
    ['a non-numeric scan_number', JSON.stringify({ scan_number: 'abc', timestamp_ms: Date.now(), asset_count: 1 })],
    ['no timestamp_ms', JSON.stringify({ scan_number: 5 })],
  ])('replaces %s by the next scan, saying what it replaced', async (_what, value) => {
    const w = await world();
    await w.put(1);
    await w.pushed(1);
    await w.map.set(w.config.hzKey, value);
    await landsWithin(w, 2, 1000);
    expect(warnings(w.events).filter((l) => l.message.includes('replaced'))).toHaveLength(1);
  });

  it('trusts what Hazelcast holds over its memory: a sane older value put by hand lets the next newer scan land', async () => {
    const w = await world();
    await w.put(5);
    await w.pushed(5);
    // Another writer holds a newer scan (#100, a minute ahead of #5's stamp but not of the clock): #6 is refused.
    const newer = (n: number, at: number) =>
      JSON.stringify({ scan_number: n, timestamp: new Date(at).toISOString(), timestamp_ms: at, asset_count: 1, bridge_id: 'other' });
    await w.map.set(w.config.hzKey, newer(100, w.stampedAt(100)));
    await w.put(6);
    await w.events.until((e) => e.type === 'line' && e.message.includes('scan #6 not written'), 10_000, '#6 refused');
    // A person puts back an older scan (#3): the next scan, #7, is newer than that and must land.
    await w.map.set(w.config.hzKey, newer(3, w.stampedAt(3)));
    await landsWithin(w, 7, 1000);
    // Set back to #3 once more: a late #4, older than the #7 this bridge wrote but newer than what Hazelcast holds, lands.
    await w.map.set(w.config.hzKey, newer(3, w.stampedAt(3)));
    await landsWithin(w, 4, 1000);
  });
});
