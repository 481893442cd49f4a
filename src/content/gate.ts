/**
 * Content warnings in the wait gates (ready/decide.ts): always reported beside freshness; in
 * strict mode only, a standing content warning makes the data not ready.
 */
import type { HealthResult } from '../health.js';
import type { ContentWarning } from './rules.js';

/** The live health entry's content warnings, and what strict mode finds missing, if anything. */
export function contentGate(health: HealthResult | null, strict: boolean): { content: ContentWarning[]; missing?: string } {
  const content = health?.content ?? [];
  if (!strict || content.length === 0) return { content };
  return { content, missing: `content warning (strict): ${content.map((w) => w.message).join('; ')}` };
}
