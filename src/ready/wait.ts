import type { EntryEvent } from 'hazelcast-client';
import type { Config } from '../config.js';
import type { Hazelcast } from '../connections.js';
import { parseStoredScan } from '../bridge/guards/stored-value.js';
import { UnreachableError } from '../errors.js';
import { decideReady, type HealthEntry, type Readiness, type ReadyInputs } from './decide.js';

export interface WaitOptions {
  maxAgeS: number;
  /** 0: read once and answer. */
  timeoutMs: number;
  /** Also wait for content warnings to clear (ready/decide.ts). @defaultValue `false` */
  strict?: boolean;
  /** Ends the wait early (a closed HTTP request); the answer is then the current facts. */
  signal?: AbortSignal;
  /** Called once, when the first read is not ready and the listeners are in place. */
  onWaiting?: (r: Readiness) => void;
}

function parse<T>(raw: string | null | undefined): T | null {
  if (raw === null || raw === undefined) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    // A health entry nobody can read is as good as none; the decision then names it missing.
    return null;
  }
}

/** The scan, or why the value is none (any client can write the key). */
function latestOf(raw: string | null): ReadyInputs['latest'] {
  if (raw === null) return null;
  const judged = parseStoredScan(raw);
  return judged.kind === 'scan' ? judged.value : { unusable: judged.why };
}

/**
 * Waits until the data is no older than `maxAgeS` and a live health entry does not say down or
 * error, or until the timeout. Entry listeners on the two keys wake it, so it answers within
 * milliseconds of the entry that makes it ready; time alone only ever makes data older, so the
 * one timer is the deadline. Throws {@link UnreachableError} when Hazelcast does not answer.
 */
export async function waitUntilReady(
  hz: Hazelcast,
  config: Pick<Config, 'hzMap' | 'hzKey' | 'hzHealthKey' | 'hzMembers' | 'maxClockSkewS'>,
  o: WaitOptions,
): Promise<Readiness> {
  const unreachable = (err: unknown) => new UnreachableError('hazelcast', config.hzMembers.join(','), err);
  const deadline = Date.now() + o.timeoutMs;
  const raw: { latest: string | null; health: string | null } = { latest: null, health: null };
  /** Keys an event set since the last read began: the event is newer than what the read returns. */
  const touched = new Set<keyof typeof raw>();
  let reread = true;
  let wake = () => undefined as void;
  const decide = () =>
    decideReady({
      now: Date.now(),
      maxAgeS: o.maxAgeS,
      maxClockSkewS: config.maxClockSkewS,
      latest: latestOf(raw.latest),
      health: parse<HealthEntry>(raw.health),
      strict: o.strict ?? false,
    });

  let map;
  try {
    map = await hz.client.getMap<string, string>(config.hzMap);
  } catch (err) {
    throw unreachable(err);
  }
  const on = (which: keyof typeof raw) => (e: EntryEvent<string, string>) => {
    raw[which] = e.value ?? null;
    touched.add(which);
    wake();
  };
  const listener = (which: keyof typeof raw) => ({ added: on(which), updated: on(which), removed: on(which), expired: on(which), evicted: on(which) });
  const ids: string[] = [];
  // Events missed while disconnected are not replayed: read again after a reconnect.
  const offChange = hz.onChange((up) => {
    if (up) {
      reread = true;
      wake();
    }
  });
  try {
    if (o.timeoutMs > 0) {
      try {
        ids.push(
          ...(await Promise.all([
            map.addEntryListener(listener('latest'), config.hzKey, true),
            map.addEntryListener(listener('health'), config.hzHealthKey, true),
          ])),
        );
      } catch (err) {
        throw unreachable(err);
      }
    }
    let announced = false;
    for (;;) {
      if (reread) {
        reread = false;
        touched.clear();
        try {
          const [latest, health] = await Promise.all([map.get(config.hzKey), map.get(config.hzHealthKey)]);
          if (!touched.has('latest')) raw.latest = latest;
          if (!touched.has('health')) raw.health = health;
        } catch (err) {
          throw unreachable(err);
        }
      }
      const r = decide();
      if (r.ready || Date.now() >= deadline || o.signal?.aborted) {
        // Past the deadline while disconnected, what was seen may be out of date: say so.
        if (!r.ready && o.timeoutMs > 0 && !hz.connected()) throw unreachable(new Error('the connection was lost while waiting'));
        return r;
      }
      if (!announced) {
        announced = true;
        o.onWaiting?.(r);
      }
      await new Promise<void>((ok) => {
        const timer = setTimeout(done, deadline - Date.now());
        o.signal?.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', done);
          wake = () => undefined;
          ok();
        }
        wake = done;
      });
    }
  } finally {
    offChange();
    // Not awaited: the answer is known, and a command shutting its client down drops them anyway.
    for (const id of ids) void map.removeEntryListener(id).catch(() => false);
  }
}
