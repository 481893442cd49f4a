import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually, killChildren, spawnRoles, testEnv } from './helpers.js';

afterEach(killChildren);

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

async function status(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['dist/cli.js', 'status'], {
    env: { ...process.env, ...env, LOG_PRETTY: '0' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return stdout;
}

describe('the terminal log, as `npm run demo` shows it', () => {
  it('pretty mode: one line per log record, at most one per scan and one per check; the board address comes back in a summary and in `status`', async () => {
    const env = testEnv({
      LOG_PRETTY: '1',
      HEALTH_INTERVAL_MS: '1000',
      BOARD_PORT: '0',
      LOG_SUMMARY_INTERVAL_MS: '1500',
      DATA_WARNING_S: '120',
      DATA_STALE_S: '240',
    });
    const system = spawnRoles(['all'], { ...env, CHILD_LOG_LEVEL: 'info' }, ['--with-demo-scanner']);
    const out = () => plain(system.output());
    await eventually(
      'scans #1 to #3 pushed, and two summaries',
      () => {
        const o = out();
        return /pushed scan #3\b/.test(o) && (o.match(/board at http/g) ?? []).length >= 2 ? true : undefined;
      },
      40_000,
    );
    const lines = out()
      .split('\n')
      .filter((l) => l !== '');

    // Every record is one line: nothing indented below it (no expanded objects).
    expect(lines.filter((l) => /^\s/.test(l))).toEqual([]);
    // A scan is told once, by the bridge that pushed it (checks, summaries and the scanner's start line aside).
    for (const n of [1, 2, 3]) {
      const told = lines.filter((l) => new RegExp(`scan #${n}\\b`).test(l) && !/health|summary|starting at scan/.test(l));
      expect(told, `scan #${n}`).toEqual([expect.stringMatching(new RegExp(`pushed scan #${n} `))]);
    }
    // One line per health check.
    const checks = lines.filter((l) => /\bhealth (healthy|warning|stale|down|error)\b/.test(l));
    expect(checks.length).toBeGreaterThanOrEqual(2);
    // And nothing else at info while it runs: a second line for each scan or check (a job
    // started, a scan written by the demo scanner, a value set) would be one of these.
    const known = [
      /\bhealth (healthy|warning|stale|down|error)\b/,
      /: pushed scan #\d+ /,
      /: summary: /,
      /: board listening on /,
      /: no bridge job waiting or running: added one$/,
      /: bridge worker \d+ ready /,
      /: connected to Hazelcast$/,
      /: watching \S+ as bridge /,
      /: job workers ready: /,
      /: scheduler: health-check every /,
      /: scan-bridge running: /,
      /: demo scanner starting at scan #1: /,
      /: decoder threads ready in /,
    ];
    expect(lines.filter((l) => / INFO /.test(l) && !known.some((k) => k.test(l)))).toEqual([]);

    // The summary names the board and the status page, and `status` shows them too.
    const summary = lines.filter((l) => /summary:/.test(l) && /board at http/.test(l)).pop()!;
    const board = /board at (http:\/\/127\.0\.0\.1:\d+\/board\/)/.exec(summary)![1]!;
    expect(summary).toContain(board.replace(/board\/$/, 'status'));
    expect(await status(env)).toMatch(new RegExp(`^Board\\n  ${board.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `, 'm'));
  });
});
