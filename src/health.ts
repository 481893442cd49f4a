/**
 * The health decision of DESIGN.md § Health, as a pure function: the caller reads Hazelcast,
 * Redis and the scan folder, and passes the clock in. Nothing here does I/O.
 */
import type { BadFile } from './bridge/guards/bad-files.js';
import type { RefusedForSkew, StampedBeforeWrite } from './bridge/guards/clock-skew.js';
import type { Heartbeat } from './bridge/facts.js';
import { compareToFileName } from './bridge/guards/scan-order.js';
import { aheadOfClock } from './bridge/guards/stored-value.js';
import { withContent, type ContentWarningResult } from './content/health.js';
import { contentWarnings, type ContentSettings, type ContentWarning } from './content/rules.js';
import type { ContentWindow } from './content/window.js';

/** Mildest first; {@link severity} is the index. */
export const STATUSES = ['healthy', 'warning', 'stale', 'down', 'error'] as const;
export type HealthStatus = (typeof STATUSES)[number];
export type HealthAction = 'none' | 'restart' | 'alert';

export type WarningCause = 'starting' | 'clock_skew' | 'redis_back';
export type StaleCause = 'bridge_behind' | 'scanner_silent' | 'clock_skew' | 'unusable_value' | 'bad_newest_file';
export type DownCause = 'no_heartbeat' | 'heartbeat_expired' | 'not_watching' | 'restart_failed';
export type ErrorCause = 'hazelcast_unreachable' | 'redis_unreachable';

/** `latest_eigen_scan` as far as health needs it (scan-format.md). */
export interface LatestScan {
  scan_number: number;
  timestamp_ms: number;
  asset_count: number;
  written_at_ms?: number;
  bridge_id?: string;
}

/** The newest scan file on disk when the bridge could not deliver it (bridge/guards/bad-files.ts). */
export type BadFileOnDisk = BadFile;

/** A read that either answered (`null`: the key is absent) or could not reach its server. */
export type Read<T> = { kind: 'ok'; value: T | null } | { kind: 'unreachable'; error: string };

export interface HealthInputs {
  /** Epoch ms. */
  now: number;
  /** `startGraceS`: how long a new bridge run may catch up before old or missing data counts against it. */
  /** `maxClockSkewS`: a scan stamped further ahead is not fresh but wrong (default 300). */
  thresholds: { warningS: number; staleS: number; heartbeatTtlMs: number; startGraceS: number; maxClockSkewS?: number };
  /**
   * The Hazelcast read; `payload: null` when the key is absent; `unusable` when its value does not
   * parse as a scan (bridge/guards/stored-value.ts), `why` saying so.
   */
  latest: { kind: 'ok'; payload: LatestScan | null } | { kind: 'unusable'; why: string } | { kind: 'unreachable'; error: string };
  /** The Redis read; `value: null` when there is no heartbeat key. */
  heartbeat: Read<Heartbeat>;
  /**
   * The newest *good* scan in the scan folder (by time, then number): the newest file the bridge
   * has not found bad; `null`: unknown or none.
   */
  newestOnDisk: number | null;
  /** Whether a bridge run ever started under this prefix (its generation counter is above 0); absent: assume so. */
  bridgeEverStarted?: boolean;
  /** Epoch ms of the first health check under this prefix; absent or `null`: unknown. */
  checkingSince?: number | null;
  /**
   * Its scan time from the file name, epoch ms. With it "newer on disk" follows the scan order
   * (time, then number), so a scanner that restarted its numbering is not taken for behind;
   * without it only numbers are compared.
   */
  newestOnDiskAtMs?: number | null;
  /** The last scan the bridge refused for its time stamp (ahead of its clock), if any (from its stats). */
  clockSkew?: RefusedForSkew | null;
  /** The newest file on disk, newer than `newestOnDisk`, that the bridge could not deliver; absent or `null`: none. */
  newestBadFile?: BadFileOnDisk | null;
  /** The last scan the bridge delivered although stamped long before its file was written, if any (from its stats). */
  stampedBeforeWrite?: StampedBeforeWrite | null;
  /** The last scans' content facts (from the bridge's stats) and the content rules; absent: not judged. */
  content?: { window: ContentWindow | null; settings: ContentSettings };
  /**
   * How long ago this checker's Redis came back after an outage (reachability.ts); absent or
   * `null`: none seen. A heartbeat missing or expired within the TTL of that says nothing yet.
   */
  redisBackMs?: number | null;
  /** Restart counter; survives process restarts. */
  restarts: number;
  /** `bridgeWorkers`: those listening on the bridge queue when the restart failed. */
  lastRestart?: { state: 'failed' | 'running' | 'confirmed'; at: number; error?: string; bridgeWorkers?: number } | null;
}

export interface BridgeInfo {
  id: string;
  host: string;
  pid: number;
  generation: number;
  uptimeS: number;
}

/** Facts every result carries, whatever its status. */
export interface HealthFacts {
  /** = `now`. */
  checkedAt: number;
  /** now − `timestamp_ms`, seconds, 0.1 s; a future timestamp counts as 0; `null`: unknown. */
  dataAgeS: number | null;
  scanNumber: number | null;
  assetCount: number | null;
  newestOnDisk: number | null;
  /** The bridge the heartbeat names, even when the status says it is dead; `null`: unknown. */
  bridge: BridgeInfo | null;
  restarts: number;
  /**
   * A scan delivered although stamped more than MAX_CLOCK_SKEW_S before its file was written: a
   * fact, not a fault (a copied or restored folder). Present while it is the scan in Hazelcast
   * or was delivered within the last `staleS`.
   */
  stampedBeforeWrite?: StampedBeforeWrite;
  action: HealthAction;
  /**
   * One sentence for people: what was seen and what it calls for. It never says an action was
   * taken: whoever acts on `action` (the health-check job) says what it did.
   */
  message: string;
  /** The content warnings standing (content/rules.ts), whatever the status; absent when content was not judged. */
  content?: ContentWarning[];
}

export interface HealthyResult extends HealthFacts {
  status: 'healthy';
  action: 'none';
}
export interface WarningResult extends HealthFacts {
  status: 'warning';
  action: 'none';
}
/** The bridge refused a scan for its time stamp lately, while the data is still fresh. */
export interface ClockSkewWarningResult extends HealthFacts {
  status: 'warning';
  cause: 'clock_skew';
  action: 'none';
}
/** A young bridge run still catching up: reported, never acted on or alerted about. */
export interface StartingResult extends HealthFacts {
  status: 'warning';
  cause: 'starting';
  action: 'none';
}
/** No live heartbeat, just after this checker's Redis came back from an outage: the bridge's next beat is due; never acted on. */
export interface RedisBackResult extends HealthFacts {
  status: 'warning';
  cause: 'redis_back';
  action: 'none';
}
export interface StaleResult extends HealthFacts {
  status: 'stale';
  cause: StaleCause;
  /** `restart` when the bridge is behind; `alert` when the scanner is silent, its clock is off, its newest file is bad, or the value is no scan. */
  action: 'restart' | 'alert';
  /** `bad_newest_file`, and `clock_skew` for a refused newest file: that file and why it was not delivered. */
  file?: BadFileOnDisk;
}
export interface DownResult extends HealthFacts {
  status: 'down';
  cause: DownCause;
  /** `alert` only for `restart_failed`. */
  action: 'restart' | 'alert';
}
export interface ErrorResult extends HealthFacts {
  status: 'error';
  cause: ErrorCause;
  /** The unreachable server's error; both, labelled, when both are unreachable. */
  error: string;
  action: 'alert';
}

export type HealthResult =
  HealthyResult | WarningResult | StartingResult | RedisBackResult | ClockSkewWarningResult | ContentWarningResult | StaleResult | DownResult | ErrorResult;

/** A future timestamp further ahead than this is called out as clock skew. */
const SKEW_NOTE_MS = 5_000;

/** Higher is worse: healthy 0 … error 4. For picking what to alert about. */
export function severity(status: HealthStatus): number {
  return STATUSES.indexOf(status);
}

/** The exit code of `scan-bridge health`: 0 healthy, 1 warning, 2 stale, down or error. */
export function exitCodeFor(status: HealthStatus): 0 | 1 | 2 {
  if (status === 'healthy') return 0;
  if (status === 'warning') return 1;
  return 2;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10 + 0; // + 0 turns -0 into 0
}

function s1(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

type Facts = Omit<HealthFacts, 'action' | 'message'>;

function commonFacts(i: HealthInputs): Facts {
  const payload = i.latest.kind === 'ok' ? i.latest.payload : null;
  const hb = i.heartbeat.kind === 'ok' ? i.heartbeat.value : null;
  return {
    checkedAt: i.now,
    dataAgeS: payload ? round1(Math.max(0, i.now - payload.timestamp_ms) / 1000) : null,
    scanNumber: payload ? payload.scan_number : null,
    assetCount: payload ? payload.asset_count : null,
    newestOnDisk: i.newestOnDisk,
    bridge: hb ? { id: hb.id, host: hb.host, pid: hb.pid, generation: hb.generation, uptimeS: round1(Math.max(0, i.now - hb.startedAt) / 1000) } : null,
    restarts: i.restarts,
    ...(stampedBeforeWrite(i) ? { stampedBeforeWrite: i.stampedBeforeWrite! } : {}),
  };
}

/** Whether the last scan delivered with a stamp long before its file's mtime is still worth saying: it is the scan held, or recent. */
function stampedBeforeWrite(i: HealthInputs): boolean {
  const r = i.stampedBeforeWrite;
  if (!r) return false;
  const payload = i.latest.kind === 'ok' ? i.latest.payload : null;
  return payload?.scan_number === r.scanNumber || i.now - r.at <= i.thresholds.staleS * 1000;
}

/** The status, with precedence error > down > stale > warning > healthy; content warnings below freshness (content/health.ts). */
export function decideHealth(i: HealthInputs): HealthResult {
  const facts = commonFacts(i);
  const fresh = unreachable(i, facts) ?? noLiveBridge(i, facts) ?? unusableValue(i, facts) ?? clockSkew(i, facts) ?? starting(i, facts) ?? byDataAge(i, facts);
  // No facts read (Redis unreachable, no bridge stats yet): content not judged, rather than "no warning".
  const r = withContent(fresh, i.content?.window ? contentWarnings(i.content.window, i.content.settings) : undefined);
  const b = facts.stampedBeforeWrite;
  if (!b) return r;
  // A fact beside whatever the status is: delivered, neither refused nor a reason to restart.
  const note = `${b.relPath} (scan #${b.scanNumber}) is stamped ${b.skewS} s before its file was written (a copied or restored folder, or a file server's clock) and was delivered as it is`;
  return { ...r, message: `${r.message}; note: ${note}` };
}

/** Whether `r` is a start-up report, which nobody is alerted about. */
export function isStarting(r: HealthResult): r is StartingResult {
  return r.status === 'warning' && 'cause' in r && r.cause === 'starting';
}

/**
 * A bridge run younger than `startGraceS` whose data is missing or not fresh, and that has not
 * caught up yet (Hazelcast does not hold the newest good scan on disk), is catching up (or its
 * scanner is starting too): say so and wait. Once caught up, old data is the scanner's silence,
 * in the first minute too. After the grace the usual rules apply, so a run that never pushes the
 * newest scan on disk is restarted at most `startGraceS` after it began.
 */
function starting(i: HealthInputs, facts: Facts): StartingResult | undefined {
  const hb = i.heartbeat.kind === 'ok' ? i.heartbeat.value : null;
  const payload = i.latest.kind === 'ok' ? i.latest.payload : null;
  const graceMs = i.thresholds.startGraceS * 1000;
  if (!hb || i.now - hb.startedAt >= graceMs) return undefined;
  if (payload && i.now - payload.timestamp_ms < i.thresholds.warningS * 1000) return undefined;
  if (payload && (i.newestOnDisk === null || !diskIsNewer(i, payload))) return undefined;
  const held = payload ? `Hazelcast holds scan #${payload.scan_number}, ${s1(i.now - payload.timestamp_ms)} old` : 'Hazelcast holds no scan yet';
  const disk = i.newestOnDisk === null ? 'no scan is known on disk' : `the newest on disk is #${i.newestOnDisk}`;
  return {
    ...facts,
    status: 'warning',
    cause: 'starting',
    action: 'none',
    message: `bridge ${hb.id} started ${s1(i.now - hb.startedAt)} ago and is catching up: ${held}, ${disk}; judged by data age once the run is ${i.thresholds.startGraceS} s old`,
  };
}

/**
 * The value in Hazelcast is no scan to use (bridge/guards/stored-value.ts): it does not parse as one, or
 * it is stamped beyond `maxClockSkewS` ahead, where it would count as fresh for as long as that.
 * The bridge replaces it with its next scan and the gates refuse it meanwhile; a restart cannot
 * help, so alert: something else writes that key.
 */
function unusableValue(i: HealthInputs, facts: Facts): StaleResult | undefined {
  const maxSkewS = i.thresholds.maxClockSkewS ?? 300;
  const why =
    i.latest.kind === 'unusable'
      ? i.latest.why
      : i.latest.kind === 'ok' && i.latest.payload
        ? aheadOfClock(i.latest.payload, { nowMs: i.now, maxSkewS })
        : null;
  if (why === null) return undefined;
  return {
    ...facts,
    dataAgeS: null,
    scanNumber: null,
    assetCount: null,
    status: 'stale',
    cause: 'unusable_value',
    action: 'alert',
    message: `the value in Hazelcast is no usable scan (${why}): the bridge replaces it with its next scan, and a restart cannot help; a person should find out what wrote it`,
  };
}

/**
 * A scan the bridge refused for its stamp within the last `staleS`: a wrong clock. A restart
 * cannot mend a clock: alert, and name the file.
 */
function clockSkew(i: HealthInputs, facts: Facts): ClockSkewWarningResult | StaleResult | undefined {
  const payload = i.latest.kind === 'ok' ? i.latest.payload : null;
  const r = i.clockSkew;
  if (!r || i.now - r.at > i.thresholds.staleS * 1000) return undefined;
  const refused = `the bridge refused ${r.relPath} (scan #${r.scanNumber}) ${s1(Math.max(0, i.now - r.at))} ago, stamped ${r.skewS} s ahead of the bridge's clock`;
  if (payload && i.now - payload.timestamp_ms < i.thresholds.warningS * 1000) {
    return { ...facts, status: 'warning', cause: 'clock_skew', action: 'none', message: `${refused}; the data is fresh (scan #${payload.scan_number})` };
  }
  const data = payload ? `data is ${s1(i.now - payload.timestamp_ms)} old (scan #${payload.scan_number})` : 'no scan in Hazelcast yet';
  return {
    ...facts,
    status: 'stale',
    cause: 'clock_skew',
    action: 'alert',
    message: `${data} and ${refused}: a clock is off and a restart cannot help; a person should correct the clock`,
  };
}

function unreachable(i: HealthInputs, facts: Facts): ErrorResult | undefined {
  const hz = i.latest.kind === 'unreachable' ? i.latest.error : undefined;
  const redis = i.heartbeat.kind === 'unreachable' ? i.heartbeat.error : undefined;
  const retry = 'checked again next tick';
  if (hz !== undefined && redis !== undefined) {
    return {
      ...facts,
      status: 'error',
      cause: 'hazelcast_unreachable',
      action: 'alert',
      error: `Hazelcast: ${hz}; Redis: ${redis}`,
      message: `Hazelcast and Redis are both unreachable (Hazelcast: ${hz}; Redis: ${redis}): ${retry}`,
    };
  }
  if (hz !== undefined) {
    return {
      ...facts,
      status: 'error',
      cause: 'hazelcast_unreachable',
      action: 'alert',
      error: hz,
      message: `Hazelcast is unreachable (${hz}), so the data age is unknown: ${retry}`,
    };
  }
  if (redis !== undefined) {
    return {
      ...facts,
      status: 'error',
      cause: 'redis_unreachable',
      action: 'alert',
      error: redis,
      message: `Redis is unreachable (${redis}), so the bridge heartbeat is unknown: ${retry}`,
    };
  }
  return undefined;
}

function noLiveBridge(i: HealthInputs, facts: Facts): DownResult | StartingResult | RedisBackResult | undefined {
  const hb = i.heartbeat.kind === 'ok' ? i.heartbeat.value : null;
  const ttl = i.thresholds.heartbeatTtlMs;
  let cause: Exclude<DownCause, 'restart_failed'>;
  let seen: string;
  const waitedMs = i.checkingSince == null ? null : i.now - i.checkingSince;
  if (!hb && i.bridgeEverStarted === false && i.lastRestart?.state !== 'failed' && waitedMs !== null && waitedMs < i.thresholds.startGraceS * 1000) {
    // A system being set up: the checks began before any bridge did (roles started separately).
    return {
      ...facts,
      status: 'warning',
      cause: 'starting',
      action: 'none',
      // What Redis holds, not a guess: a new system and a Redis that lost its data look the same.
      message: `Redis has no bridge heartbeat and no record of any bridge run under this prefix, and its first recorded health check was ${s1(waitedMs)} ago: a bridge not started yet, or a Redis that lost its data; down if no bridge heartbeat within ${i.thresholds.startGraceS} s of that check`,
    };
  }
  if (!hb) {
    cause = 'no_heartbeat';
    seen = 'there is no bridge heartbeat in Redis';
  } else if (i.now - hb.beatAt > ttl) {
    cause = 'heartbeat_expired';
    seen = `the last heartbeat of bridge ${hb.id} (${hb.host}:${hb.pid}) is ${s1(i.now - hb.beatAt)} old, over the ${s1(ttl)} limit`;
  } else if (!hb.watching && i.now - (hb.watchingChangedAt ?? hb.startedAt) > ttl) {
    // Since the watching flag last changed (a run that just stopped, for a handover, is not down
    // yet); a heartbeat without that time (an older version) counts from the run's start.
    cause = 'not_watching';
    seen = `bridge ${hb.id} (${hb.host}:${hb.pid}) has not been watching the scan folder for ${s1(i.now - (hb.watchingChangedAt ?? hb.startedAt))}`;
  } else {
    return undefined;
  }
  if (cause !== 'not_watching' && i.redisBackMs != null && i.redisBackMs < ttl) {
    // The heartbeat expired while Redis was away (or Redis lost it): a live bridge writes the next
    // within BRIDGE_HEARTBEAT_MS of Redis's return, and a restart now would only stop it.
    return {
      ...facts,
      status: 'warning',
      cause: 'redis_back',
      action: 'none',
      message: `${seen}, but Redis came back only ${s1(i.redisBackMs)} ago: a live bridge writes its heartbeat again within BRIDGE_HEARTBEAT_MS; down if none within ${s1(ttl)} of Redis's return`,
    };
  }

  const r = i.lastRestart;
  if (r?.state === 'failed' && !failureSuperseded(r.at, hb, i)) {
    // Restart jobs already spent their attempts on this outage; queueing another from every
    // check would loop forever. Alert and leave the next step to a person: with no bridge worker
    // to run a bridge, that is starting one, as no restart can help.
    const ago = s1(Math.max(0, i.now - r.at));
    const message =
      r.bridgeWorkers === 0
        ? `${seen}, and the last restart failed ${ago} ago because no bridge worker is alive to run a bridge: start one (scan-bridge start --role bridge, or --role all); no restart can help until one runs`
        : `${seen}, and the last restart failed ${ago} ago${r.error ? ` (${r.error})` : ''}: automatic restarts are exhausted, trigger a restart by hand (scan-bridge trigger restart-bridge)`;
    return { ...facts, status: 'down', cause: 'restart_failed', action: 'alert', message };
  }
  const already = r?.state === 'running' ? ' (a restart is already running)' : '';
  return { ...facts, status: 'down', cause, action: 'restart', message: `${seen}: the bridge needs a restart${already}` };
}

/**
 * Whether a bridge worked at or after the moment `at` a restart failed, making that failure
 * old news. The heartbeat key expires in Redis, so a dead bridge usually leaves no heartbeat at
 * all; the payload's `written_at_ms` then still tells that a bridge pushed data after it.
 */
function failureSuperseded(at: number, hb: Heartbeat | null, i: HealthInputs): boolean {
  if (hb && hb.startedAt >= at) return true;
  if (hb && hb.watching && hb.beatAt >= at) return true;
  const written = i.latest.kind === 'ok' ? i.latest.payload?.written_at_ms : undefined;
  return written !== undefined && written >= at;
}

function byDataAge(i: HealthInputs, facts: Facts): HealthyResult | WarningResult | StaleResult {
  const payload = i.latest.kind === 'ok' ? i.latest.payload : null;
  const disk = i.newestOnDisk;
  const { warningS, staleS } = i.thresholds;

  if (!payload) {
    if (disk !== null) {
      return {
        ...facts,
        status: 'stale',
        cause: 'bridge_behind',
        action: 'restart',
        message: `no scan in Hazelcast yet although scan #${disk} exists on disk: the bridge needs a restart`,
      };
    }
    if (i.newestBadFile) return badNewestFile(facts, 'no scan in Hazelcast yet', i.newestBadFile);
    return {
      ...facts,
      status: 'stale',
      cause: 'scanner_silent',
      action: 'alert',
      message: 'no scan in Hazelcast yet and none on disk: the scanner has written nothing and a restart cannot help; a person should look at the scanner',
    };
  }

  const ageMs = i.now - payload.timestamp_ms;
  const ageS = Math.max(0, ageMs) / 1000;
  const scan = `scan #${payload.scan_number}`;
  if (ageS < warningS) {
    const message =
      -ageMs > SKEW_NOTE_MS
        ? `${scan} is stamped ${s1(-ageMs)} in the future (clock skew?), counted as fresh: healthy`
        : `data is ${s1(Math.max(0, ageMs))} old (${scan}): healthy`;
    return { ...facts, status: 'healthy', action: 'none', message };
  }
  const old = `data is ${s1(ageMs)} old (${scan})`;
  if (ageS <= staleS) {
    return { ...facts, status: 'warning', action: 'none', message: `${old}, past the ${warningS} s warning threshold but not yet ${staleS} s stale` };
  }
  if (disk !== null && diskIsNewer(i, payload)) {
    return {
      ...facts,
      status: 'stale',
      cause: 'bridge_behind',
      action: 'restart',
      message: `${old}; a newer scan #${disk} exists on disk: the bridge needs a restart`,
    };
  }
  const bad = i.newestBadFile;
  if (bad && (bad.scanNumber === null || isNewerThanHeld(bad.scanNumber, bad.timestampMs, payload))) return badNewestFile(facts, old, bad);
  const onDisk = disk === null ? 'no scan file is known on disk' : `the newest on disk is #${disk}`;
  return {
    ...facts,
    status: 'stale',
    cause: 'scanner_silent',
    action: 'alert',
    message: `${old} and ${onDisk}: the scanner went silent and a restart cannot help; a person should look at the scanner`,
  };
}

const BAD_KIND: Record<BadFileOnDisk['kind'], string> = {
  refused: 'was refused',
  rejected: 'was rejected',
  skipped: 'is skipped',
  incomplete: 'is incomplete and the bridge is waiting for the rest',
};

/**
 * Old data, and the newest file on disk is one the bridge could not deliver: a restart would
 * read the same file and fail the same way, so name the file and alert. A refused file is a
 * clock to correct (`clock_skew`), whenever it was refused: the cause stays while the file does.
 */
function badNewestFile(facts: Facts, old: string, file: BadFileOnDisk): StaleResult {
  const scan = file.scanNumber === null ? '' : ` (scan #${file.scanNumber})`;
  const what = `${old}, and the newest file on disk, ${file.relPath}${scan}, ${BAD_KIND[file.kind]}: ${file.reason}`;
  if (file.kind === 'refused') {
    return {
      ...facts,
      status: 'stale',
      cause: 'clock_skew',
      action: 'alert',
      file,
      message: `${what}; a clock is off and a restart cannot help; a person should correct the clock`,
    };
  }
  return {
    ...facts,
    status: 'stale',
    cause: 'bad_newest_file',
    action: 'alert',
    file,
    message: `${what}; a restart would read it the same way; a person should look at the file and the scanner that wrote it`,
  };
}

/** Whether the newest good scan on disk comes after the one in Hazelcast, in scan order when its time is known. */
function diskIsNewer(i: HealthInputs, payload: LatestScan): boolean {
  return isNewerThanHeld(i.newestOnDisk!, i.newestOnDiskAtMs ?? null, payload);
}

/** Whether a scan on disk comes after the one in Hazelcast: in scan order when its time (from the file name) is known, else by number. */
function isNewerThanHeld(scanNumber: number, timestampMs: number | null, payload: LatestScan): boolean {
  if (timestampMs === null) return scanNumber > payload.scan_number;
  return compareToFileName({ scanNumber, timestampMs }, { scanNumber: payload.scan_number, timestampMs: payload.timestamp_ms }) > 0;
}
