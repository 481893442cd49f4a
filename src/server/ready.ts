import { coerceError } from '../errors.js';
import type { Readiness } from '../ready/decide.js';

/**
 * The longest `wait_s` a request may hold: below the 60 s idle timeout of common load balancers
 * and proxies, so a held request is answered rather than cut.
 */
export const READY_MAX_WAIT_S = 55;
const DEFAULT_MAX_AGE_S = 30;

export interface Reply {
  status: number;
  body: unknown;
}

/** `strict`: content warnings count against readiness too (`?strict=1`). */
export type ReadyQuery = { maxAgeS: number; waitS: number; strict: boolean };

function seconds(raw: unknown, name: string, fallback: number, max: number): number | string {
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  return Number.isFinite(n) && n <= max ? n : `${name} must be a number of seconds from 0 to ${max}, got ${JSON.stringify(raw)}`;
}

/** `?max_age_s=30&wait_s=10` → the query, or the 400 to answer. */
export function parseReadyQuery(query: Record<string, unknown>): ReadyQuery | Reply {
  const maxAgeS = seconds(query.max_age_s, 'max_age_s', DEFAULT_MAX_AGE_S, Number.MAX_SAFE_INTEGER);
  const waitS = seconds(query.wait_s, 'wait_s', 0, READY_MAX_WAIT_S);
  const strict = strictFlag(query.strict);
  const bad = [maxAgeS, waitS, strict].find((v): v is string => typeof v === 'string');
  if (bad !== undefined) return { status: 400, body: { error: { code: 'bad_request', message: bad } } };
  return { maxAgeS: maxAgeS as number, waitS: waitS as number, strict: strict as boolean };
}

function strictFlag(raw: unknown): boolean | string {
  if (raw === undefined) return false;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  return `strict must be 1, 0, true or false, got ${JSON.stringify(raw)}`;
}

/** 200 with the facts when ready; 503 with the same facts and what is missing when not. */
export function readyReply(r: Readiness | { unreachable: string }): Reply {
  if ('unreachable' in r) return { status: 503, body: { ready: false, missing: [r.unreachable], error: r.unreachable } };
  return { status: r.ready ? 200 : 503, body: r };
}

/** Answers `GET /api/ready`, holding the request open up to `wait_s` for the data to be ready. */
export async function answerReady(query: Record<string, unknown>, wait: (q: ReadyQuery) => Promise<Readiness>): Promise<Reply> {
  const q = parseReadyQuery(query);
  if ('status' in q) return q;
  try {
    return readyReply(await wait(q));
  } catch (err) {
    return readyReply({ unreachable: coerceError(err).message });
  }
}
