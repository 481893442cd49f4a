/**
 * The faults the chaos runs inject (chaos.ts, soak.ts), how one is measured, and which scans never
 * reached history.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { say, until, type World } from './chaos-world.js';

interface Applied {
  note: string;
  endsAt?: Promise<void>;
  repair?: () => Promise<string>;
}

export interface Fault {
  name: string;
  redis?: boolean;
  /**
   * Applies the fault. Returns a note; for a pause, when it ends; for a killed server, how to put
   * it back as an operator would, after the fault was measured.
   */
  apply(w: World): Applied | Promise<Applied>;
}

export interface FaultTiming {
  /** How long a fault may take to recover before it counts as not recovered. */
  windowMs: number;
  /** Quiet time after a fault, before its repair, so each one starts from a steady system. */
  settleMs: number;
  /** How long the active bridge stays stopped (SIGSTOP). */
  stopMs: number;
}

function activeBridge(w: World) {
  const l = w.observer.recent(1000);
  if (!l) throw new Error('no bridge is pushing');
  const role = w.roles.byPid(Number(l.bridgeId.split(':').pop()));
  if (!role) throw new Error(`active bridge ${l.bridgeId} is not one of ours`);
  return role;
}

/** Every fault, in the order the chaos run applies them. */
export function chaosFaults(t: FaultTiming): Fault[] {
  return [
    {
      name: 'redis_master_sigkill',
      redis: true,
      async apply(w) {
        const port = await w.redis.masterPort();
        await w.redis.nodes.get(port)!.kill();
        const repair = async () => {
          const to = await w.redis.waitForFailover(port, t.windowMs);
          await w.redis.restartNode(port, 'replica');
          return `sentinels promoted :${to}; the old master :${port} was started again as its replica`;
        };
        return { note: `master :${port} killed`, repair };
      },
    },
    {
      name: 'hazelcast_member_sigkill',
      async apply(w) {
        const ps = w.hz.client.getPartitionService();
        const owner = ps.getPartitionOwner(ps.getPartitionId(w.config.hzKey)).toString();
        const port = w.hz.client
          .getCluster()
          .getMembers()
          .find((m) => m.uuid.toString() === owner)?.address.port;
        const i = Math.max(
          0,
          w.hazelcast.members.findIndex((m) => m.port === port),
        );
        await w.hazelcast.members[i]!.kill();
        const repair = async () => {
          await w.hazelcast.restart(i);
          return `member :${w.hazelcast.members[i]!.port} started again and rejoined`;
        };
        return { note: `member :${w.hazelcast.members[i]!.port} killed (owner of latest_eigen_scan's partition: ${port !== undefined})`, repair };
      },
    },
    {
      name: 'active_bridge_sigkill',
      apply(w) {
        const role = activeBridge(w);
        const pid = role.proc.pid;
        const again = w.roles.crashAndRespawn(role);
        return { note: `${role.name} (pid ${pid}) killed; started again as pid ${again.proc.pid}` };
      },
    },
    {
      name: 'active_bridge_sigstop',
      apply(w) {
        const role = activeBridge(w);
        role.proc.kill('SIGSTOP');
        const endsAt = new Promise<void>((ok) =>
          setTimeout(() => {
            role.proc.kill('SIGCONT');
            ok();
          }, t.stopMs),
        );
        return { note: `${role.name} (pid ${role.proc.pid}) stopped for ${t.stopMs / 1000} s, then continued`, endsAt };
      },
    },
    {
      name: 'redis_restarted_empty',
      redis: true,
      async apply(w) {
        const port = await w.redis.masterPort();
        await w.redis.nodes.get(port)!.kill();
        await w.redis.restartNode(port, 'master');
        return { note: `master :${port} killed and started again at once without data (its replica resyncs to empty)` };
      },
    },
    {
      name: 'scan_folder_removed',
      apply(w) {
        rmSync(w.config.arrowDir, { recursive: true, force: true });
        mkdirSync(w.config.arrowDir);
        return { note: 'ARROW_DIR removed with every scan in it, and created again empty' };
      },
    },
  ];
}

/**
 * Applies one fault and measures it: time until scans flow again, the longest stall of
 * latest_eigen_scan, time until a health check runs again (and is healthy again). Then repairs
 * what the fault broke and waits for a healthy check.
 */
export async function measure(w: World, f: Fault, t: FaultTiming) {
  const firstAfter = w.scanner.last + 1;
  const t0 = Date.now();
  const { note, endsAt, repair } = await f.apply(w);
  // Removing a folder of thousands of files takes this process a while: the bridge sees the fault only after.
  const appliedMs = Date.now() - t0;
  say(`${f.name}: ${note}`);
  const flowed = await until(() => w.observer.latest.find((e) => e.at >= t0 && e.scan >= firstAfter), t.windowMs);
  const checked = await until(() => w.observer.health.find((h) => h.checkedAt > t0), t.windowMs);
  const healthy = await until(() => w.observer.health.find((h) => h.checkedAt > t0 && h.status === 'healthy'), t.windowMs);
  await endsAt;
  await new Promise((r) => setTimeout(r, t.settleMs));
  const end = Date.now();
  const repaired = repair ? await repair() : undefined;
  if (repaired) say(`${f.name}: ${repaired}`);
  // The longest time latest_eigen_scan stood still in the fault's window.
  const pushes = w.observer.latest.filter((e) => e.at >= t0 && e.at <= end).map((e) => e.at);
  const lastBefore = w.observer.latest.filter((e) => e.at < t0).at(-1);
  const before = lastBefore?.at ?? t0;
  let stall = 0;
  [before, ...pushes, end].reduce((a, b) => ((stall = Math.max(stall, b - a)), b));
  const result = {
    fault: f.name,
    note,
    repaired: repaired ?? null,
    at: new Date(t0).toISOString(),
    loadavg: loadavg(),
    applied_ms: appliedMs,
    flow_again_ms: flowed ? flowed.at - t0 : null,
    longest_stall_ms: stall,
    check_again_ms: checked ? checked.at - t0 : null,
    check_again_status: checked?.status ?? null,
    // Why, when it is not healthy: the check's cause and message.
    ...(checked && checked.status !== 'healthy' ? { check_again_cause: checked.cause ?? null, check_again_message: checked.message ?? null } : {}),
    healthy_again_ms: healthy ? healthy.at - t0 : null,
    // The bridge that pushed last before the fault, then those that pushed in its window, in turn.
    bridges: pushers([...(lastBefore ? [lastBefore.bridgeId] : []), ...w.observer.latest.filter((e) => e.at >= t0 && e.at <= end).map((e) => e.bridgeId)]),
    scans: { from: firstAfter, to: w.scanner.last },
  };
  say(`${f.name}: ${JSON.stringify(result)}`);
  // Steady again before the next fault: a healthy check after the repair.
  const repairedAt = Date.now();
  await until(() => w.observer.health.find((h) => h.checkedAt > repairedAt && h.status === 'healthy'), t.windowMs);
  return { ...result, t0 };
}

/** `a, a, b, a` → `[a, b, a]`. */
function pushers(ids: string[]): string[] {
  return ids.filter((id, i) => i === 0 || ids[i - 1] !== id);
}

/** Of the scans `numbers`, those the history map does not hold. */
export async function missingFromHistory(w: World, numbers: number[]): Promise<number[]> {
  const history = await w.hz.client.getMap<string, string>(w.config.hzHistoryMap);
  const missing: number[] = [];
  for (let i = 0; i < numbers.length; i += 1000) {
    const chunk = numbers.slice(i, i + 1000);
    const got = await history.getAll(chunk.map((n) => String(n).padStart(6, '0')));
    const have = new Set(got.map(([k]) => Number(k)));
    missing.push(...chunk.filter((n) => !have.has(n)));
  }
  return missing;
}
