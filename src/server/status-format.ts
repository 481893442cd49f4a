import type { HealthStatus } from '../health.js';
import type { IncidentStatus } from '../availability.js';

export const STATUS_COLORS: Record<HealthStatus | IncidentStatus, string> = {
  healthy: '#16a34a',
  warning: '#d97706',
  stale: '#dc2626',
  down: '#7c3aed',
  error: '#111827',
  unmonitored: '#9ca3af',
};

/** The colour of a status; a grey for anything else (a value from a server is not trusted to be one). */
export function colorOf(status: string): string {
  return Object.hasOwn(STATUS_COLORS, status) ? STATUS_COLORS[status as HealthStatus | IncidentStatus] : STATUS_COLORS.unmonitored;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Any value read from a server, as text for HTML: whatever its type, it is escaped. */
export function txt(value: unknown): string {
  return esc(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
}

/** A number with `digits` decimals; anything else that claims to be one is shown escaped, as it is. */
export function num(value: unknown, digits = 1): string {
  if (typeof value === 'number') return Number.isFinite(value) ? value.toFixed(digits) : '–';
  return txt(value);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `HH:MM` (or `HH:MM:SS`) in UTC. */
export function utcTime(ms: number, seconds = false): string {
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds ? `:${pad(d.getUTCSeconds())}` : ''}`;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A duration for people: `42 s`, `5 min 3 s`, `2 h 15 min`, `3 d 4 h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A ratio as a percentage with enough digits for an SLO: 99.95 %, never rounded up to 100 %. */
export function percent(ratio: number): string {
  const p = Math.floor(ratio * 10000) / 100;
  return `${p.toFixed(2)} %`;
}
