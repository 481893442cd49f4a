/**
 * What Bull Board shows of each job without opening it: the job's name line carries the check's
 * status and data age, and the bridge's live stats. Pure functions of the job's JSON, given to
 * Bull Board's formatters.
 */
import type { HealthResult, HealthStatus } from '../health.js';
import type { BridgeJobData, BridgeLiveStats } from '../jobs/bridge-job.js';

/** The part of a job's JSON that Bull Board hands to a name formatter. */
export interface JobView {
  name?: string;
  data?: unknown;
  progress?: unknown;
  returnvalue?: unknown;
  failedReason?: string;
  finishedOn?: number;
}

/** Healthy reads quietly; every other status shouts, with a mark that is not colour alone. */
const MARK: Record<HealthStatus, string> = { healthy: '✓ healthy', warning: '▲ WARNING', stale: '✖ STALE', down: '✖ DOWN', error: '✖ ERROR' };

function isHealthResult(v: unknown): v is HealthResult {
  return typeof v === 'object' && v !== null && typeof (v as { status?: unknown }).status === 'string' && (v as { status: string }).status in MARK;
}

function ageText(ageS: number | null): string {
  return ageS === null ? 'data age unknown' : `data ${ageS.toFixed(1)} s old`;
}

/** `✓ healthy · data 1.2 s old · scan #3`, `✖ STALE (bridge_behind) · data 95.0 s old · scan #3 · restart queued`. */
export function healthCheckName(job: JobView): string {
  const r = job.returnvalue;
  if (!isHealthResult(r)) {
    const trigger = (job.data as { trigger?: unknown } | undefined)?.trigger;
    const by = typeof trigger === 'string' ? ` (${trigger})` : '';
    return job.failedReason ? `✖ health-check${by} failed: ${job.failedReason}` : `health-check${by}: no result yet`;
  }
  const parts = [MARK[r.status] + ('cause' in r ? ` (${r.cause})` : ''), ageText(r.dataAgeS)];
  if (r.scanNumber !== null) parts.push(`scan #${r.scanNumber}`);
  if (r.action === 'restart') {
    const done = r as { restartJobId?: string; restartReused?: boolean };
    parts.push(done.restartJobId ? (done.restartReused ? 'restart already pending' : 'restart queued') : 'restart wanted');
  }
  if (r.action === 'alert') parts.push('alert');
  return parts.join(' · ');
}

/** The check's result with what people read first at the top of the box: status, cause, message, age. */
export function healthCheckReturnValue(value: unknown): unknown {
  if (!isHealthResult(value)) return value;
  const { status, message, dataAgeS, ...rest } = value;
  const cause = 'cause' in value ? { cause: value.cause } : {};
  return { status, ...cause, dataAgeS, message, ...rest };
}

function liveOf(job: JobView): BridgeLiveStats | undefined {
  const live = (job.data as BridgeJobData | undefined)?.live ?? job.progress;
  return typeof live === 'object' && live !== null && typeof (live as BridgeLiveStats).pushed === 'number' ? (live as BridgeLiveStats) : undefined;
}

/**
 * `bridge · run 2 · 120 pushed, last #123 0.4 s ago · newest on disk #123` while it runs; the
 * same, marked ended, once it stopped. Counts are of this run. While the worker holding the job
 * stands by because another process holds the lease, that process is named instead.
 */
export function bridgeName(job: JobView): string {
  const held = (job.data as BridgeJobData | undefined)?.leaseHeldBy;
  if (held && !job.finishedOn) {
    return `bridge · standby pid ${held.standby.pid} on ${held.standby.host} holds the job: pid ${held.pid} on ${held.host} runs the bridge (generation ${held.generation})`;
  }
  const live = liveOf(job);
  if (live === undefined) return job.failedReason ? `bridge (ended): ${job.failedReason}` : 'bridge: no stats yet';
  const last = live.lastScan === null ? '' : `, last #${live.lastScan}${live.lagMs === null ? '' : ` ${(live.lagMs / 1000).toFixed(1)} s ago`}`;
  const parts = [
    `run ${live.generation}`,
    `${live.pushed} pushed${last}`,
    live.newestOnDisk === null ? null : `newest on disk #${live.newestOnDisk}`,
    live.rejected > 0 ? `✖ ${live.rejected} rejected` : null,
    live.hazelcastConnected ? null : '✖ Hazelcast disconnected',
  ].filter((p): p is string => p !== null);
  return `${job.finishedOn ? 'bridge (ended)' : 'bridge'} · ${parts.join(' · ')}`;
}

/** The bridge's data with its live stats first, in words where a number alone says little. */
export function bridgeData(data: unknown): unknown {
  const d = data as BridgeJobData | undefined;
  if (typeof d !== 'object' || d === null || d.live === undefined) return data;
  const { live, ...payload } = d;
  return { live: { ...live, updatedAt: new Date(live.updatedAt).toISOString() }, ...payload };
}

/** `restart-bridge · stale: bridge_behind (asked by health-check)`. */
export function restartName(job: JobView): string {
  const d = job.data as { reason?: unknown; requestedBy?: unknown } | undefined;
  const reason = typeof d?.reason === 'string' ? d.reason : '?';
  const by = typeof d?.requestedBy === 'string' ? d.requestedBy : '?';
  return `restart-bridge · ${reason} (asked by ${by})`;
}
