import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../src/connections.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { runBridge } from '../src/bridge/run.js';
import { eventually, testConfig, testLog } from './helpers.js';

const config = testConfig();
const redis = createRedis(config);
afterAll(() => redis.disconnect());

describe('the heartbeat a bridge run leaves when it stops', () => {
  it('a run that lost its lock leaves a last heartbeat, not watching since it stopped; a run shut down removes its own', async () => {
    const lost = await runBridge(config, redis, testLog);
    await eventually('a heartbeat saying watching', async () => ((await readBridgeFacts(redis, config.queuePrefix)).heartbeat?.watching ? true : undefined));
    const stoppedAt = Date.now();
    await lost.stop({ keepHeartbeat: true });
    const left = (await readBridgeFacts(redis, config.queuePrefix)).heartbeat;
    // A check now reads a bridge that stopped watching a moment ago (not down yet), not a missing one (down at once).
    expect(left).toMatchObject({ pid: process.pid, watching: false });
    expect(left!.watchingChangedAt).toBeGreaterThanOrEqual(stoppedAt);

    const shutDown = await runBridge(config, redis, testLog);
    await eventually('the new run beating', async () => ((await readBridgeFacts(redis, config.queuePrefix)).heartbeat?.watching ? true : undefined));
    await shutDown.stop();
    expect((await readBridgeFacts(redis, config.queuePrefix)).heartbeat).toBeNull();
  });
});
