/**
 * Content warnings in the health decision (health.ts): every result carries the content warnings
 * standing (`content`), and a result that is otherwise healthy, or only warns of aging data,
 * becomes a content warning. Freshness problems (stale, down, error), a bridge starting and a
 * clock off keep their status: they say more about whether the data can be used at all.
 */
import type { HealthFacts, HealthResult } from '../health.js';
import type { ContentCause, ContentWarning } from './rules.js';

/** A scan's content looks wrong while the data is fresh: reported and alerted, never restarted for. */
export interface ContentWarningResult extends HealthFacts {
  status: 'warning';
  cause: ContentCause;
  action: 'none';
}

export function withContent(r: HealthResult, warnings: ContentWarning[] | undefined): HealthResult {
  if (warnings === undefined) return r;
  const first = warnings[0];
  const plain = r.status === 'healthy' || (r.status === 'warning' && !('cause' in r));
  if (!first || !plain) return { ...r, content: warnings };
  const data = r.dataAgeS === null ? '' : ` (data is ${r.dataAgeS.toFixed(1)} s old, scan #${r.scanNumber})`;
  const result: ContentWarningResult = {
    ...r,
    status: 'warning',
    cause: first.cause,
    action: 'none',
    content: warnings,
    message: `${warnings.map((w) => w.message).join('; ')}${data}: a restart cannot fix a scanner; a person should look at the scanner`,
  };
  return result;
}
