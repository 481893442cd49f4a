import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../src/connections.js';
import { bridgeKeys, readBridgeFacts, type Heartbeat } from '../src/bridge/facts.js';
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

  it("a run that lost its lock leaves a successor's heartbeat alone", async () => {
    const lost = await runBridge(config, redis, testLog);
    const own = await eventually('its heartbeat', async () => (await readBridgeFacts(redis, config.queuePrefix)).heartbeat ?? undefined);
    // A standby took the job meanwhile and beats already.
    const successor: Heartbeat = { ...own, id: 'standby:1', pid: own.pid + 1, generation: own.generation + 1, beatAt: Date.now(), watching: true };
    await redis.set(bridgeKeys(config.queuePrefix).heartbeat, JSON.stringify(successor), 'PX', 60_000);
    await lost.stop({ keepHeartbeat: true });
    expect((await readBridgeFacts(redis, config.queuePrefix)).heartbeat).toEqual(successor);
    await redis.del(bridgeKeys(config.queuePrefix).heartbeat);
  });
});

describe('the generation counter', () => {
  it('a run writes it back with its heartbeat if Redis lost it (restarted empty while the run went on): the next run is numbered after it', async () => {
    const key = bridgeKeys(config.queuePrefix).generation;
    const run = await runBridge(config, redis, testLog);
    const generation = run.facts.currentGeneration;
    expect(generation).toBeGreaterThan(0);
    await redis.del(key);
    await run.facts.beat();
    expect(await redis.get(key)).toBe(String(generation));
    await run.stop();
    const next = await runBridge(config, redis, testLog);
    expect(next.facts.currentGeneration).toBe(generation + 1);
    // A counter that is there is the counter: a beat leaves it alone.
    await redis.set(key, String(generation + 5));
    await next.facts.beat();
    expect(await redis.get(key)).toBe(String(generation + 5));
    await next.stop();
  });
});
