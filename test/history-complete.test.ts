import { afterEach, describe, expect, it } from 'vitest';
import { createHazelcast } from '../src/connections.js';
import { resolveConfig } from '../src/config.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, writeScanFile } from './helpers.js';

afterEach(killChildren);

describe('every scan reaches history across bridge runs', () => {
  it('a run killed after the latest value but before history: the next run writes the missing entries', async () => {
    const env = testEnv({ BRIDGE_LOCK_MS: '2000', BRIDGE_HEARTBEAT_MS: '300', BRIDGE_HEARTBEAT_TTL_MS: '1500' });
    const config = resolveConfig(env);
    const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
    const latestMap = await hz.client.getMap<string, string>(config.hzMap);
    const history = await hz.client.getMap<string, string>(config.hzHistoryMap);
    const latest = async () => {
      const v = await latestMap.get(config.hzKey);
      return v === null ? null : (JSON.parse(v) as { scan_number: number }).scan_number;
    };
    try {
      const first = spawnRoles(['bridge'], env);
      for (let n = 1; n <= 5; n++) writeScanFile(config.arrowDir, n);
      await eventually('scan #5 in latest', async () => ((await latest()) === 5 ? true : undefined), 30_000);
      await eventually('5 history entries', async () => ((await history.size()) === 5 ? true : undefined), 10_000);
      first.signal('SIGKILL');
      await first.exited;
      // What a kill between the two writes leaves behind: latest holds #5, history lacks #4 and #5.
      await history.delete('000004');
      await history.delete('000005');

      const second = spawnRoles(['bridge'], env);
      await eventually(
        '#4 and #5 in history again',
        async () => ((await history.containsKey('000004')) && (await history.containsKey('000005')) ? true : undefined),
        20_000,
      );
      const entry = await history.get('000004');
      expect(JSON.parse(entry)).toMatchObject({ scan_number: 4 });
      expect(await latest()).toBe(5);
      expect(await history.size()).toBe(5);
      await eventually('the line saying so', () => Promise.resolve(second.output().includes('1 of the 4 scans on disk up to #5') ? true : undefined), 5_000);
    } finally {
      await hz.shutdown();
    }
  });
});
