/**
 * `npm run services:up` / `services:down`: Redis and a Hazelcast member on this machine,
 * without Docker, running in the background until `down`. State lives in .cache/services
 * (SERVICES_STATE_DIR). `up redis` or `up hazelcast` starts only that one, and `down redis` or
 * `down hazelcast` stops only that one: neither ever stops or restarts the other. Redis keeps its
 * data in an append-only file in the state folder, across its restarts. SERVICES_HZ_MEMBERS=N
 * starts N members in one cluster, on SERVICES_HZ_PORT and the ports after it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAZELCAST_VERSION, ROOT, portFree, startHazelcastCluster, startRedis } from './services.js';

const dir = process.env.SERVICES_STATE_DIR ?? join(ROOT, '.cache', 'services');
const state = join(dir, 'pids.json');

const SERVICES = {
  redis: { env: 'SERVICES_REDIS_PORT', port: 6379, setting: 'REDIS_URL' },
  hazelcast: { env: 'SERVICES_HZ_PORT', port: 5701, setting: 'HZ_MEMBERS' },
} as const;
type Service = keyof typeof SERVICES;

/** `pids`: every process of the service (the Hazelcast members); `pid` is the first of them. */
type State = Partial<Record<Service, { pid: number; pids?: number[]; address: string }>>;

const pidsOf = (r: { pid: number; pids?: number[] }) => r.pids ?? [r.pid];

/** Whether `pid` runs: a killed process its parent has not reaped yet (a zombie) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Linux: the state letter follows the command name in parentheses.
    return !/\)\s+Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function portOf(name: Service): number {
  const raw = process.env[SERVICES[name].env];
  if (raw === undefined || raw === '') return SERVICES[name].port;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new Error(`${SERVICES[name].env}=${JSON.stringify(raw)} is not valid: expected a port from 1 to 65535`);
  return n;
}

function hzMembers(): number {
  const raw = process.env.SERVICES_HZ_MEMBERS ?? '1';
  if (!/^[1-9]$/.test(raw)) throw new Error(`SERVICES_HZ_MEMBERS=${JSON.stringify(raw)} is not valid: expected a number of members from 1 to 9`);
  return Number(raw);
}

function printSettings(s: State): void {
  console.log('Services are up. Use these settings (or put them in .env):');
  for (const name of Object.keys(s) as Service[]) console.log(`  ${SERVICES[name].setting}=${s[name]!.address}`);
  if (s.hazelcast) console.log('  HZ_CLUSTER_NAME=dev');
  const logs = (Object.keys(s) as Service[]).map((n) => join(dir, pidsOf(s[n]!).length > 1 ? `${n}*.log` : `${n}.log`));
  console.log(`Logs: ${logs.join(', ')}. Stop them with: npm run services:down`);
}

function readState(): State {
  return existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as State) : {};
}

/** Whether every process of `name` recorded in `s` still runs. */
const running = (s: State, name: Service) => s[name] !== undefined && pidsOf(s[name]).every(alive);

/**
 * Starts the `wanted` services that are not running; a service that runs is left as it is, and
 * the other service is never touched (a Redis restarted here would lose what it has not written).
 */
async function up(wanted: Service[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const recorded = readState();
  const missing = wanted.filter((n) => !running(recorded, n));
  if (missing.length === 0) {
    printSettings(Object.fromEntries(wanted.map((n) => [n, recorded[n]])));
    return;
  }
  // What is left of a service that is partly gone (one member of two): stopped, then started whole.
  await down(missing, true);
  const count = { redis: 1, hazelcast: hzMembers() };
  const ports = Object.fromEntries(missing.map((n) => [n, Array.from({ length: count[n] }, (_, i) => portOf(n) + i)])) as Record<Service, number[]>;
  // Before starting anything: a port held by another process would answer for a server that never started.
  for (const n of missing) {
    for (const port of ports[n]) {
      if (!(await portFree(port))) {
        throw new Error(
          `port ${port} on 127.0.0.1 is already in use by another process, so ${n} cannot start there: stop that process, or choose another port with ${SERVICES[n].env}=<port>`,
        );
      }
    }
  }
  const started: Partial<Record<Service, { pids: number[]; address: string; stop(): Promise<void> }>> = {};
  try {
    if (missing.includes('redis')) {
      console.log(`Starting redis-server on 127.0.0.1:${ports.redis[0]} …`);
      // Append-only file in its state folder: the schedule, queues and history survive its restarts.
      const r = await startRedis({ port: ports.redis[0], detached: true, logFile: join(dir, 'redis.log'), dir: join(dir, 'redis'), persist: true });
      started.redis = { pids: [r.pid], address: r.address, stop: r.stop };
    }
    if (missing.includes('hazelcast')) {
      console.log(`Starting Hazelcast ${HAZELCAST_VERSION} on 127.0.0.1:${ports.hazelcast.join(', ')} (first start fetches the jar through Maven) …`);
      const c = await startHazelcastCluster(count.hazelcast, {
        ports: ports.hazelcast,
        detached: true,
        logFile: (i) => join(dir, i === 0 ? 'hazelcast.log' : `hazelcast-${i + 1}.log`),
      });
      started.hazelcast = { pids: c.members.map((m) => m.pid), address: c.address, stop: c.stop };
    }
  } catch (err) {
    await Promise.all(Object.values(started).map((s) => s.stop()));
    throw err;
  }
  const s: State = { ...readState() };
  for (const [n, v] of Object.entries(started) as [Service, NonNullable<(typeof started)[Service]>][])
    s[n] = { pid: v.pids[0]!, pids: v.pids, address: v.address };
  writeState(s);
  printSettings(Object.fromEntries(wanted.map((n) => [n, s[n]])));
}

function writeState(s: State): void {
  if (Object.keys(s).length === 0) rmSync(state, { force: true });
  else writeFileSync(state, JSON.stringify(s, null, 2));
}

/** Stops the `wanted` services (SIGTERM, SIGKILL after 15 s) and forgets them; the others keep running. */
async function down(wanted: Service[], quiet = false): Promise<void> {
  const s = readState();
  const recorded = wanted.filter((n) => s[n] !== undefined);
  if (recorded.length === 0) {
    if (!quiet) console.log(`No ${wanted.join(' or ')} recorded as running.`);
    return;
  }
  for (const [name, pid] of recorded.flatMap((n) => pidsOf(s[n]!).map((p) => [n, p] as const))) {
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (!quiet) console.log(`Stopped ${name} (pid ${pid}).`);
  }
  for (const n of recorded) delete s[n];
  writeState(s);
}

const [cmd, ...names] = process.argv.slice(2);
const unknown = names.filter((n) => !(n in SERVICES));
const wanted = (names.length ? names : Object.keys(SERVICES)) as Service[];
const run =
  unknown.length > 0
    ? Promise.reject(new Error(`unknown service ${unknown.join(', ')}: expected redis or hazelcast`))
    : cmd === 'up'
      ? up(wanted)
      : cmd === 'down'
        ? down(wanted)
        : Promise.reject(new Error('usage: services-cli up|down [redis] [hazelcast]'));
run.catch((err: unknown) => {
  console.error(`services ${cmd ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
