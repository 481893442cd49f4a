/**
 * `npm run services:up` / `services:down`: Redis and a Hazelcast member on this machine,
 * without Docker, running in the background until `down`. State lives in .cache/services.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startHazelcastCluster, startRedis } from './services.js';

const dir = join(ROOT, '.cache', 'services');
const state = join(dir, 'pids.json');

interface State {
  redis: { pid: number; url: string };
  /** `pid` alone: a state file written before clusters of several members. */
  hazelcast: { pids?: number[]; pid?: number; members: string };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function printSettings(s: State): void {
  console.log('Services are up. Use these settings (or put them in .env):');
  console.log(`  REDIS_URL=${s.redis.url}`);
  console.log(`  HZ_MEMBERS=${s.hazelcast.members}`);
  console.log('  HZ_CLUSTER_NAME=dev');
  console.log(`Logs: ${dir}/redis.log, ${dir}/hazelcast*.log. Stop them with: npm run services:down`);
}

function hzPids(s: State): number[] {
  return s.hazelcast.pids ?? (s.hazelcast.pid !== undefined ? [s.hazelcast.pid] : []);
}

async function up(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (existsSync(state)) {
    const s = JSON.parse(readFileSync(state, 'utf8')) as State;
    if (alive(s.redis.pid) && hzPids(s).every(alive)) {
      printSettings(s);
      return;
    }
    await down(true);
  }
  const redisPort = Number(process.env.SERVICES_REDIS_PORT ?? 6379);
  const hzPort = Number(process.env.SERVICES_HZ_PORT ?? 5701);
  // SERVICES_HZ_MEMBERS=N: N members in one cluster, on SERVICES_HZ_PORT and the ports after it.
  const hzCount = Number(process.env.SERVICES_HZ_MEMBERS ?? 1);
  if (!Number.isInteger(hzCount) || hzCount < 1 || hzCount > 9) throw new Error(`SERVICES_HZ_MEMBERS=${process.env.SERVICES_HZ_MEMBERS} is not valid: expected 1 to 9`);
  const hzPorts = Array.from({ length: hzCount }, (_, i) => hzPort + i);
  console.log(`Starting redis-server on 127.0.0.1:${redisPort} …`);
  const redis = await startRedis({ port: redisPort, detached: true, logFile: join(dir, 'redis.log') });
  console.log(`Starting Hazelcast ${'5.6.0'} on 127.0.0.1:${hzPorts.join(', ')} (first start fetches the jar through Maven) …`);
  let hz;
  try {
    hz = await startHazelcastCluster(hzCount, { ports: hzPorts, detached: true, logFile: (i) => join(dir, i === 0 ? 'hazelcast.log' : `hazelcast-${i + 1}.log`) });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  const s: State = { redis: { pid: redis.pid, url: redis.address }, hazelcast: { pids: hz.members.map((m) => m.pid), members: hz.address } };
  writeFileSync(state, JSON.stringify(s, null, 2));
  printSettings(s);
}

async function down(quiet = false): Promise<void> {
  if (!existsSync(state)) {
    if (!quiet) console.log('No services recorded as running.');
    return;
  }
  const s = JSON.parse(readFileSync(state, 'utf8')) as State;
  for (const [name, pid] of [['redis', s.redis.pid] as const, ...hzPids(s).map((pid) => ['hazelcast', pid] as const)]) {
    if (!alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (!quiet) console.log(`Stopped ${name} (pid ${pid}).`);
  }
  rmSync(state, { force: true });
}

const cmd = process.argv[2];
const run = cmd === 'up' ? up() : cmd === 'down' ? down() : Promise.reject(new Error('usage: services-cli up|down'));
run.catch((err: unknown) => {
  console.error(`services ${cmd ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
