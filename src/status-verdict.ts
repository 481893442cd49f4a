/**
 * What `scan-bridge status` finds wrong, like `systemctl status`: a pure decision from what Redis
 * and Hazelcast hold and what this machine could probe, with the exit code of DESIGN.md (0
 * nothing wrong, 1 a warning, 2 unhealthy). The probes that need I/O are at the end.
 */
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { SystemStatus } from './ops.js';

export type ProblemPart = 'bridge' | 'workers' | 'checks' | 'board' | 'hazelcast';

export interface Problem {
  severity: 'warning' | 'unhealthy';
  part: ProblemPart;
  message: string;
}

/** What the announced board did when probed; `null`: not probed from this machine. */
export type BoardProbe = 'listening' | 'refused' | 'no answer' | null;

export interface Probes {
  board: BoardProbe;
}

/** A check is overdue once its time passed by one interval, and at least this. */
const OVERDUE_GRACE_MIN_MS = 5000;

const secondsAgo = (at: number, ms: number) => Math.max(0, Math.round((at - ms) / 1000));

/** When a scheduled check is overdue, the time it was due; else null. */
export function overdueSince(s: SystemStatus, schedule: SystemStatus['schedules'][number]): number | null {
  if (schedule.next === null) return null;
  const grace = Math.max(OVERDUE_GRACE_MIN_MS, schedule.every ?? 0);
  return s.at - schedule.next > grace ? schedule.next : null;
}

function bridgeProblems(s: SystemStatus): Problem[] {
  const hb = s.bridge.heartbeat;
  const workers = s.queues.bridge.workers;
  if (!hb)
    return [
      {
        severity: 'unhealthy',
        part: 'bridge',
        message: `no bridge runs: no live heartbeat${workers === 0 ? ', and no bridge worker is connected to take the bridge' : ''}`,
      },
    ];
  // The bridge runs inside a bridge worker, whose connection Redis closed when its process died.
  if (workers === 0)
    return [
      {
        severity: 'unhealthy',
        part: 'bridge',
        message: `bridge ${hb.id} no longer runs: no bridge worker is connected (its last heartbeat, ${secondsAgo(s.at, hb.beatAt)} s ago, expires by itself)`,
      },
    ];
  return [];
}

function workerProblems(s: SystemStatus): Problem[] {
  const checks = s.queues['health-check'].workers;
  const restarts = s.queues['restart-bridge'].workers;
  if (checks === 0 && restarts === 0)
    return [
      {
        // Without a schedule nobody set up supervision; with one, the workers that ran it are gone.
        severity: s.schedules.length > 0 ? 'unhealthy' : 'warning',
        part: 'workers',
        message: 'no job worker is connected: health checks and restarts do not run (`scan-bridge start --role worker`)',
      },
    ];
  const out: Problem[] = [];
  if (checks === 0) out.push({ severity: 'unhealthy', part: 'workers', message: 'no worker runs health checks (queue health-check)' });
  if (restarts === 0) out.push({ severity: 'warning', part: 'workers', message: 'no worker runs restarts (queue restart-bridge)' });
  return out;
}

function checkProblems(s: SystemStatus): Problem[] {
  const out: Problem[] = [];
  if (s.schedules.length === 0)
    out.push({
      severity: 'warning',
      part: 'checks',
      message: 'no health-check schedule: nothing checks the bridge (`scan-bridge create`, or start a scheduler)',
    });
  for (const sc of s.schedules) {
    const due = overdueSince(s, sc);
    if (due !== null)
      out.push({
        severity: 'unhealthy',
        part: 'checks',
        message: `health check overdue: due at ${new Date(due).toISOString()} (${secondsAgo(s.at, due)} s ago)`,
      });
  }
  const h = s.health;
  if (h && h.status !== 'healthy')
    out.push({
      severity: h.status === 'warning' ? 'warning' : 'unhealthy',
      part: 'checks',
      message: `the last check (${secondsAgo(s.at, h.checkedAt)} s ago) found ${h.status}${'cause' in h ? ` (${h.cause})` : ''}: ${h.message}`,
    });
  return out;
}

/** Everything wrong, the worst first. */
export function findProblems(s: SystemStatus, probes: Probes): Problem[] {
  const out = [...bridgeProblems(s), ...workerProblems(s), ...checkProblems(s)];
  if (s.board && (probes.board === 'refused' || probes.board === 'no answer'))
    out.push({
      severity: 'warning',
      part: 'board',
      message: `board ${s.board.board} (pid ${s.board.pid} on ${s.board.host}) ${
        probes.board === 'refused' ? 'refuses connections: no process listens there, and its announcement expires by itself' : 'does not answer'
      }`,
    });
  if (s.latestScan && 'error' in s.latestScan) out.push({ severity: 'unhealthy', part: 'hazelcast', message: 'Hazelcast is unreachable' });
  return out.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'unhealthy' ? -1 : 1));
}

export function exitCodeForProblems(problems: Problem[]): 0 | 1 | 2 {
  if (problems.some((p) => p.severity === 'unhealthy')) return 2;
  return problems.length > 0 ? 1 : 0;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/**
 * Whether the announced board accepts a connection within `timeoutMs`. A loopback address is
 * probed only on the host that announced it: from anywhere else it names another machine.
 */
export async function probeBoard(board: NonNullable<SystemStatus['board']>, timeoutMs = 2000): Promise<BoardProbe> {
  const url = new URL(board.board);
  if (LOOPBACK.test(url.hostname) && board.host !== hostname()) return null;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((ok) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (result: BoardProbe) => {
      socket.destroy();
      ok(result);
    };
    socket.setTimeout(timeoutMs, () => done('no answer'));
    socket.once('connect', () => done('listening'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'no answer'));
  });
}
