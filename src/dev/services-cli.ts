/**
 * `npm run services:up` / `services:down`: Redis and a Hazelcast member on this machine,
 * without Docker, running in the background until `down`. State lives in .cache/services
 * (SERVICES_STATE_DIR). `up redis` or `up hazelcast` starts only that one.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAZELCAST_VERSION, ROOT, portFree, startHazelcast, startRedis, type Started } from './services.js';

const dir = process.env.SERVICES_STATE_DIR ?? join(ROOT, '.cache', 'services');
const state = join(dir, 'pids.json');

const SERVICES = {
  redis: { env: 'SERVICES_REDIS_PORT', port: 6379, setting: 'REDIS_URL' },
  hazelcast: { env: 'SERVICES_HZ_PORT', port: 5701, setting: 'HZ_MEMBERS' },
} as const;
type Service = keyof typeof SERVICES;

type State = Partial<Record<Service, { pid: number; address: string }>>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOf(name: Service): number {
  const raw = process.env[SERVICES[name].env];
  if (raw === undefined || raw === '') return SERVICES[name].port;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new Error(`${SERVICES[name].env}=${JSON.stringify(raw)} is not valid: expected a port from 1 to 65535`);
  return n;
}

function printSettings(s: State): void {
  console.log('Services are up. Use these settings (or put them in .env):');
  for (const name of Object.keys(s) as Service[]) console.log(`  ${SERVICES[name].setting}=${s[name]!.address}`);
  if (s.hazelcast) console.log('  HZ_CLUSTER_NAME=dev');
  console.log(`Logs: ${(Object.keys(s) as Service[]).map((n) => join(dir, `${n}.log`)).join(', ')}. Stop them with: npm run services:down`);
}

function readState(): State {
  return existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as State) : {};
}

async function up(wanted: Service[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const recorded = readState();
  if (wanted.every((n) => recorded[n] && alive(recorded[n].pid))) {
    printSettings(recorded);
    return;
  }
  await down(true);
  const ports = Object.fromEntries(wanted.map((n) => [n, portOf(n)])) as Record<Service, number>;
  // Before starting anything: a port held by another process would answer for a server that never started.
  for (const n of wanted) {
    if (!(await portFree(ports[n]))) {
      throw new Error(`port ${ports[n]} on 127.0.0.1 is already in use by another process, so ${n} cannot start there: stop that process, or choose another port with ${SERVICES[n].env}=<port>`);
    }
  }
  const started: Partial<Record<Service, Started>> = {};
  try {
    if (wanted.includes('redis')) {
      console.log(`Starting redis-server on 127.0.0.1:${ports.redis} …`);
      started.redis = await startRedis({ port: ports.redis, detached: true, logFile: join(dir, 'redis.log') });
    }
    if (wanted.includes('hazelcast')) {
      console.log(`Starting Hazelcast ${HAZELCAST_VERSION} on 127.0.0.1:${ports.hazelcast} (first start fetches the jar through Maven) …`);
      started.hazelcast = await startHazelcast({ port: ports.hazelcast, detached: true, logFile: join(dir, 'hazelcast.log') });
    }
  } catch (err) {
    await Promise.all(Object.values(started).map((s) => s.stop()));
    throw err;
  }
  const s: State = Object.fromEntries(Object.entries(started).map(([n, v]) => [n, { pid: v.pid, address: v.address }]));
  writeFileSync(state, JSON.stringify(s, null, 2));
  printSettings(s);
}

async function down(quiet = false): Promise<void> {
  if (!existsSync(state)) {
    if (!quiet) console.log('No services recorded as running.');
    return;
  }
  const s = readState();
  for (const name of Object.keys(s) as Service[]) {
    const pid = s[name]!.pid;
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (!quiet) console.log(`Stopped ${name} (pid ${pid}).`);
  }
  rmSync(state, { force: true });
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
        ? down()
        : Promise.reject(new Error('usage: services-cli up|down [redis] [hazelcast]'));
run.catch((err: unknown) => {
  console.error(`services ${cmd ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
