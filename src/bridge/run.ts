import type { RedisConnection } from '../connections.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createHazelcast, type Hazelcast } from '../connections.js';
import { Bridge, type BridgeEvent } from './bridge.js';
import type { WriteGate } from './hazelcast/store.js';
import { BridgeFacts } from './facts.js';

export interface RunningBridge {
  bridge: Bridge;
  facts: BridgeFacts;
  /** `keepHeartbeat`: leave a last heartbeat saying "not watching" rather than removing it (see BridgeFacts.stop). */
  stop(opts?: { keepHeartbeat?: boolean }): Promise<void>;
}

/**
 * One bridge run: its own Hazelcast client, the bridge, and its heartbeat in Redis.
 * `redis` is borrowed, not closed. `writeGate` is asked before every Hazelcast write;
 * `generation` is the run's number as the bridge lease gave it.
 */
export async function runBridge(
  config: Config,
  redis: RedisConnection,
  log: Logger,
  opts: { onEvent?: (e: BridgeEvent) => void; writeGate?: WriteGate; generation?: number } = {},
): Promise<RunningBridge> {
  const hazelcast: Hazelcast = await createHazelcast(config, log);
  const { generation, ...bridgeOpts } = opts;
  const bridge = new Bridge({ settings: config, hazelcast, redis, log: log.child({ component: 'bridge' }), ...bridgeOpts });
  const facts = new BridgeFacts({
    redis,
    prefix: config.queuePrefix,
    stats: () => bridge.stats(),
    log,
    intervalMs: config.bridgeHeartbeatMs,
    ttlMs: config.bridgeHeartbeatTtlMs,
    ...(generation === undefined ? {} : { generation }),
  });
  try {
    // The first heartbeat (not watching yet) is sent before the bridge starts: the lease took this
    // run's generation already, and a health check must find a run starting, not a generation
    // without a heartbeat. Awaited after, so a Redis outage never holds up the bridge's start.
    const firstBeat = facts.start();
    await bridge.start();
    await firstBeat;
  } catch (err) {
    await facts.stop().catch(() => undefined);
    await bridge.stop().catch(() => undefined);
    await hazelcast.shutdown();
    throw err;
  }
  return {
    bridge,
    facts,
    async stop(opts = {}) {
      await bridge.stop();
      await facts.stop(opts);
      await hazelcast.shutdown();
    },
  };
}
