/**
 * The log of a process whose Redis and Hazelcast both go away and come back: one line when each
 * becomes unreachable, a reminder every OUTAGE_REMINDER_MS while it stays so, one line when it is
 * back with how long it was gone, in whole milliseconds; nothing else at warn about it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startHazelcast, startRedis, type Started } from '../scripts/servers/services.js';
import { eventually, killChildren, spawnRoles, testEnv, writeScanFile } from './helpers.js';

let redis: Started | undefined;
let member: Started | undefined;
afterAll(async () => {
  await killChildren();
  await Promise.all([redis?.stop(), member?.stop()]);
});

interface Line {
  level: number;
  time: number;
  msg: string;
  server?: string;
  event?: string;
  downMs?: number;
}

const WARN = 40;

/** The most frequent warn-or-above messages (numbers blanked), for a failure message. */
function warnSummary(lines: Line[]): string {
  const counts = new Map<string, number>();
  for (const l of lines.filter((x) => x.level >= WARN)) {
    const key = l.msg.replace(/\d+(\.\d+)?/g, 'N').slice(0, 160);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return JSON.stringify([...counts].sort((a, b) => b[1] - a[1]).slice(0, 12));
}
const REMINDER_MS = 4000;

describe('logs while Redis and Hazelcast are down', () => {
  it('one line each when they go, a reminder per OUTAGE_REMINDER_MS, one line each when they are back with the time gone', async () => {
    [redis, member] = await Promise.all([startRedis(), startHazelcast()]);
    const env = testEnv({ REDIS_URL: redis.address, HZ_MEMBERS: member.address, BOARD_PORT: '0', OUTAGE_REMINDER_MS: String(REMINDER_MS) });
    writeScanFile(env.ARROW_DIR!, 1);
    const system = spawnRoles(['all'], env);
    const lines = () =>
      system
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
    await eventually(
      'scan #1 pushed and a check run',
      () => (lines().some((l) => /pushed scan #1\b/.test(l.msg)) && lines().some((l) => /^health /.test(l.msg)) ? true : undefined),
      60_000,
    );

    const downAt = Date.now();
    await Promise.all([redis.kill(), member.kill()]);
    // A window of three reminders.
    await new Promise((r) => setTimeout(r, REMINDER_MS * 3 + 1000));
    const upAt = Date.now();
    [redis, member] = await Promise.all([startRedis({ port: redis.port }), startHazelcast({ port: member.port })]);
    await eventually(
      'both back in the log',
      () => (['redis', 'hazelcast'].every((s) => lines().some((l) => l.server === s && l.event === 'reachable')) ? true : undefined),
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; warn lines since the outage, by message: ${warnSummary(lines().filter((l) => l.time >= downAt))}`);
    });
    const during = lines().filter((l) => l.time >= downAt);

    for (const server of ['redis', 'hazelcast']) {
      const mine = during.filter((l) => l.server === server);
      expect(
        mine.filter((l) => l.event === 'unreachable'),
        server,
      ).toHaveLength(1);
      const reminders = mine.filter((l) => l.event === 'still_unreachable');
      expect(reminders.length, server).toBeGreaterThanOrEqual(2);
      expect(reminders.length, server).toBeLessThanOrEqual(Math.ceil((Date.now() - downAt) / REMINDER_MS));
      const back = mine.filter((l) => l.event === 'reachable');
      expect(back, server).toHaveLength(1);
      expect(Number.isInteger(back[0]!.downMs), server).toBe(true);
      expect(back[0]!.downMs!, server).toBeGreaterThanOrEqual(upAt - downAt - 2000);
      expect(back[0]!.msg, server).toMatch(new RegExp(`^${server === 'redis' ? 'Redis' : 'Hazelcast'} reachable again after \\d+ ms`));
    }
    // Besides, at warn or above: the health checks' own verdicts (one per check), and a few lines
    // each said once, about what was done (the bridge writing on past its lock's lease, Redis
    // found empty when it came back); no line per attempt, per connection or per client.
    // While both are down: after they are back, the bridge lock may lapse once more while Redis
    // finds its feet (a second episode, said again, with a recovery line between).
    const others = during.filter((l) => l.time < upAt && l.level >= WARN && l.event === undefined && !/^health /.test(l.msg)).map((l) => l.msg);
    expect(
      others.filter((m, i) => others.indexOf(m) !== i),
      others.join('\n'),
    ).toEqual([]);
    expect(others.length, others.join('\n')).toBeLessThanOrEqual(3);
    // Whole milliseconds everywhere: no "retry in 2109.245200502338 ms".
    expect(during.filter((l) => /\d+\.\d{4,} ?ms/.test(l.msg)).map((l) => l.msg)).toEqual([]);
    expect(system.proc.exitCode).toBeNull();
  }, 180_000);
});
