import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { Bridge, type BridgeEvent } from '../src/bridge/bridge.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { startHazelcast, type Started } from '../scripts/servers/services.js';
import { writeScanFile } from '../src/bridge/watch/scan-files.js';
import { encodeScan, makeScan } from '../src/demo/scan-writer.js';
import { createRedis } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { keys } from '../src/keys.js';
import { openJobQueue } from '../src/jobs/table.js';
import { fastEnv, latestOf } from './bridge-roles.js';
import { EventLog, eventually, killChildren, spawnRoles, testConfig, testLog, writeScanFile as writeTestScan } from './helpers.js';

/**
 * Issue 20, finding 4: Hazelcast loses the value (a member restarted empty, the key deleted) and
 * the bridge puts its newest scan back, with no new scan file and no restart. A member of this
 * file's own, so killing it disturbs no other test.
 */
let member: Started;
beforeAll(async () => {
  member = await startHazelcast();
});
afterAll(async () => member?.stop());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function world() {
  const config = testConfig({ HZ_MEMBERS: member.address });
  const events = new EventLog<BridgeEvent>();
  const hz: Hazelcast = await createHazelcast(config, testLog, { kind: 'service' });
  cleanups.push(() => hz.shutdown());
  expect(await hz.waitConnected(15_000)).toBe(true);
  const bridge = new Bridge({ settings: config, hazelcast: hz, log: testLog, onEvent: events.push });
  await bridge.start();
  cleanups.push(() => bridge.stop());
  const map = () => hz.client.getMap<string, string>(config.hzMap);
  const put = async (n: number) => {
    const at = new Date(Date.now() - 1000 + n);
    await writeScanFile(config.arrowDir, n, at, encodeScan(makeScan({ scanNumber: n, time: at, assets: 4 })));
  };
  const scanFiles = () => readdirSync(config.arrowDir, { recursive: true }).filter((f) => String(f).endsWith('.arrow')).length;
  const held = async () => JSON.parse((await (await map()).get(config.hzKey)) ?? 'null') as { scan_number: number } | null;
  const historyKeys = async () => [...(await (await hz.client.getMap<string, string>(config.hzHistoryMap)).keySet())].sort();
  return { config, hz, bridge, events, map, put, scanFiles, held, historyKeys };
}

describe('Hazelcast loses the latest value: the bridge puts it back (issue 20)', () => {
  it('a member restarted empty: the latest scan and its history are back within 10 s, with no new scan file', async () => {
    const w = await world();
    await w.put(1);
    await w.put(2);
    await eventually('#2 latest and #1, #2 in history', async () =>
      (await w.held())?.scan_number === 2 && (await w.historyKeys()).length === 2 ? true : undefined,
    );
    const files = w.scanFiles();

    await member.kill();
    await eventually('the client to notice the outage', () => (w.hz.connected() ? undefined : true), 15_000);
    let connectedAt = 0;
    const off = w.hz.onChange((up) => void (up && (connectedAt = Date.now())));
    member = await startHazelcast({ port: member.port });
    const started = Date.now();
    const back = await eventually('scan #2 back in Hazelcast', async () => ((await w.held())?.scan_number === 2 ? Date.now() : undefined), 20_000);
    off();
    expect(back - started, 'ms from the member started again to the latest scan back').toBeLessThan(10_000);
    expect(back - connectedAt, 'ms from the bridge connected again to the latest scan back').toBeLessThan(5_000);
    await eventually('the history of #1 and #2 back', async () => ((await w.historyKeys()).join() === '000001,000002' ? true : undefined), 10_000);
    expect(w.scanFiles()).toBe(files);
    expect(w.events.events.some((e) => e.type === 'line' && e.level === 'warn' && /lost the latest value: put scan #2 back/.test(e.message))).toBe(true);
    // The entry listener outlived the restart: the key deleted now comes back too.
    const deleted = Date.now();
    await (await w.map()).delete(w.config.hzKey);
    const again = await eventually('scan #2 back after a delete', async () => ((await w.held())?.scan_number === 2 ? Date.now() : undefined), 10_000);
    expect(again - deleted, 'ms from the delete to the latest scan back').toBeLessThan(5_000);
  });

  it('the key alone deleted: the latest scan is back within 5 s', async () => {
    const w = await world();
    await w.put(7);
    await eventually('#7 latest', async () => ((await w.held())?.scan_number === 7 ? true : undefined));
    const deleted = Date.now();
    await (await w.map()).delete(w.config.hzKey);
    const back = await eventually('scan #7 back in Hazelcast', async () => ((await w.held())?.scan_number === 7 ? Date.now() : undefined), 10_000);
    expect(back - deleted, 'ms from the delete to the latest scan back').toBeLessThan(5_000);
    // Put back from memory, as what it was: not counted as a new push.
    expect(w.bridge.stats().pushed).toBe(1);
  });
});

describe('a member restarted empty under supervision (issue 20)', () => {
  afterEach(killChildren);

  it('the latest scan is back within 10 s, with no new scan file and no restart job queued', async () => {
    // Health every second, and no start-up grace to hide behind: a missing value would be judged at once.
    const env = fastEnv({ HZ_MEMBERS: member.address, BRIDGE_START_GRACE_S: '0' });
    const config = resolveConfig(env);
    const redis = createRedis(config);
    const restarts = openJobQueue('restart-bridge', redis, config, testLog);
    const latest = await latestOf(env);
    cleanups.push(async () => {
      await latest.close();
      await restarts.close();
      redis.disconnect();
    });
    spawnRoles(['scheduler', 'worker', 'bridge'], env);
    writeTestScan(config.arrowDir, 1);
    await latest.until(1, 30_000);
    const checks = () => redis.llen(keys(config.queuePrefix).healthHistory);
    const files = readdirSync(config.arrowDir, { recursive: true }).length;

    await member.kill();
    member = await startHazelcast({ port: member.port });
    const started = Date.now();
    const back = await latest.until(1, 20_000);
    expect(back - started, 'ms from the member started again to the latest scan back').toBeLessThan(10_000);
    // Three more health checks after it: none asks for a restart.
    const after = await checks();
    await eventually('three more health checks', async () => ((await checks()) >= after + 3 ? true : undefined), 20_000);
    const jobs = await restarts.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    expect(
      Object.values(jobs).reduce((a, b) => a + b, 0),
      JSON.stringify(jobs),
    ).toBe(0);
    expect(readdirSync(config.arrowDir, { recursive: true }).length).toBe(files);
  });
});
