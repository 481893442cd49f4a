import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedis, waitUntil, type Started } from '../../scripts/servers/services.js';

export interface RedisClusterGroup {
  nodes: Started[];
  /** The setting that points scan-bridge at this cluster. */
  env: { REDIS_CLUSTER_NODES: string };
  stop(): Promise<void>;
}

const run = promisify(execFile);

/**
 * Starts a Redis Cluster of `masters` masters without replicas (Debian's `redis-server`, joined
 * by `redis-cli --cluster create`) on free loopback ports; resolves once every node says `ok`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterGroup> {
  // Each run its own folder: a node reading an old nodes.conf would join a cluster long gone.
  const dir = mkdtempSync(join(tmpdir(), 'scan-bridge-cluster-'));
  const nodes: Started[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`], dir }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitUntil(
      'every cluster node ok',
      async () => {
        const states = await Promise.all(
          nodes.map((n) =>
            run('redis-cli', ['-p', String(n.port), 'cluster', 'info']).then(
              (r) => r.stdout,
              () => '',
            ),
          ),
        );
        return states.every((s) => s.includes('cluster_state:ok'));
      },
      30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, env: { REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') }, stop };
}
