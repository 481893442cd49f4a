/**
 * `scan-bridge status [--json]`: what runs, what is dead and what is overdue, like `systemctl
 * status`; exit 0 nothing wrong, 1 a warning, 2 unhealthy (status-verdict.ts decides).
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { createHazelcast } from '../connections.js';
import { collectStatus, type SystemStatus } from '../ops.js';
import { describeSkew } from '../bridge/guards/clock-skew.js';
import { exitCodeForProblems, findProblems, overdueSince, probeBoard, type Problem, type Probes } from '../status-verdict.js';
import { clientLog, withQueues } from './commands.js';

type Ctx = { config: Config; log: Logger; values: Record<string, unknown> };

/** A quarantine longer than this is a count and its newest entries. */
const QUARANTINE_LISTED = 20;
const QUARANTINE_NEWEST = 5;

const ago = (ms: number | null | undefined) => (ms ? `${((Date.now() - ms) / 1000).toFixed(1)} s ago` : 'never');

function printVerdict(problems: Problem[]): void {
  const code = exitCodeForProblems(problems);
  console.log(code === 0 ? 'OK: nothing wrong found' : `${code === 2 ? 'UNHEALTHY' : 'WARNING'}: ${problems.length} problem${problems.length > 1 ? 's' : ''}`);
  for (const p of problems) console.log(`  ${p.part}: ${p.message}`);
}

function printBridge(s: SystemStatus): void {
  const hb = s.bridge.heartbeat;
  const st = s.bridge.stats;
  console.log('Bridge');
  if (hb)
    console.log(
      `  ${s.queues.bridge.workers === 0 ? 'last heartbeat (no bridge worker connected)' : 'active'}: ${hb.id} on ${hb.host}, generation ${hb.generation}, up ${((s.at - hb.startedAt) / 1000).toFixed(0)} s, last beat ${ago(hb.beatAt)}`,
    );
  else console.log('  active: none (no live heartbeat)');
  if (st)
    console.log(
      `  pushed ${st.pushed}, last #${st.lastPushedScan ?? '–'} ${ago(st.lastPushedAt)}, newest on disk #${st.newestSeenOnDisk ?? '–'}, rejected ${st.rejected}, out of order ${st.olderSkipped}, refused for clock skew ${st.clockSkewRefused ?? 0}`,
    );
  // Stats of a bridge from before watch modes carry none.
  if (st?.watchMode) console.log(`  watch mode: ${st.watchMode.mode} (${st.watchMode.reason})`);
  if (st?.lastClockSkew)
    console.log(
      `  last clock skew: ${st.lastClockSkew.relPath} (scan #${st.lastClockSkew.scanNumber}) ${describeSkew(st.lastClockSkew)}, ${ago(st.lastClockSkew.at)}`,
    );
  // Stats of older bridges carry neither.
  if (st?.lastStampedBeforeWrite) {
    const b = st.lastStampedBeforeWrite;
    console.log(`  last scan stamped before its file was written: ${b.relPath} (scan #${b.scanNumber}), ${b.skewS} s before, delivered ${ago(b.at)}`);
  }
  const bad = st?.badFiles?.[0];
  if (bad) console.log(`  newest file not delivered: ${bad.relPath} (${bad.kind}: ${bad.reason}), ${ago(bad.at)}`);
  console.log(`  restarts ${s.bridge.restarts}${s.bridge.lastRestart ? `, last restart ${s.bridge.lastRestart.state} ${ago(s.bridge.lastRestart.at)}` : ''}`);
}

function printQuarantine(s: SystemStatus): void {
  const q = s.quarantine;
  console.log(`Quarantine (${q.length})`);
  if (q.length === 0) console.log('  none');
  // Oldest first as read; a flood of thousands is a count and the newest few.
  const shown = q.length > QUARANTINE_LISTED ? q.slice(-QUARANTINE_NEWEST).reverse() : q;
  for (const e of shown) console.log(`  ${e.relPath}: ${e.reason} (${ago(e.at)})`);
  if (shown.length < q.length) console.log(`  … and ${q.length - shown.length} older: \`scan-bridge quarantine list\` shows them all`);
}

function printStatus(s: SystemStatus, probes: Probes, problems: Problem[]): void {
  printVerdict(problems);
  printBridge(s);
  console.log('Latest scan');
  if (!s.latestScan) console.log('  none in Hazelcast');
  else if ('error' in s.latestScan) console.log(`  Hazelcast unreachable: ${s.latestScan.error}`);
  else if ('unusable' in s.latestScan) console.log(`  no usable scan in Hazelcast: ${s.latestScan.unusable}`);
  else
    console.log(
      `  #${s.latestScan.scanNumber} at ${s.latestScan.timestamp} (${s.latestScan.ageS} s old), ${s.latestScan.assetCount} assets, by ${s.latestScan.bridgeId ?? '?'}`,
    );
  console.log('Board');
  const probed = probes.board === 'refused' ? ': refuses connections' : probes.board === 'no answer' ? ': does not answer' : '';
  console.log(
    s.board
      ? `  ${s.board.board} (status page ${s.board.statusPage}), served by ${s.board.host} pid ${s.board.pid}${probed}`
      : '  none announced: no board role is running',
  );
  console.log('Last health check');
  console.log(s.health ? `  ${s.health.status}: ${s.health.message} (${ago(s.health.checkedAt)})` : '  none yet');
  printQuarantine(s);
  console.log('Schedules');
  if (s.schedules.length === 0) console.log('  none: run `scan-bridge create` or start a scheduler');
  for (const sc of s.schedules) {
    const due = overdueSince(s, sc);
    const late = due === null ? '' : ` (overdue by ${Math.round((s.at - due) / 1000)} s)`;
    console.log(`  ${sc.id}: every ${sc.every ?? '?'} ms, next ${sc.next ? new Date(sc.next).toISOString() : '–'}${late}`);
  }
  console.log('Queues');
  for (const [name, q] of Object.entries(s.queues)) {
    console.log(
      `  ${name}: ${q.workers} workers; ${Object.entries(q.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    );
  }
}

export async function statusCommand({ config, log, values }: Ctx): Promise<number> {
  const hz = await createHazelcast(config, clientLog(log), { kind: 'service' });
  try {
    await hz.waitConnected(3000);
    const status = await withQueues(config, log, (q, redis) => collectStatus(config, redis, q, hz));
    const probes: Probes = { board: status.board ? await probeBoard(status.board) : null };
    const problems = findProblems(status, probes);
    if (values.json) console.log(JSON.stringify({ ...status, problems }, null, 2));
    else printStatus(status, probes, problems);
    return exitCodeForProblems(problems);
  } finally {
    await hz.shutdown();
  }
}
