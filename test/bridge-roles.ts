/** Shared by the tests that run bridge roles as real processes: fast settings, the latest value, the active bridge. */
import { createHazelcast, createRedis } from '../src/connections.js';
import { readBridgeFacts } from '../src/bridge/facts.js';
import { resolveConfig } from '../src/config.js';
import { eventually, testEnv, testLog, writeScanFile, type Child } from './helpers.js';

/** Fast supervision: short locks, heartbeats and intervals, real timers. */
export function fastEnv(extra: Record<string, string> = {}) {
  return testEnv({
    HEALTH_INTERVAL_MS: '1000',
    BRIDGE_LOCK_MS: '3000',
    BRIDGE_HEARTBEAT_MS: '300',
    BRIDGE_HEARTBEAT_TTL_MS: '1500',
    RESTART_BACKOFF_MS: '1000',
    RESTART_CONFIRM_MS: '4000',
    ...extra,
  });
}

export type Latest = Awaited<ReturnType<typeof latestOf>>;

/** Reads `latest_eigen_scan` from Hazelcast. */
export async function latestOf(env: Record<string, string>) {
  const config = resolveConfig(env);
  const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  const map = await hz.client.getMap<string, string>(config.hzMap);
  return {
    async get(): Promise<{ scan_number: number; bridge_id: string } | null> {
      const v = await map.get(config.hzKey);
      return v === null ? null : (JSON.parse(v) as { scan_number: number; bridge_id: string });
    },
    /** Resolves with the time scan `n` is first seen there. */
    until(n: number, timeoutMs: number) {
      return eventually(`scan #${n} in Hazelcast`, async () => ((await this.get())?.scan_number === n ? Date.now() : undefined), timeoutMs);
    },
    close: () => hz.shutdown(),
  };
}

/** Keeps writing scans until one is pushed by a bridge other than `fromId`; returns that payload. */
export async function pushedByAnother(latest: Latest, env: Record<string, string>, fromId: string, timeoutMs: number) {
  let n = 1000;
  return eventually(
    'another bridge pushing',
    async () => {
      writeScanFile(env.ARROW_DIR!, n++);
      const v = await latest.get();
      return v && v.bridge_id !== fromId ? v : undefined;
    },
    timeoutMs,
  );
}

/** The child whose bridge heartbeat is in Redis, and the others. */
export async function activeBridge(env: Record<string, string>, children: Child[]) {
  const redis = createRedis(resolveConfig(env));
  try {
    const hb = await eventually('a bridge heartbeat', async () => (await readBridgeFacts(redis, env.QUEUE_PREFIX!)).heartbeat ?? undefined);
    const child = children.find((c) => c.pid === hb.pid);
    if (!child) throw new Error(`heartbeat from unknown pid ${hb.pid}`);
    return { hb, child, others: children.filter((c) => c !== child) };
  } finally {
    redis.disconnect();
  }
}
