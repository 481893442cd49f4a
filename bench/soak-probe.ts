/**
 * What the soak (soak.ts) reads from outside the processes, with no hook in scan-bridge:
 *  - resident memory (`VmRSS` of /proc/<pid>/status) and open descriptors (/proc/<pid>/fd);
 *  - the V8 heap of a scan-bridge role: its Node.js diagnostic report, asked for with SIGUSR2
 *    (the role runs with `--report-on-signal`, set in NODE_OPTIONS by the soak). The report's
 *    `javascriptHeap.usedMemory`, main thread plus each worker thread;
 *  - Redis: `used_memory` and the key count; at the end, the size of every capped structure;
 *  - Hazelcast: the size of every map.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Config } from '../src/config.js';
import type { Hazelcast, RedisConnection } from '../src/connections.js';
import { JOBS, JOB_NAMES } from '../src/jobs/table.js';
import { keys } from '../src/keys.js';
import { withTimeout } from '../src/time.js';
import type { CappedClass } from './soak-judge.js';
import { procSample } from './bridge/proc.js';

const MB = 2 ** 20;

/** Resident memory (MB) and open descriptors of a process; null once it is gone. */
export function procFigures(pid: number): { rssMb: number; fds: number } | null {
  try {
    return { rssMb: procSample(pid).rssMb, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/** The flags that make a Node.js process write its diagnostic report to `dir` on SIGUSR2. */
export function reportOnSignal(dir: string): string {
  return `--report-on-signal --report-signal=SIGUSR2 --report-directory=${dir} --report-compact`;
}

interface Report {
  javascriptHeap: { usedMemory: number };
  workers?: Array<{ javascriptHeap?: { usedMemory: number } }>;
}

/**
 * The used V8 heap (MB, all threads) of each process, from the report SIGUSR2 makes it write into
 * `dir`. Only for processes started with {@link reportOnSignal} that have finished starting: before
 * Node installs the handler, SIGUSR2 ends a process.
 */
export async function heapsMb(pids: number[], dir: string, timeoutMs = 3000): Promise<Map<number, number>> {
  const heaps = new Map<number, number>();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGUSR2');
    } catch {
      // Gone since it was listed.
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (heaps.size < pids.length && Date.now() < deadline) {
    for (const f of readdirSync(dir)) {
      const pid = Number(/^report\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]);
      if (!pids.includes(pid) || heaps.has(pid)) continue;
      try {
        const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Report;
        const used = r.javascriptHeap.usedMemory + (r.workers ?? []).reduce((a, w) => a + (w.javascriptHeap?.usedMemory ?? 0), 0);
        heaps.set(pid, used / MB);
        rmSync(join(dir, f), { force: true });
      } catch {
        // Still being written: read it on the next pass.
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return heaps;
}

/** `used_memory` and the key count of the master; null while Redis does not answer. */
export async function redisFigures(redis: RedisConnection): Promise<{ usedMemory: number; keys: number } | null> {
  try {
    const [info, n] = await withTimeout(Promise.all([redis.info('memory'), redis.dbsize()]), 3000, 'redis');
    return { usedMemory: Number(/used_memory:(\d+)/.exec(info)?.[1]), keys: n };
  } catch {
    return null;
  }
}

/** The size of every map; an empty object while Hazelcast does not answer. */
export async function mapSizes(hz: Hazelcast): Promise<Record<string, number>> {
  try {
    return await withTimeout(
      (async () => {
        const objects = await hz.client.getDistributedObjects();
        const maps = objects.filter((o) => o.getServiceName() === 'hz:impl:mapService').map((o) => o.getName());
        const sizes = await Promise.all(maps.map(async (m) => [m, await (await hz.client.getMap(m)).size()] as const));
        return Object.fromEntries(sizes);
      })(),
      3000,
      'hazelcast',
    );
  } catch {
    return {};
  }
}

/** BullMQ trims each queue's event stream to about this many entries (its default `streams.events.maxLen`). */
const EVENTS_MAX_LEN = 10_000;
/** Jobs beside the kept ones: one running and the next waiting (a schedule's next run is delayed). */
const IN_FLIGHT = 2;

type Sized = CappedClass & { keysPerEntry: number };

async function bytes(redis: RedisConnection, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

/**
 * Every structure of Redis that a cap bounds, with its entries and bytes now: per queue, the
 * kept jobs (hash and log list, whose lines `keepLogs` caps), the completed and failed sets and
 * the event stream; the health history and timeline.
 */
export async function cappedClasses(redis: RedisConnection, config: Config): Promise<Sized[]> {
  const classes: Sized[] = [];
  for (const name of JOB_NAMES) {
    const spec = JOBS[name];
    const o = spec.options(config) as { removeOnComplete: { count: number }; removeOnFail: { count: number }; keepLogs: number };
    const kept = o.removeOnComplete.count + o.removeOnFail.count;
    const q = new Queue(spec.queue, { connection: redis, prefix: config.queuePrefix });
    try {
      const jobs = await q.getJobs(['completed', 'failed', 'active', 'wait', 'delayed', 'prioritized'], 0, -1);
      let total = 0;
      let maxHash = 0;
      let maxLine = 0;
      for (const j of jobs) {
        const key = q.toKey(j.id!);
        const [h, l, n] = await Promise.all([bytes(redis, key), bytes(redis, `${key}:logs`), redis.llen(`${key}:logs`)]);
        total += h + l;
        maxHash = Math.max(maxHash, h);
        if (n > 0) maxLine = Math.max(maxLine, l / n);
      }
      const cap = kept + IN_FLIGHT;
      classes.push({
        name: `${spec.queue}: jobs`,
        capBy: `removeOnComplete.count ${o.removeOnComplete.count} + removeOnFail.count ${o.removeOnFail.count} + ${IN_FLIGHT} in flight; each with up to keepLogs ${o.keepLogs} log lines`,
        entries: jobs.length,
        cap,
        bytes: total,
        perEntryBytes: maxHash + o.keepLogs * maxLine,
        keysPerEntry: 2,
      });
      const [completed, failed] = [q.toKey('completed'), q.toKey('failed')];
      const setEntries = (await redis.zcard(completed)) + (await redis.zcard(failed));
      const setBytes = (await bytes(redis, completed)) + (await bytes(redis, failed));
      classes.push({
        name: `${spec.queue}: completed and failed sets`,
        capBy: 'the same counts',
        entries: setEntries,
        cap: kept,
        bytes: setBytes,
        perEntryBytes: perEntry(setBytes, setEntries),
        keysPerEntry: 0,
      });
      const events = q.toKey('events');
      const n = await redis.xlen(events);
      const b = await bytes(redis, events);
      classes.push({
        name: `${spec.queue}: events stream`,
        capBy: `BullMQ's streams.events.maxLen ${EVENTS_MAX_LEN}`,
        entries: n,
        cap: EVENTS_MAX_LEN,
        bytes: b,
        perEntryBytes: perEntry(b, n),
        keysPerEntry: 0,
      });
    } finally {
      await q.close();
    }
  }
  const k = keys(config.queuePrefix);
  const [hn, hb, tn, tb] = [
    await redis.llen(k.healthHistory),
    await bytes(redis, k.healthHistory),
    await redis.zcard(k.healthTimeline),
    await bytes(redis, k.healthTimeline),
  ];
  classes.push({
    name: 'health history',
    capBy: `HEALTH_HISTORY_MAX ${config.healthHistoryMax}`,
    entries: hn,
    cap: config.healthHistoryMax,
    bytes: hb,
    perEntryBytes: perEntry(hb, hn),
    keysPerEntry: 0,
  });
  classes.push({
    name: 'health timeline',
    capBy: `HEALTH_TIMELINE_MAX ${config.healthTimelineMax}, and 7 days (20,160 checks at one per 30 s)`,
    entries: tn,
    cap: config.healthTimelineMax,
    bytes: tb,
    perEntryBytes: perEntry(tb, tn),
    keysPerEntry: 0,
  });
  return classes;
}

const perEntry = (b: number, n: number) => (n > 0 ? b / n : 0);
