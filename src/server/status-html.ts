import type { Availability, Incident } from '../availability.js';
import { ageStatus } from '../availability.js';
import type { TimelinePoint } from '../health-timeline.js';
import type { HistoryReset } from '../history-reset.js';
import { STATUSES, type HealthResult, type HealthStatus } from '../health.js';
import type { LatestScanView } from '../ops.js';
import type { StatusView, ServerView } from './status-read.js';
import type { DeliveryRecord } from '../alerts/delivery-record.js';
import { alertDeliveryNotes } from './status-alerts.js';
import { renderChart } from './status-chart.js';
import { colorOf, duration, esc, num, percent, txt, utcDateTime, utcTime } from './status-format.js';

/** From Redis's health timeline; what the page shows of the history. */
export interface HistoryModel {
  /** When checks began under this prefix: the history is kept from then. */
  since: number | null;
  /** The last time Redis was found to have lost the history. */
  reset: HistoryReset | null;
  /** The last 24 h of checks, oldest first. */
  points: TimelinePoint[];
  day: Availability;
  week: Availability;
  /** Newest first, 7 days. */
  incidents: Incident[];
}

export interface StatusPageModel {
  now: number;
  thresholds: { warningS: number; staleS: number; heartbeatTtlMs: number };
  /** Longest time one check speaks for. */
  maxGapMs: number;
  servers: StatusView['servers'];
  /** Read from Hazelcast now; null when there is none or Hazelcast is unreachable. */
  scan: LatestScanView | null;
  /** Why the value in Hazelcast is no usable scan, when it is not. */
  unusable: string | null;
  /** Each alert destination's deliveries; empty when unknown (Redis unreachable). */
  alertDeliveries: DeliveryRecord[];
  /** Read from Redis now; null while Redis is unreachable. */
  facts: StatusView['facts'];
  /** Null while Redis is unreachable. */
  history: HistoryModel | null;
}

const DAY_MS = 24 * 3600 * 1000;
const MAX_INCIDENTS_SHOWN = 100;

function fact(label: string, value: string, note = ''): string {
  return `<div class="fact"><div class="label">${esc(label)}</div><div class="value">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

const isStatus = (s: unknown): s is HealthStatus => typeof s === 'string' && (STATUSES as readonly string[]).includes(s);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Statuses that follow from the data age alone, so a live data age can stand in for them. */
function byAgeOnly(h: HealthResult): boolean {
  const cause = 'cause' in h ? h.cause : undefined;
  return (
    h.status === 'healthy' ||
    (h.status === 'warning' && cause === undefined) ||
    (h.status === 'stale' && (cause === 'bridge_behind' || cause === 'scanner_silent'))
  );
}

/** The check's own sentence, but an unreachable server in words: its message carries the driver's error text. */
function checkMessage(h: HealthResult): string {
  if (h.status !== 'error') return txt(h.message);
  return h.cause === 'redis_unreachable' ? 'The health check could not reach Redis.' : 'The health check could not reach Hazelcast.';
}

interface Banner {
  status: HealthStatus | 'unknown';
  cause?: string;
  /** Live: from the data age read now; otherwise as of the last check. */
  basis: 'live' | 'last-check' | 'none';
  lines: string[];
}

/**
 * What the big banner says. A status that follows from the data age alone is judged live from the
 * age read now, so it always agrees with the data-age card; any other (down, error, starting,
 * clock skew) is the last check's, and says so.
 */
function banner(m: StatusPageModel): Banner {
  const raw = m.facts?.health ?? null;
  const h = raw !== null && isStatus(raw.status) && finite(raw.checkedAt) ? raw : null;
  const unreadable = raw !== null && h === null;
  const lastCheck = h ? `the last check, ${duration(m.now - h.checkedAt)} ago at ${utcTime(h.checkedAt, true)} UTC` : '';
  const cause = (r: HealthResult) => ('cause' in r ? txt(r.cause) : undefined);
  const age = m.scan !== null && finite(m.scan.ageS) ? m.scan.ageS : null;
  if (h && !byAgeOnly(h)) {
    return { status: h.status, cause: cause(h), basis: 'last-check', lines: [checkMessage(h), `as of ${lastCheck}`] };
  }
  if (age !== null) {
    const live = ageStatus(age, m.thresholds);
    const same = h !== null && h.status === live;
    const verdict =
      live === 'healthy'
        ? 'fresh'
        : live === 'warning'
          ? `past the ${m.thresholds.warningS} s warning threshold`
          : `past the ${m.thresholds.staleS} s stale threshold`;
    return {
      status: live,
      ...(same && h ? { cause: cause(h) } : {}),
      basis: 'live',
      lines: [
        `Data ${num(age)} s old (scan #${txt(m.scan!.scanNumber)}): ${verdict}.`,
        `live: the data age read from Hazelcast now${h ? `; ${lastCheck} said ${esc(h.status)}${same ? '' : ` (${checkMessage(h)})`}` : ''}`,
      ],
    };
  }
  if (h) return { status: h.status, cause: cause(h), basis: 'last-check', lines: [checkMessage(h), `as of ${lastCheck}`] };
  if (unreadable)
    return { status: 'unknown', basis: 'none', lines: [`The last check is not one this version reads (status ${txt(raw.status)}).`, txt(raw.message)] };
  const why = m.facts === null ? 'Neither the data age nor a health check can be read now.' : 'No health check has run yet and there is no scan in Hazelcast.';
  return { status: 'unknown', basis: 'none', lines: [why] };
}

function current(b: Banner): string {
  const color = colorOf(b.status);
  const cause = b.cause !== undefined ? ` <span class="cause">(${b.cause})</span>` : '';
  const [first, ...rest] = b.lines;
  return `<section id="current" class="current ${b.status}" data-basis="${b.basis}" style="border-color:${color}">
<div class="big" style="color:${color}">${esc(b.status.toUpperCase())}${cause}</div>
<p class="message">${first ?? ''}</p>${rest.map((l) => `<p class="note basis">${l}</p>`).join('')}</section>`;
}

function outage(id: string, name: string, v: ServerView): string {
  if (v.reachable) return '';
  const since = v.since === null ? '' : ` since ${utcDateTime(v.since)} UTC (${duration(Date.now() - v.since)})`;
  return `<div class="outage" id="outage-${id}"><b>${esc(name)} unreachable${since}</b>: ${esc(v.message)}.</div>`;
}

function scanFacts(m: StatusPageModel): string[] {
  const h = m.facts?.health ?? null;
  const scan = m.scan;
  const limits = `warning past ${m.thresholds.warningS} s, stale past ${m.thresholds.staleS} s`;
  if (scan !== null) {
    return [
      fact('Data age', `${num(scan.ageS)} s`, `read from Hazelcast now; ${limits}`),
      fact(
        'Last scan',
        `#${txt(scan.scanNumber)}`,
        `${txt(scan.timestamp)} · ${txt(scan.assetCount)} assets${scan.bridgeId ? ` · by ${txt(scan.bridgeId)}` : ''}`,
      ),
    ];
  }
  const why =
    m.unusable !== null
      ? `no usable scan in Hazelcast: ${txt(m.unusable)}`
      : m.servers.hazelcast.reachable
        ? 'no scan in Hazelcast yet'
        : 'Hazelcast unreachable';
  const checked = h !== null && finite(h.checkedAt) ? ` (${utcTime(h.checkedAt, true)} UTC)` : '';
  const last = h?.dataAgeS != null ? `${num(h.dataAgeS)} s at the last check` : 'unknown';
  return [
    fact('Data age', last, `${why}; ${limits}`),
    fact('Last scan', h?.scanNumber != null ? `#${txt(h.scanNumber)}` : '–', `as of the last check${checked}`),
  ];
}

function bridgeFacts(m: StatusPageModel): string[] {
  const s = m.facts;
  if (s === null) return [];
  const out: string[] = [];
  const hb = s.bridge.heartbeat;
  if (hb !== null && finite(hb.beatAt) && m.now - hb.beatAt < m.thresholds.heartbeatTtlMs) {
    out.push(
      fact(
        'Active bridge',
        txt(hb.id),
        `up ${finite(hb.startedAt) ? duration(m.now - hb.startedAt) : txt(hb.startedAt)} · run ${txt(hb.generation)} · pid ${txt(hb.pid)} on ${txt(hb.host)}${hb.watching ? '' : ' · not watching the folder'}`,
      ),
    );
  } else {
    out.push(
      fact(
        'Active bridge',
        'none',
        hb === null ? 'no heartbeat' : `last heartbeat ${finite(hb.beatAt) ? duration(m.now - hb.beatAt) : '?'} ago from ${txt(hb.id)}`,
      ),
    );
  }
  const lr = s.bridge.lastRestart;
  out.push(
    fact(
      'Restarts',
      txt(s.bridge.restarts),
      lr ? `last: ${txt(lr.state)} ${finite(lr.at) ? duration(m.now - lr.at) : '?'} ago${lr.error ? ` (${txt(lr.error)})` : ''}` : 'none recorded',
    ),
  );
  return out;
}

/** Since when the history is kept, and a reset Redis lost it in, with both times. */
function historyStart(h: HistoryModel): string {
  const since = h.since === null ? '' : `<p class="note" id="history-since">Checks kept since ${utcDateTime(h.since)} UTC.</p>`;
  if (h.reset === null) return since;
  return `${since}<p class="outage" id="history-reset">The health history began again at ${utcDateTime(h.reset.at)} UTC: Redis had lost it (restarted without its data?), and the checks from ${utcDateTime(h.reset.lostSince)} UTC until then are gone. The figures, chart and incidents below start again there. Run Redis with persistence (docs/operations.md, Redis for production).</p>`;
}

function slo(id: string, label: string, a: Availability): string {
  if (a.ratio === null) return fact(label, '–', 'no checks recorded yet');
  const notFresh = a.observedMs - a.freshMs;
  const over = a.observedMs < a.windowMs - 60_000 ? `over the ${duration(a.observedMs)} since the first scan` : `over ${duration(a.windowMs)}`;
  const unmonitored = a.unmonitoredMs > 0 ? `, of which ${duration(a.unmonitoredMs)} without checks` : '';
  return `<div class="fact slo" id="${id}"><div class="label">${esc(label)}</div><div class="value">${percent(a.ratio)}</div><div class="note">${over}; not fresh for ${duration(notFresh)}${unmonitored}</div></div>`;
}

function incidentRows(list: readonly Incident[]): string {
  if (list.length === 0) return '<p id="no-incidents">No incidents in the last 7 days: every check was healthy.</p>';
  const rows = list.slice(0, MAX_INCIDENTS_SHOWN).map((i) => {
    const end = i.end === null ? '<b>ongoing</b>' : `${utcDateTime(i.end)}`;
    const cause = i.status === 'unmonitored' ? 'no check recorded (scheduler, workers or Redis down)' : (i.cause ?? '–');
    return `<tr class="incident ${esc(i.status)}"><td><span class="dot" style="background:${colorOf(i.status)}"></span>${esc(i.status)}</td><td>${esc(cause)}</td><td>${utcDateTime(i.start)}</td><td>${end}</td><td>${duration(i.durationMs)}</td><td>${i.checks}</td></tr>`;
  });
  const more =
    list.length > MAX_INCIDENTS_SHOWN
      ? `<p class="note">${list.length - MAX_INCIDENTS_SHOWN} older incidents not shown; all are in <a href="/api/availability">/api/availability</a>.</p>`
      : '';
  return `<table id="incidents"><thead><tr><th>status</th><th>cause</th><th>start (UTC)</th><th>end (UTC)</th><th>duration</th><th>checks</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem auto;max-width:1060px;padding:0 1rem;color:#1f2933;background:#fafbfc}
h1{font-size:1.2rem;margin:0 0 .4rem}h2{font-size:1rem;margin:1.6rem 0 .5rem}
nav a{margin-right:1rem}a{color:#2563eb}
.current{border:3px solid #9ca3af;border-radius:8px;background:#fff;padding:1rem 1.3rem;margin:1rem 0}
.current .big{font-size:3rem;font-weight:700;letter-spacing:.04em;line-height:1.1}
.current .cause{font-size:1.3rem;font-weight:500;letter-spacing:0}
.current .message{font-size:1.05rem;margin:.5rem 0 .2rem}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:.7rem}
.fact{background:#fff;border:1px solid #d9e2ec;border-radius:6px;padding:.6rem .8rem}
.fact .label{font-size:.8rem;color:#52606d;text-transform:uppercase;letter-spacing:.05em}
.fact .value{font-size:1.6rem;font-weight:600;margin:.15rem 0;word-break:break-all}
.note{font-size:.85rem;color:#52606d}
svg{background:#fff;border:1px solid #d9e2ec;max-width:100%;height:auto}svg .tick{font-size:11px;fill:#52606d}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #e4e7eb;font-size:.9rem}
.dot{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.4rem;vertical-align:-1px}
.legend span{margin-right:1rem;font-size:.85rem}
.outage{background:#fef2f2;border:2px solid #dc2626;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
.alert-delivery.failing{color:#b91c1c}`;

/** The whole status page: no script, nothing fetched from elsewhere; it reloads itself every 30 s. Every value read from a server is escaped. */
export function renderStatusPage(m: StatusPageModel): string {
  const legend = (['healthy', 'warning', 'stale', 'down', 'error', 'unmonitored'] as const)
    .map((s) => `<span><span class="dot" style="background:${colorOf(s)}"></span>${s}</span>`)
    .join('');
  const b = banner(m);
  const noHistory = '<p class="note">The history is kept in Redis, which is unreachable now.</p>';
  const h = m.history;
  const chart = h
    ? renderChart({ now: m.now, points: h.points, windowMs: DAY_MS, warningS: m.thresholds.warningS, staleS: m.thresholds.staleS, maxGapMs: m.maxGapMs })
    : noHistory;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>scan-bridge: ${esc(b.status)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="30">
<style>${STYLE}</style></head><body>
<h1>scan-bridge status</h1>
<nav><a href="/board/">Bull Board</a><a href="/api/availability">incidents and availability (JSON)</a><a href="/api/health?limit=100">last checks (JSON)</a><a href="/metrics">metrics</a></nav>
${outage('redis', 'Redis', m.servers.redis)}${outage('hazelcast', 'Hazelcast', m.servers.hazelcast)}
${current(b)}
${alertDeliveryNotes(m.now, m.alertDeliveries)}
<section id="facts" class="facts">${[...scanFacts(m), ...bridgeFacts(m)].join('')}</section>
<h2>Fresh-data availability</h2>
<p class="note">The share of time the data in Hazelcast was younger than DATA_WARNING_S (${m.thresholds.warningS} s), from the health checks.</p>
${h ? historyStart(h) : ''}
${h ? `<section class="facts">${slo('slo-24h', 'last 24 h', h.day)}${slo('slo-7d', 'last 7 days', h.week)}</section>` : noHistory}
<h2>Data age, last 24 h</h2>
<div class="legend">${legend}</div>
${chart}
<h2>Incidents, last 7 days</h2>
${h ? incidentRows(h.incidents) : noHistory}
<p class="note">Times in UTC. Page generated ${utcDateTime(m.now)} UTC; it reloads every 30 s.</p>
</body></html>
`;
}
