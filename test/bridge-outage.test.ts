import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge, type BridgeEvent } from '../src/bridge/bridge.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { startHazelcast, type Started } from '../scripts/servers/services.js';
import { writeScanFile } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { EventLog, eventually, testConfig, testLog } from './helpers.js';

/** A member of this test's own, so killing it disturbs no other test. */
let member: Started;
beforeAll(async () => {
  member = await startHazelcast();
});
afterAll(async () => member?.stop());

describe('bridge: Hazelcast killed and restarted while scans keep arriving', () => {
  it('keeps the newest pending scan, writes it after recovery, and nothing older overwrites it', async () => {
    const config = testConfig({ HZ_MEMBERS: member.address });
    const events = new EventLog<BridgeEvent>();
    const hz: Hazelcast = await createHazelcast(config, testLog, { kind: 'service' });
    // historyInMemory 1: the scans queued during the outage are read from disk again for history.
    const bridge = new Bridge({ settings: config, hazelcast: hz, log: testLog, onEvent: events.push, historyInMemory: 1 });
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(await hz.waitConnected(15_000)).toBe(true);
      await bridge.start();
      const now = Date.now();
      const put = async (n: number) => {
        const at = new Date(now - 1000 + n);
        await writeScanFile(config.arrowDir, n, at, encodeScan(makeScan({ scanNumber: n, time: at, assets: 4 })));
      };
      await put(1);
      const first = await events.until((e) => e.type === 'pushed' && e.scanNumber === 1);
      // #1's history write answered too: with no write in flight at the kill, the outage line is about the pending latest scan.
      await eventually('history of scan #1 written', () => (first.type === 'pushed' && first.times?.historyAnswered !== undefined ? true : undefined));

      await member.kill();
      await eventually('the client to notice the outage', () => (hz.connected() ? undefined : true));
      const t0 = Date.now();
      for (const n of [2, 3, 5, 4]) await put(n);
      await eventually('scan #5 pending', () => (bridge.stats().pendingLatest === 5 ? true : undefined));
      // Calls fail fast while Hazelcast is down instead of hanging.
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(bridge.stats().hazelcastErrors).toBeGreaterThan(0);
      expect(events.events.some((e) => e.type === 'line' && e.message.includes('keeping scan #'))).toBe(true);

      member = await startHazelcast({ port: member.port });
      const pushed = await events.until((e) => e.type === 'pushed' && e.scanNumber === 5, 60_000, 'scan #5 after recovery');
      expect(pushed).toMatchObject({ scanNumber: 5 });
      const map = await hz.client.getMap<string, string>(config.hzMap);
      expect((JSON.parse(await map.get(config.hzKey)) as { scan_number: number }).scan_number).toBe(5);
      await eventually(
        'history of the scans written during the outage',
        async () => {
          const keys = [...(await (await hz.client.getMap<string, string>(config.hzHistoryMap)).keySet())].sort();
          return ['000002', '000003', '000004', '000005'].every((k) => keys.includes(k)) ? keys : undefined;
        },
        30_000,
      );
      // Scans 2..4 arrived before #5 was written: none of them ever became the latest.
      expect(events.events.filter((e) => e.type === 'pushed').map((e) => (e as { scanNumber: number }).scanNumber)).toEqual([1, 5]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await bridge.stop();
      await hz.shutdown();
    }
  });
});
