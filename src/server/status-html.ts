import type { Availability, Incident } from '../availability.js';
import type { TimelinePoint } from '../health-timeline.js';
import type { SystemStatus } from '../ops.js';
import type { DeliveryRecord } from '../alerts/delivery-record.js';
import { renderChart } from './status-chart.js';
import { alertDeliveryNotes } from './status-alerts.js';
import { STATUS_COLORS, duration, esc, percent, utcDateTime } from './status-format.js';

export interface StatusPageModel {
  now: number;
  thresholds: { warningS: number; staleS: number; heartbeatTtlMs: number };
  /** Longest time one check speaks for. */
  maxGapMs: number;
  /** Null with `statusError` when Redis could not be read. */
  status: SystemStatus | null;
  statusError?: string;
  /** The last 24 h of checks, oldest first. */
  points: TimelinePoint[];
  day: Availability;
  week: Availability;
  /** Newest first, 7 days. */
  incidents: Incident[];
  /** Each alert destination's deliveries; empty when unknown. */
  alertDeliveries: DeliveryRecord[];
}

const DAY_MS = 24 * 3600 * 1000;
const MAX_INCIDENTS_SHOWN = 100;

function fact(label: string, value: string, note = ''): string {
  return `<div class="fact"><div class="label">${esc(label)}</div><div class="value">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

function current(m: StatusPageModel): string {
  const h = m.status?.health ?? null;
  if (h === null) {
    const why = m.statusError ? `Redis could not be read: ${m.statusError}` : 'No health check has run yet.';
    return `<section id="current" class="current unknown"><div class="big">UNKNOWN</div><p>${esc(why)}</p></section>`;
  }
  const cause = 'cause' in h ? ` <span class="cause">(${esc(h.cause)})</span>` : '';
  return `<section id="current" class="current ${h.status}" style="border-color:${STATUS_COLORS[h.status]}">
<div class="big" style="color:${STATUS_COLORS[h.status]}">${esc(h.status.toUpperCase())}${cause}</div>
<p class="message">${esc(h.message)}</p>
<p class="note">checked ${duration(m.now - h.checkedAt)} ago, at ${utcDateTime(h.checkedAt)} UTC</p></section>`;
}

function facts(m: StatusPageModel): string {
  const s = m.status;
  if (s === null) return '';
  const out: string[] = [];
  const scan = s.latestScan;
  const h = s.health;
  if (scan !== null && 'scanNumber' in scan) {
    out.push(
      fact('Data age', `${scan.ageS.toFixed(1)} s`, `read from Hazelcast now; warning past ${m.thresholds.warningS} s, stale past ${m.thresholds.staleS} s`),
    );
    out.push(
      fact('Last scan', `#${scan.scanNumber}`, `${esc(scan.timestamp)} · ${scan.assetCount} assets${scan.bridgeId ? ` · by ${esc(scan.bridgeId)}` : ''}`),
    );
  } else {
    const why = scan === null ? 'no scan in Hazelcast yet' : 'unusable' in scan ? `no usable scan in Hazelcast: ${scan.unusable}` : `Hazelcast: ${scan.error}`;
    const last = h?.dataAgeS != null ? `${h.dataAgeS.toFixed(1)} s at the last check` : 'unknown';
    out.push(fact('Data age', esc(last), esc(why)));
    out.push(fact('Last scan', h?.scanNumber != null ? `#${h.scanNumber}` : '–', 'as of the last check'));
  }
  const hb = s.bridge.heartbeat;
  if (hb !== null && m.now - hb.beatAt < m.thresholds.heartbeatTtlMs) {
    out.push(
      fact(
        'Active bridge',
        esc(hb.id),
        `up ${duration(m.now - hb.startedAt)} · run ${hb.generation} · pid ${hb.pid} on ${esc(hb.host)}${hb.watching ? '' : ' · not watching the folder'}`,
      ),
    );
  } else {
    out.push(fact('Active bridge', 'none', hb === null ? 'no heartbeat' : `last heartbeat ${duration(m.now - hb.beatAt)} ago from ${esc(hb.id)}`));
  }
  const lr = s.bridge.lastRestart;
  out.push(
    fact(
      'Restarts',
      String(s.bridge.restarts),
      lr ? `last: ${esc(lr.state)} ${duration(m.now - lr.at)} ago${lr.error ? ` (${esc(lr.error)})` : ''}` : 'none recorded',
    ),
  );
  return `<section id="facts" class="facts">${out.join('')}</section>`;
}

function slo(id: string, label: string, a: Availability): string {
  if (a.ratio === null) return fact(label, '–', 'no checks recorded yet');
  const notFresh = a.observedMs - a.freshMs;
  const over = a.observedMs < a.windowMs - 60_000 ? `over the ${duration(a.observedMs)} since the first check` : `over ${duration(a.windowMs)}`;
  const unmonitored = a.unmonitoredMs > 0 ? `, of which ${duration(a.unmonitoredMs)} without checks` : '';
  return `<div class="fact slo" id="${id}"><div class="label">${esc(label)}</div><div class="value">${percent(a.ratio)}</div><div class="note">${over}; not fresh for ${duration(notFresh)}${unmonitored}</div></div>`;
}

function incidentRows(m: StatusPageModel): string {
  if (m.incidents.length === 0) return '<p id="no-incidents">No incidents in the last 7 days: every check was healthy.</p>';
  const rows = m.incidents.slice(0, MAX_INCIDENTS_SHOWN).map((i) => {
    const end = i.end === null ? '<b>ongoing</b>' : `${utcDateTime(i.end)}`;
    const cause = i.status === 'unmonitored' ? 'no check recorded (scheduler, workers or Redis down)' : (i.cause ?? '–');
    return `<tr class="incident ${i.status}"><td><span class="dot" style="background:${STATUS_COLORS[i.status]}"></span>${esc(i.status)}</td><td>${esc(cause)}</td><td>${utcDateTime(i.start)}</td><td>${end}</td><td>${duration(i.durationMs)}</td><td>${i.checks}</td></tr>`;
  });
  const more =
    m.incidents.length > MAX_INCIDENTS_SHOWN
      ? `<p class="note">${m.incidents.length - MAX_INCIDENTS_SHOWN} older incidents not shown; all are in <a href="/api/availability">/api/availability</a>.</p>`
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
.alert-delivery.failing{color:#b91c1c}`;

/** The whole status page: no script, nothing fetched from elsewhere; it reloads itself every 30 s. */
export function renderStatusPage(m: StatusPageModel): string {
  const legend = (['healthy', 'warning', 'stale', 'down', 'error', 'unmonitored'] as const)
    .map((s) => `<span><span class="dot" style="background:${STATUS_COLORS[s]}"></span>${s}</span>`)
    .join('');
  const chart = renderChart({
    now: m.now,
    points: m.points,
    windowMs: DAY_MS,
    warningS: m.thresholds.warningS,
    staleS: m.thresholds.staleS,
    maxGapMs: m.maxGapMs,
  });
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>scan-bridge: ${esc(m.status?.health?.status ?? 'unknown')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="30">
<style>${STYLE}</style></head><body>
<h1>scan-bridge status</h1>
<nav><a href="/board/">Bull Board</a><a href="/api/availability">incidents and availability (JSON)</a><a href="/api/health?limit=100">last checks (JSON)</a><a href="/metrics">metrics</a></nav>
${current(m)}
${alertDeliveryNotes(m.now, m.alertDeliveries)}
${facts(m)}
<h2>Fresh-data availability</h2>
<p class="note">The share of time the data in Hazelcast was younger than DATA_WARNING_S (${m.thresholds.warningS} s), from the health checks.</p>
<section class="facts">${slo('slo-24h', 'last 24 h', m.day)}${slo('slo-7d', 'last 7 days', m.week)}</section>
<h2>Data age, last 24 h</h2>
<div class="legend">${legend}</div>
${chart}
<h2>Incidents, last 7 days</h2>
${incidentRows(m)}
<p class="note">Times in UTC. Page generated ${utcDateTime(m.now)} UTC; it reloads every 30 s.</p>
</body></html>
`;
}
