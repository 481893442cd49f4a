import { afterEach, describe, expect, it, vi } from 'vitest';
import { decideHealth, exitCodeFor, severity, STATUSES, type BadFileOnDisk, type HealthInputs, type HealthResult, type HealthStatus } from '../src/health.js';

const NOW = 1_700_000_000_000;
const TTL = 10_000;
const SCAN = 4228;

type Payload = Extract<HealthInputs['latest'], { kind: 'ok' }>['payload'];
type Beat = NonNullable<Extract<HealthInputs['heartbeat'], { kind: 'ok' }>['value']>;

function payload(ageMs: number, over: Partial<NonNullable<Payload>> = {}): NonNullable<Payload> {
  return { scan_number: SCAN, timestamp_ms: NOW - ageMs, asset_count: 512, written_at_ms: NOW - ageMs + 200, bridge_id: 'box:42', ...over };
}

function beat(over: Partial<Beat> = {}): Beat {
  return { id: 'box:42', host: 'box', pid: 42, startedAt: NOW - 120_000, generation: 7, beatAt: NOW - 1_000, watching: true, ...over };
}

/** A healthy picture: fresh data, a live watching bridge, nothing newer on disk. */
function inputs(over: Partial<HealthInputs> = {}): HealthInputs {
  return {
    now: NOW,
    thresholds: { warningS: 30, staleS: 60, heartbeatTtlMs: TTL, startGraceS: 60 },
    latest: { kind: 'ok', payload: payload(5_000) },
    heartbeat: { kind: 'ok', value: beat() },
    newestOnDisk: SCAN,
    restarts: 0,
    lastRestart: null,
    ...over,
  };
}

const aged = (ageMs: number, over: Partial<NonNullable<Payload>> = {}): Partial<HealthInputs> => ({ latest: { kind: 'ok', payload: payload(ageMs, over) } });
const noPayload: Partial<HealthInputs> = { latest: { kind: 'ok', payload: null } };
const noBeat: Partial<HealthInputs> = { heartbeat: { kind: 'ok', value: null } };
const hzDown: Partial<HealthInputs> = { latest: { kind: 'unreachable', error: 'ECONNREFUSED 127.0.0.1:5701' } };
const redisDown: Partial<HealthInputs> = { heartbeat: { kind: 'unreachable', error: 'ECONNREFUSED 127.0.0.1:6379' } };
const expired: Partial<HealthInputs> = { heartbeat: { kind: 'ok', value: beat({ beatAt: NOW - 42_000 }) } };
const notWatching: Partial<HealthInputs> = { heartbeat: { kind: 'ok', value: beat({ watching: false }) } };
/** A bridge run that started `ms` ago and beats. */
const young = (ms: number): Partial<HealthInputs> => ({ heartbeat: { kind: 'ok', value: beat({ startedAt: NOW - ms }) } });
/** A failed restart, with the data last pushed 50 s ago: before the failure, as when the bridge died. */
const failedAt = (at: number, error?: string): Partial<HealthInputs> => ({
  ...aged(50_000),
  lastRestart: { state: 'failed', at, ...(error ? { error } : {}) },
});

type Expect = { status: HealthStatus; cause?: string; action: 'none' | 'restart' | 'alert' };

describe('decideHealth: every status and cause', () => {
  const cases: Array<[string, Partial<HealthInputs>, Expect]> = [
    ['fresh data, live bridge', {}, { status: 'healthy', action: 'none' }],
    ['data 45 s old', aged(45_000), { status: 'warning', action: 'none' }],
    ['data 45 s old and the bridge behind: still only a warning', { ...aged(45_000), newestOnDisk: SCAN + 3 }, { status: 'warning', action: 'none' }],
    ['stale, a newer scan on disk', { ...aged(72_400), newestOnDisk: SCAN + 3 }, { status: 'stale', cause: 'bridge_behind', action: 'restart' }],
    ['stale, the same scan newest on disk', aged(72_400), { status: 'stale', cause: 'scanner_silent', action: 'alert' }],
    ['stale, an older scan newest on disk', { ...aged(72_400), newestOnDisk: SCAN - 1 }, { status: 'stale', cause: 'scanner_silent', action: 'alert' }],
    ['stale, nothing known on disk', { ...aged(72_400), newestOnDisk: null }, { status: 'stale', cause: 'scanner_silent', action: 'alert' }],
    ['no scan in Hazelcast, files on disk', noPayload, { status: 'stale', cause: 'bridge_behind', action: 'restart' }],
    ['no scan in Hazelcast, nothing on disk', { ...noPayload, newestOnDisk: null }, { status: 'stale', cause: 'scanner_silent', action: 'alert' }],
    ['no heartbeat', noBeat, { status: 'down', cause: 'no_heartbeat', action: 'restart' }],
    // Redis back from an outage longer than the TTL: the heartbeat expired with it, and a live bridge writes the next within BRIDGE_HEARTBEAT_MS.
    ['no heartbeat, Redis back 0.2 s ago', { ...noBeat, redisBackMs: 200 }, { status: 'warning', cause: 'redis_back', action: 'none' }],
    ['heartbeat older than the TTL, Redis back 3 s ago', { ...expired, redisBackMs: 3_000 }, { status: 'warning', cause: 'redis_back', action: 'none' }],
    ['no heartbeat, Redis back for longer than the TTL', { ...noBeat, redisBackMs: TTL + 1 }, { status: 'down', cause: 'no_heartbeat', action: 'restart' }],
    [
      'bridge not watching, Redis just back: Redis is not why',
      { ...notWatching, redisBackMs: 200 },
      { status: 'down', cause: 'not_watching', action: 'restart' },
    ],
    ['heartbeat older than the TTL', expired, { status: 'down', cause: 'heartbeat_expired', action: 'restart' }],
    ['bridge not watching for longer than the TTL', notWatching, { status: 'down', cause: 'not_watching', action: 'restart' }],
    [
      'bridge just started, not watching yet',
      { heartbeat: { kind: 'ok', value: beat({ watching: false, startedAt: NOW - 3_000 }) } },
      { status: 'healthy', action: 'none' },
    ],
    ['no heartbeat after a failed restart', { ...noBeat, ...failedAt(NOW - 12_000) }, { status: 'down', cause: 'restart_failed', action: 'alert' }],
    [
      'expired heartbeat, restart failed after the last beat',
      { ...expired, ...failedAt(NOW - 12_000) },
      { status: 'down', cause: 'restart_failed', action: 'alert' },
    ],
    [
      'expired heartbeat, restart failed before the last beat',
      { ...expired, ...failedAt(NOW - 50_000) },
      { status: 'down', cause: 'heartbeat_expired', action: 'restart' },
    ],
    [
      'no heartbeat, but data was pushed after the failed restart',
      { ...noBeat, ...failedAt(NOW - 3_600_000), ...aged(5_000) },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    [
      'not watching, restart failed during this run',
      { ...notWatching, ...failedAt(NOW - 12_000) },
      { status: 'down', cause: 'restart_failed', action: 'alert' },
    ],
    [
      'not watching, this run started after the failed restart',
      { ...notWatching, ...failedAt(NOW - 200_000) },
      { status: 'down', cause: 'not_watching', action: 'restart' },
    ],
    [
      'no heartbeat, restart running',
      { ...noBeat, lastRestart: { state: 'running', at: NOW - 2_000 } },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    [
      'no heartbeat, last restart confirmed',
      { ...noBeat, lastRestart: { state: 'confirmed', at: NOW - 2_000 } },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    ['live bridge, a failed restart does not matter', { ...failedAt(NOW - 12_000), ...aged(5_000) }, { status: 'healthy', action: 'none' }],
    ['young run, no scan in Hazelcast yet, files on disk', { ...young(5_000), ...noPayload }, { status: 'warning', cause: 'starting', action: 'none' }],
    ['young run, no scan anywhere yet', { ...young(5_000), ...noPayload, newestOnDisk: null }, { status: 'warning', cause: 'starting', action: 'none' }],
    [
      'young run, an hour-old backlog pushed first',
      { ...young(5_000), ...aged(3_600_000), newestOnDisk: SCAN + 40 },
      { status: 'warning', cause: 'starting', action: 'none' },
    ],
    ['young run, fresh data', { ...young(5_000), ...aged(2_000) }, { status: 'healthy', action: 'none' }],
    ['run past the grace, still no scan pushed', { ...young(60_000), ...noPayload }, { status: 'stale', cause: 'bridge_behind', action: 'restart' }],
    [
      'young run but its heartbeat expired',
      { heartbeat: { kind: 'ok', value: beat({ startedAt: NOW - 20_000, beatAt: NOW - 15_000 }) }, ...noPayload },
      { status: 'down', cause: 'heartbeat_expired', action: 'restart' },
    ],
    [
      'no bridge ever started, checks began 5 s ago',
      { ...noBeat, ...noPayload, bridgeEverStarted: false, checkingSince: NOW - 5_000 },
      { status: 'warning', cause: 'starting', action: 'none' },
    ],
    [
      'no bridge ever started, checks began a grace ago',
      { ...noBeat, ...noPayload, bridgeEverStarted: false, checkingSince: NOW - 60_000 },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    [
      'no heartbeat of a bridge that ran before, checks just began',
      { ...noBeat, bridgeEverStarted: true, checkingSince: NOW - 5_000 },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    [
      'no bridge ever started and the restart that waited for one failed',
      { ...noBeat, bridgeEverStarted: false, checkingSince: NOW - 5_000, ...failedAt(NOW - 1_000) },
      { status: 'down', cause: 'restart_failed', action: 'alert' },
    ],
    [
      'no bridge ever started, when the checks began is unknown',
      { ...noBeat, bridgeEverStarted: false, checkingSince: null },
      { status: 'down', cause: 'no_heartbeat', action: 'restart' },
    ],
    ['Hazelcast unreachable', hzDown, { status: 'error', cause: 'hazelcast_unreachable', action: 'alert' }],
    ['Redis unreachable', redisDown, { status: 'error', cause: 'redis_unreachable', action: 'alert' }],
    ['both unreachable: Hazelcast names the cause', { ...hzDown, ...redisDown }, { status: 'error', cause: 'hazelcast_unreachable', action: 'alert' }],
  ];

  it.each(cases)('%s', (_name, over, want) => {
    const r = decideHealth(inputs(over));
    expect(r.status).toBe(want.status);
    expect(r.action).toBe(want.action);
    expect('cause' in r ? r.cause : undefined).toBe(want.cause);
  });

  it('covers every status', () => {
    expect(new Set(cases.map(([, , w]) => w.status))).toEqual(new Set(STATUSES));
  });
});

describe('decideHealth: boundaries', () => {
  it.each<[string, Partial<HealthInputs>, HealthStatus]>([
    ['age 0', aged(0), 'healthy'],
    ['age 29.999 s', aged(29_999), 'healthy'],
    ['age exactly 30 s', aged(30_000), 'warning'],
    ['age exactly 60 s', aged(60_000), 'warning'],
    ['age 60.001 s', aged(60_001), 'stale'],
    ['age 5 s in the future', aged(-5_000), 'healthy'],
    ['age 300 s in the future (MAX_CLOCK_SKEW_S)', aged(-300_000), 'healthy'],
    ['age an hour in the future: clock skew, not fresh', aged(-3_600_000), 'stale'],
    ['heartbeat exactly TTL old', { heartbeat: { kind: 'ok', value: beat({ beatAt: NOW - TTL }) } }, 'healthy'],
    ['heartbeat TTL + 1 ms old', { heartbeat: { kind: 'ok', value: beat({ beatAt: NOW - TTL - 1 }) } }, 'down'],
    ['not watching for exactly the TTL', { heartbeat: { kind: 'ok', value: beat({ watching: false, startedAt: NOW - TTL }) } }, 'healthy'],
    ['not watching for TTL + 1 ms', { heartbeat: { kind: 'ok', value: beat({ watching: false, startedAt: NOW - TTL - 1 }) } }, 'down'],
    [
      'a long run that stopped watching a moment ago (its lock lost, a handover under way)',
      { heartbeat: { kind: 'ok', value: beat({ watching: false, startedAt: NOW - 60_000, watchingChangedAt: NOW - 500 }) } },
      'healthy',
    ],
    [
      'a long run not watching for TTL + 1 ms since it stopped',
      { heartbeat: { kind: 'ok', value: beat({ watching: false, startedAt: NOW - 60_000, watchingChangedAt: NOW - TTL - 1 }) } },
      'down',
    ],
    ['custom thresholds 10/20: 10 s', { ...aged(10_000), thresholds: { warningS: 10, staleS: 20, heartbeatTtlMs: TTL, startGraceS: 60 } }, 'warning'],
    ['a run 59.999 s old with old data and a newer scan on disk', { ...young(59_999), ...aged(90_000), newestOnDisk: SCAN + 1 }, 'warning'],
    ['a run exactly the grace old with old data and a newer scan on disk', { ...young(60_000), ...aged(90_000), newestOnDisk: SCAN + 1 }, 'stale'],
    ['custom thresholds 10/20: 20.001 s', { ...aged(20_001), thresholds: { warningS: 10, staleS: 20, heartbeatTtlMs: TTL, startGraceS: 60 } }, 'stale'],
  ])('%s → %s', (_name, over, status) => {
    expect(decideHealth(inputs(over)).status).toBe(status);
  });

  it('restart_failed needs the failure to be after the last beat, not at it', () => {
    const beatAt = NOW - 42_000;
    const at = (t: number) => decideHealth(inputs({ heartbeat: { kind: 'ok', value: beat({ beatAt }) }, ...failedAt(t) }));
    expect(at(beatAt)).toMatchObject({ cause: 'heartbeat_expired' });
    expect(at(beatAt + 1)).toMatchObject({ cause: 'restart_failed' });
  });

  it('a scan written at or after the failed restart supersedes it', () => {
    const at = NOW - 30_000;
    const written = (w: number) => decideHealth(inputs({ ...noBeat, ...failedAt(at), ...aged(50_000, { written_at_ms: w }) }));
    expect(written(at - 1)).toMatchObject({ cause: 'restart_failed', action: 'alert' });
    expect(written(at)).toMatchObject({ cause: 'no_heartbeat', action: 'restart' });
  });
});

describe('decideHealth: precedence error > down > stale > warning > healthy', () => {
  const stale = { ...aged(90_000), newestOnDisk: SCAN + 1 };
  it.each<[string, Partial<HealthInputs>, HealthStatus, string?]>([
    ['Hazelcast unreachable beats no heartbeat', { ...hzDown, ...noBeat }, 'error', 'hazelcast_unreachable'],
    ['Redis unreachable beats stale data', { ...redisDown, ...stale }, 'error', 'redis_unreachable'],
    ['Redis unreachable beats a failed restart', { ...redisDown, ...failedAt(NOW - 1_000) }, 'error', 'redis_unreachable'],
    ['no heartbeat beats stale data', { ...noBeat, ...stale }, 'down', 'no_heartbeat'],
    ['expired heartbeat beats missing payload', { ...expired, ...noPayload }, 'down', 'heartbeat_expired'],
    ['not watching beats warning', { ...notWatching, ...aged(45_000) }, 'down', 'not_watching'],
    ['stale beats everything below', stale, 'stale', 'bridge_behind'],
    ['warning over healthy', aged(31_000), 'warning'],
  ])('%s', (_name, over, status, cause) => {
    const r = decideHealth(inputs(over));
    expect(r.status).toBe(status);
    if (cause) expect(r).toMatchObject({ cause });
  });
});

describe('decideHealth: messages', () => {
  function msg(over: Partial<HealthInputs>): string {
    return decideHealth(inputs(over)).message;
  }

  it.each<[string, Partial<HealthInputs>, Array<string | RegExp>]>([
    ['healthy', aged(3_200), ['3.2 s', '#4228', /healthy/]],
    ['warning', aged(45_000), ['45.0 s', '#4228', '30 s', '60 s', /not yet 60 s stale$/]],
    [
      'stale bridge behind',
      { ...aged(72_400), newestOnDisk: 4231 },
      ['data is 72.4 s old (scan #4228); a newer scan #4231 exists on disk: the bridge needs a restart'],
    ],
    ['stale scanner silent', aged(72_400), ['72.4 s', '#4228', /restart cannot help/, /a person should look at the scanner/]],
    ['stale scanner silent, nothing on disk', { ...aged(72_400), newestOnDisk: null }, ['72.4 s', /no scan file/, /restart cannot help/]],
    ['no payload, files on disk', { ...noPayload, newestOnDisk: 17 }, [/no scan in Hazelcast yet/, '#17', /the bridge needs a restart/]],
    ['no payload, nothing on disk', { ...noPayload, newestOnDisk: null }, [/no scan in Hazelcast yet/, /restart cannot help/]],
    ['future timestamp beyond 5 s', aged(-12_000), ['12.0 s in the future', /clock skew/]],
    ['no heartbeat', noBeat, [/no bridge heartbeat/, /the bridge needs a restart/]],
    ['expired heartbeat', expired, ['box:42', '42.0 s', '10.0 s', /the bridge needs a restart/]],
    ['not watching', notWatching, ['box:42', '120.0 s', /has not been watching the scan folder for 120.0 s/, /the bridge needs a restart/]],
    ['restart running', { ...noBeat, lastRestart: { state: 'running', at: NOW - 2_000 } }, [/already running/]],
    [
      'restart failed',
      { ...noBeat, ...failedAt(NOW - 12_000, 'no new generation after 3 attempts') },
      ['12.0 s ago', 'no new generation after 3 attempts', /exhausted/, /trigger a restart by hand/],
    ],
    [
      'no bridge started yet',
      { ...noBeat, ...noPayload, bridgeEverStarted: false, checkingSince: NOW - 4_200 },
      ['no record of any bridge run under this prefix', 'first recorded health check was 4.2 s ago', 'a Redis that lost its data', 'within 60 s of that check'],
    ],
    [
      'young run catching up',
      { ...young(4_200), ...aged(3_600_000), newestOnDisk: 4268 },
      ['box:42 started 4.2 s ago', 'is catching up', '#4228', '3600.0 s old', '#4268', '60 s old'],
    ],
    ['Hazelcast unreachable', hzDown, [/Hazelcast is unreachable/, '5701', /checked again next tick/]],
    ['Redis unreachable', redisDown, [/Redis is unreachable/, '6379', /checked again next tick/]],
    ['both unreachable', { ...hzDown, ...redisDown }, [/Hazelcast and Redis/, '5701', '6379']],
  ])('%s', (_name, over, parts) => {
    const m = msg(over);
    for (const p of parts) {
      if (typeof p === 'string') expect(m).toContain(p);
      else expect(m).toMatch(p);
    }
    expect(m).not.toMatch(/\n/);
    // The decision takes no action, so its words claim none.
    expect(m).not.toMatch(/restarting|alerting|queued|logging/);
  });

  it('does not call 5 s of skew or less clock skew', () => {
    expect(msg(aged(-5_000))).not.toMatch(/skew|future/);
    expect(msg(aged(-5_001))).toMatch(/clock skew/);
  });
});

describe('decideHealth: facts on every result', () => {
  it('carries the scan, the bridge and the counters', () => {
    const r = decideHealth(inputs({ ...aged(72_440), newestOnDisk: 4231, restarts: 3 }));
    expect(r).toMatchObject({
      checkedAt: NOW,
      dataAgeS: 72.4,
      scanNumber: SCAN,
      assetCount: 512,
      newestOnDisk: 4231,
      bridge: { id: 'box:42', host: 'box', pid: 42, generation: 7, uptimeS: 120 },
      restarts: 3,
    });
  });

  it.each<[number, number]>([
    [72_440, 72.4],
    [72_460, 72.5],
    [30_000, 30],
    [60_001, 60],
    [0, 0],
    [-12_000, 0],
  ])('dataAgeS of %i ms is %d', (ageMs, ageS) => {
    const r = decideHealth(inputs(aged(ageMs)));
    expect(r.dataAgeS).toBe(ageS);
    expect(Object.is(r.dataAgeS, -0)).toBe(false);
  });

  it('rounds uptime to 0.1 s and never makes it negative', () => {
    expect(decideHealth(inputs({ heartbeat: { kind: 'ok', value: beat({ startedAt: NOW - 1_234 }) } })).bridge?.uptimeS).toBe(1.2);
    expect(decideHealth(inputs({ heartbeat: { kind: 'ok', value: beat({ startedAt: NOW + 2_000 }) } })).bridge?.uptimeS).toBe(0);
  });

  it('keeps what is known when one server is unreachable', () => {
    const hz = decideHealth(inputs(hzDown));
    expect(hz).toMatchObject({ dataAgeS: null, scanNumber: null, assetCount: null, bridge: { id: 'box:42' } });
    const redis = decideHealth(inputs(redisDown));
    expect(redis).toMatchObject({ dataAgeS: 5, scanNumber: SCAN, bridge: null });
  });

  it('gives the error of each unreachable server', () => {
    expect(decideHealth(inputs(hzDown))).toMatchObject({ error: 'ECONNREFUSED 127.0.0.1:5701' });
    expect(decideHealth(inputs(redisDown))).toMatchObject({ error: 'ECONNREFUSED 127.0.0.1:6379' });
    const both = decideHealth(inputs({ ...hzDown, ...redisDown }));
    expect(both).toMatchObject({ error: 'Hazelcast: ECONNREFUSED 127.0.0.1:5701; Redis: ECONNREFUSED 127.0.0.1:6379' });
  });

  it('has no data facts without a payload and no bridge without a heartbeat', () => {
    expect(decideHealth(inputs(noPayload))).toMatchObject({ dataAgeS: null, scanNumber: null, assetCount: null, newestOnDisk: SCAN });
    expect(decideHealth(inputs(noBeat)).bridge).toBeNull();
  });

  it('names the last known bridge even when its heartbeat expired', () => {
    expect(decideHealth(inputs(expired)).bridge).toMatchObject({ id: 'box:42', generation: 7 });
  });

  it('survives JSON, as a job return value and the Hazelcast health entry must', () => {
    for (const over of [{}, hzDown, noBeat, aged(90_000)]) {
      const r = decideHealth(inputs(over));
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    }
  });
});

describe('decideHealth: purity', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reads no clock and changes nothing it is given', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('Date.now() called');
    });
    const given = inputs({ ...expired, ...failedAt(NOW - 1_000) });
    const copy = structuredClone(given);
    const a = decideHealth(given);
    const b = decideHealth(given);
    expect(a).toEqual(b);
    expect(given).toEqual(copy);
  });
});

describe('exitCodeFor, severity and STATUSES', () => {
  it.each<[HealthStatus, number]>([
    ['healthy', 0],
    ['warning', 1],
    ['stale', 2],
    ['down', 2],
    ['error', 2],
  ])('%s exits %i', (status, code) => {
    expect(exitCodeFor(status)).toBe(code);
  });

  it('orders statuses by precedence, mildest first', () => {
    expect([...STATUSES]).toEqual(['healthy', 'warning', 'stale', 'down', 'error']);
    const sorted = [...STATUSES].sort((a, b) => severity(b) - severity(a));
    expect(sorted).toEqual(['error', 'down', 'stale', 'warning', 'healthy']);
  });

  it('narrows on status', () => {
    const r: HealthResult = decideHealth(inputs(hzDown));
    if (r.status !== 'error') throw new Error('expected error');
    expect(r.cause).toBe('hazelcast_unreachable');
    expect(typeof r.error).toBe('string');
  });
});

describe('decideHealth: scan order and clock skew (issue 9)', () => {
  const refusal = (agoMs: number) => ({
    clockSkew: { relPath: '2026-11-29/scan_004229_120000.arrow', scanNumber: SCAN + 1, kind: 'ahead' as const, skewS: 86_400, at: NOW - agoMs },
  });

  it('judges "newer on disk" by scan time first: a restarted scanner is not taken for behind, nor its old numbers for ahead', () => {
    // Hazelcast holds #3 of the restarted scanner; #4231 of the old numbering is older.
    const held = aged(72_400, { scan_number: 3 });
    expect(decideHealth(inputs({ ...held, newestOnDisk: 4231, newestOnDiskAtMs: NOW - 600_000 }))).toMatchObject({ status: 'stale', cause: 'scanner_silent' });
    // #1 of a restart, written after the held scan: behind.
    expect(decideHealth(inputs({ ...aged(72_400), newestOnDisk: 1, newestOnDiskAtMs: NOW - 10_000 }))).toMatchObject({
      status: 'stale',
      cause: 'bridge_behind',
      action: 'restart',
    });
    // The same second as the held scan (file names have whole seconds): by number.
    const sameSecond = Math.floor((NOW - 72_400) / 1000) * 1000;
    expect(decideHealth(inputs({ ...aged(72_400), newestOnDisk: SCAN, newestOnDiskAtMs: sameSecond }))).toMatchObject({ cause: 'scanner_silent' });
    expect(decideHealth(inputs({ ...aged(72_400), newestOnDisk: SCAN + 1, newestOnDiskAtMs: sameSecond }))).toMatchObject({ cause: 'bridge_behind' });
  });

  it('a scan refused for its stamp: warning while the data is fresh, stale clock_skew (alert, no restart) when it is not', () => {
    const fresh = decideHealth(inputs({ ...refusal(2_000) }));
    expect(fresh).toMatchObject({ status: 'warning', cause: 'clock_skew', action: 'none' });
    expect(fresh.message).toContain('2026-11-29/scan_004229_120000.arrow');
    // Old data and a future-named file on disk: clock skew, not a bridge to restart.
    expect(decideHealth(inputs({ ...aged(72_400), ...refusal(2_000), newestOnDisk: SCAN + 1, newestOnDiskAtMs: NOW + 86_400_000 }))).toMatchObject({
      status: 'stale',
      cause: 'clock_skew',
      action: 'alert',
    });
    expect(decideHealth(inputs({ ...noPayload, newestOnDisk: null, ...refusal(1_000) }))).toMatchObject({
      status: 'stale',
      cause: 'clock_skew',
      action: 'alert',
    });
    // A refusal older than DATA_STALE_S is history.
    expect(decideHealth(inputs({ ...refusal(61_000) }))).toMatchObject({ status: 'healthy' });
  });

  it('a value in Hazelcast stamped beyond MAX_CLOCK_SKEW_S ahead is no usable value, not fresh and not clock_skew (issue 20)', () => {
    const r = decideHealth(inputs({ ...aged(-3_600_000), thresholds: { warningS: 30, staleS: 60, heartbeatTtlMs: TTL, startGraceS: 60, maxClockSkewS: 300 } }));
    expect(r).toMatchObject({ status: 'stale', cause: 'unusable_value', action: 'alert' });
    expect(r.message).toMatch(/stamped 3600 s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=300/);
    expect(r.message).toMatch(/the bridge replaces it with its next scan/);
  });
});

describe('decideHealth: a value in Hazelcast that is no scan (issue 20)', () => {
  const unusable: Partial<HealthInputs> = { latest: { kind: 'unusable', why: 'its scan_number is not a whole number ("abc")' } };

  it('is stale (unusable_value): an alert, no restart, naming why', () => {
    const r = decideHealth(inputs(unusable));
    expect(r).toMatchObject({ status: 'stale', cause: 'unusable_value', action: 'alert', scanNumber: null, dataAgeS: null });
    expect(r.message).toContain('its scan_number is not a whole number ("abc")');
  });

  it('a dead bridge still comes first: down, restart', () => {
    expect(decideHealth(inputs({ ...unusable, ...noBeat }))).toMatchObject({ status: 'down', action: 'restart' });
  });

  it('clock_skew stays for a refused file', () => {
    const refused = { clockSkew: { relPath: 'd/scan_1.arrow', scanNumber: 1, kind: 'ahead' as const, skewS: 900, at: NOW - 1000 } };
    expect(decideHealth(inputs({ ...aged(72_400), ...refused }))).toMatchObject({ status: 'stale', cause: 'clock_skew' });
  });
});

describe('decideHealth: the newest good file decides "behind" (issue 20)', () => {
  const stale = aged(72_400);
  /** The newest file on disk, #4229 a second after the held scan, found bad by the bridge 3 s ago. */
  const bad = (kind: BadFileOnDisk['kind'], reason: string, over: Partial<BadFileOnDisk> = {}): Partial<HealthInputs> => ({
    newestBadFile: {
      relPath: '2026-11-29/scan_004229_120001.arrow',
      scanNumber: SCAN + 1,
      timestampMs: NOW - 71_400,
      kind,
      reason,
      at: NOW - 3_000,
      ...over,
    },
  });
  const kinds: Array<[string, Partial<HealthInputs>]> = [
    ['half written and waited on', bad('incomplete', 'no Arrow footer yet')],
    ['half written for good', bad('rejected', 'no Arrow footer (still incomplete after 5000 ms without growing)')],
    ['quarantined as hostile', bad('skipped', 'quarantined since 2026-11-29T12:00:02.000Z (the decoder crashed) and unchanged')],
    ['over MAX_SCAN_FILE_BYTES', bad('rejected', '2048 MiB on disk, beyond MAX_SCAN_FILE_BYTES (256 MiB); quarantined until it changes')],
    ['stopped at DECODE_TIMEOUT_MS', bad('rejected', 'decoding took longer than DECODE_TIMEOUT_MS (2000 ms); quarantined until it changes')],
  ];

  it.each(kinds)('stale and the newest file %s: bad_newest_file naming it, an alert, never a restart', (_name, file) => {
    const r = decideHealth(inputs({ ...stale, ...file }));
    expect(r).toMatchObject({ status: 'stale', cause: 'bad_newest_file', action: 'alert', newestOnDisk: SCAN, file: file.newestBadFile });
    expect(r.message).toContain('2026-11-29/scan_004229_120001.arrow (scan #4229)');
    expect(r.message).toContain(file.newestBadFile!.reason);
    expect(r.message).toMatch(/^data is 72\.4 s old \(scan #4228\), and the newest file on disk/);
  });

  it('the same file keeps the same cause check after check: one alert, no flapping', () => {
    for (const [, file] of kinds) {
      const causes = [3_000, 30_000, 61_000, 600_000].map((ago) => {
        const r = decideHealth(inputs({ ...stale, newestBadFile: { ...file.newestBadFile!, at: NOW - ago } }));
        return 'cause' in r ? r.cause : r.status;
      });
      expect(new Set(causes)).toEqual(new Set(['bad_newest_file']));
    }
  });

  it('a newest file refused for its stamp is clock_skew while it is the newest, not bridge_behind once the refusal is older than DATA_STALE_S', () => {
    const refused = (ago: number): Partial<HealthInputs> => ({
      ...bad('refused', "stamped 86400 s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=300", {
        relPath: '2026-11-30/scan_004229_120000.arrow',
        timestampMs: NOW + 86_400_000,
        at: NOW - ago,
      }),
      clockSkew: { relPath: '2026-11-30/scan_004229_120000.arrow', scanNumber: SCAN + 1, kind: 'ahead', skewS: 86_400, at: NOW - ago },
    });
    const results = [2_000, 30_000, 61_000, 600_000].map((ago) => decideHealth(inputs({ ...stale, ...refused(ago) })));
    for (const r of results) expect(r).toMatchObject({ status: 'stale', cause: 'clock_skew', action: 'alert' });
    expect(results[3]!.message).toContain('2026-11-30/scan_004229_120000.arrow (scan #4229), was refused');
  });

  it('a newer good file still means behind, whatever is newer than it', () => {
    const r = decideHealth(
      inputs({
        ...stale,
        newestOnDisk: SCAN + 1,
        newestOnDiskAtMs: NOW - 71_400,
        ...bad('incomplete', 'x', { scanNumber: SCAN + 2, timestampMs: NOW - 70_400 }),
      }),
    );
    expect(r).toMatchObject({ status: 'stale', cause: 'bridge_behind', action: 'restart' });
  });

  it('no scan in Hazelcast and only a bad file on disk: bad_newest_file, no restart', () => {
    const r = decideHealth(inputs({ ...noPayload, newestOnDisk: null, ...bad('rejected', 'not an Arrow IPC file') }));
    expect(r).toMatchObject({ status: 'stale', cause: 'bad_newest_file', action: 'alert' });
    expect(r.message).toMatch(
      /^no scan in Hazelcast yet, and the newest file on disk, 2026-11-29\/scan_004229_120001\.arrow \(scan #4229\), was rejected: not an Arrow IPC file;/,
    );
  });

  it('a bad file older than the scan held is not news: scanner_silent', () => {
    const r = decideHealth(inputs({ ...stale, ...bad('rejected', 'x', { scanNumber: SCAN - 1, timestampMs: NOW - 73_400 }) }));
    expect(r).toMatchObject({ status: 'stale', cause: 'scanner_silent' });
  });

  it('fresh data with a bad newest file is still healthy', () => {
    expect(decideHealth(inputs({ ...aged(2_000), ...bad('rejected', 'x') }))).toMatchObject({ status: 'healthy', action: 'none' });
  });
});

describe('decideHealth: the start-up grace ends once caught up (issue 20)', () => {
  const quick = { thresholds: { warningS: 3, staleS: 6, heartbeatTtlMs: TTL, startGraceS: 60 } };

  it('a young run holding the newest good scan on disk, the scanner silent 9 s: stale scanner_silent', () => {
    const r = decideHealth(inputs({ ...quick, ...young(20_000), ...aged(9_000) }));
    expect(r).toMatchObject({ status: 'stale', cause: 'scanner_silent', action: 'alert' });
  });

  it('a young run that holds an older scan than the newest good one on disk is still starting', () => {
    expect(decideHealth(inputs({ ...quick, ...young(20_000), ...aged(9_000), newestOnDisk: SCAN + 1 }))).toMatchObject({
      status: 'warning',
      cause: 'starting',
    });
  });

  it('a young run with no scan in Hazelcast is still starting, files on disk or not', () => {
    expect(decideHealth(inputs({ ...quick, ...young(2_000), ...noPayload }))).toMatchObject({ cause: 'starting' });
    expect(decideHealth(inputs({ ...quick, ...young(2_000), ...noPayload, newestOnDisk: null }))).toMatchObject({ cause: 'starting' });
  });

  it('a young run caught up to the newest good scan, with a bad file newer: bad_newest_file', () => {
    const newestBadFile: BadFileOnDisk = {
      relPath: 'd/scan_004229_000000.arrow',
      scanNumber: SCAN + 1,
      timestampMs: null,
      kind: 'incomplete',
      reason: 'no footer yet',
      at: NOW,
    };
    expect(decideHealth(inputs({ ...quick, ...young(20_000), ...aged(9_000), newestBadFile }))).toMatchObject({
      status: 'stale',
      cause: 'bad_newest_file',
      action: 'alert',
    });
  });
});

describe('decideHealth: a scan stamped before its file was written is a fact, not a fault (issue 20)', () => {
  const stamped = (agoMs: number, scanNumber = SCAN): Partial<HealthInputs> => ({
    stampedBeforeWrite: { relPath: '2026-11-29/scan_004228_120000.arrow', scanNumber, skewS: 7200, at: NOW - agoMs },
  });

  it('delivered and held: healthy or stale by its age as any scan, the fact on the result and in the message', () => {
    const fresh = decideHealth(inputs({ ...aged(2_000), ...stamped(1_000) }));
    expect(fresh).toMatchObject({ status: 'healthy', action: 'none', stampedBeforeWrite: { scanNumber: SCAN, skewS: 7200 } });
    expect(fresh.message).toMatch(
      /; note: 2026-11-29\/scan_004228_120000\.arrow \(scan #4228\) is stamped 7200 s before its file was written .*delivered as it is$/,
    );
    // A restored folder: its newest scan is old, and so is the data; no clock_skew, no restart.
    const old = decideHealth(inputs({ ...aged(7_200_000), ...stamped(1_000) }));
    expect(old).toMatchObject({ status: 'stale', cause: 'scanner_silent', action: 'alert', stampedBeforeWrite: { skewS: 7200 } });
  });

  it('is dropped once it is neither the scan held nor recent', () => {
    const r = decideHealth(inputs({ ...aged(2_000), ...stamped(61_000, SCAN - 5) }));
    expect(r).not.toHaveProperty('stampedBeforeWrite');
    expect(r.message).not.toMatch(/note/);
    expect(decideHealth(inputs({ ...aged(2_000), ...stamped(600_000) }))).toHaveProperty('stampedBeforeWrite');
  });
});
