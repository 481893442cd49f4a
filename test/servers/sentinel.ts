import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debuglog } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedis, waitUntil, type Started } from '../../scripts/servers/services.js';

/** A master, its replicas and the sentinels watching them, all `redis-server` on loopback. */
export interface SentinelGroup {
  masterName: string;
  /** The data nodes by port; a node killed and started again is replaced here. */
  nodes: Map<number, Started>;
  sentinels: Started[];
  /** The settings that point scan-bridge at this group. */
  env: { REDIS_SENTINELS: string; REDIS_SENTINEL_MASTER: string };
  /** The master's port, as the sentinels report it now. */
  masterPort(): Promise<number>;
  /** Waits until the sentinels agree on a master other than `oldPort` and it answers as master. */
  waitForFailover(oldPort: number, timeoutMs: number): Promise<number>;
  /** Starts a data node again on `port`, empty, as a replica of the current master (or as a master). */
  restartNode(port: number, as: 'replica' | 'master'): Promise<Started>;
  stop(): Promise<void>;
}

export interface SentinelGroupOptions {
  masterName?: string;
  replicas?: number;
  sentinels?: number;
  /** How long a master must be silent before the sentinels call it down. @defaultValue `1000` */
  downAfterMs?: number;
  /** @defaultValue `3000` */
  failoverTimeoutMs?: number;
}

/** A probe's connection errors also reject its call; the events themselves show with NODE_DEBUG=scan-bridge-servers. */
const debug = debuglog('scan-bridge-servers');

/** Calls are bounded: a frozen (SIGSTOP) server accepts the connection in the kernel and never answers. */
const probe = (port: number) =>
  new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });

async function sentinelCall<T>(port: number, ...args: string[]): Promise<T> {
  const r = probe(port);
  r.on('error', (err) => debug(`redis on port ${port}: ${err.message}`));
  try {
    await r.connect();
    return (await r.call('SENTINEL', ...args)) as T;
  } finally {
    r.disconnect();
  }
}

async function role(port: number): Promise<string | undefined> {
  const r = probe(port);
  r.on('error', (err) => debug(`redis on port ${port}: ${err.message}`));
  try {
    await r.connect();
    const reply = (await r.call('ROLE')) as unknown[];
    return String(reply[0]);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

async function startSentinel(dir: string, masterName: string, masterPort: number, quorum: number, o: Required<SentinelGroupOptions>): Promise<Started> {
  const port = await freePort();
  // Sentinel rewrites its file with what it learns, so each one gets its own.
  const conf = join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${masterName} ${o.downAfterMs}`,
      `sentinel failover-timeout ${masterName} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${masterName} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  child.stderr.resume();
  await waitUntil(
    `redis sentinel on port ${port}`,
    () =>
      sentinelCall<string>(port, 'myid').then(
        () => true,
        () => false,
      ),
    15_000,
    child,
  );
  const stopWith = (signal: NodeJS.Signals) => () =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill(signal);
    });
  return { address: `127.0.0.1:${port}`, port, pid: child.pid!, stop: stopWith('SIGTERM'), kill: stopWith('SIGKILL') };
}

/**
 * Starts a Sentinel deployment the way production runs one: a master, `replicas` replicas and
 * `sentinels` sentinels (Debian's `redis-server --sentinel`), on free loopback ports. Resolves
 * once every sentinel sees the replicas and the other sentinels, so a failover can be elected.
 */
export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
  const o: Required<SentinelGroupOptions> = { masterName: 'scan-bridge', replicas: 1, sentinels: 3, downAfterMs: 1000, failoverTimeoutMs: 3000, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'scan-bridge-sentinel-'));
  const nodes = new Map<number, Started>();
  const sentinels: Started[] = [];
  const stopAll = async () => {
    await Promise.all([...sentinels, ...nodes.values()].map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const master = await startRedis();
    nodes.set(master.port, master);
    for (let i = 0; i < o.replicas; i++) {
      const r = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
      nodes.set(r.port, r);
    }
    const quorum = Math.floor(o.sentinels / 2) + 1;
    for (let i = 0; i < o.sentinels; i++) sentinels.push(await startSentinel(dir, o.masterName, master.port, quorum, o));
    await waitUntil(
      'sentinels seeing the replicas and each other',
      async () => {
        const views = await Promise.all(
          sentinels.map((s) =>
            sentinelCall<string[]>(s.port, 'master', o.masterName)
              .then(fields)
              .catch((): Record<string, string> => ({})),
          ),
        );
        return views.every((v) => Number(v['num-slaves']) >= o.replicas && Number(v['num-other-sentinels']) >= o.sentinels - 1);
      },
      30_000,
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  const masterPort = async (): Promise<number> => {
    for (const s of sentinels) {
      const addr = await sentinelCall<string[]>(s.port, 'get-master-addr-by-name', o.masterName).catch(() => null);
      if (addr) return Number(addr[1]);
    }
    throw new Error('no sentinel answers');
  };

  return {
    masterName: o.masterName,
    nodes,
    sentinels,
    env: { REDIS_SENTINELS: sentinels.map((s) => s.address).join(','), REDIS_SENTINEL_MASTER: o.masterName },
    masterPort,
    async waitForFailover(oldPort, timeoutMs) {
      let port = oldPort;
      await waitUntil(
        `a new master instead of port ${oldPort}`,
        async () => {
          port = await masterPort().catch(() => oldPort);
          return port !== oldPort && (await role(port)) === 'master';
        },
        timeoutMs,
      );
      return port;
    },
    async restartNode(port, as) {
      const args = as === 'replica' ? ['--replicaof', '127.0.0.1', String(await masterPort())] : [];
      const node = await startRedis({ port, args });
      nodes.set(port, node);
      return node;
    },
    stop: stopAll,
  };
}
