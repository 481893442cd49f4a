import type { TimelinePoint } from '../health-timeline.js';
import { ageLine } from '../availability.js';
import { STATUS_COLORS, colorOf, esc, utcTime } from './status-format.js';

const W = 1000;
const H = 300;
const L = 56;
const R = 16;
const T = 16;
const B = 52;
const BAND = 12;
/** Room left of the first check, as a share of the span. */
const LEFT_PAD = 0.03;
const TIME_STEPS_MS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200].map((s) => s * 1000);

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

/**
 * The data age as a path, drawn as the availability figures count it (availability.ts, ageLine):
 * rising one second a second between checks that saw the same scan, dropping straight down when
 * a new scan replaced it. A check without an age, or a gap no check speaks for, breaks the line.
 */
function agePath(pts: readonly TimelinePoint[], warningS: number, maxGapMs: number, from: number, x: (t: number) => string, y: (a: number) => string): string {
  const out: string[] = [];
  const at = (t: number, a: number) => `${x(t)} ${y(Math.max(0, a))}`;
  let open = false;
  pts.forEach((p, i) => {
    if (p.a === null || p.t < from) {
      open = false;
      return;
    }
    if (!open) out.push(`M${at(p.t, p.a)}`);
    open = true;
    const q = pts[i + 1];
    if (q === undefined || q.a === null || q.t - p.t > maxGapMs) {
      open = false;
      return;
    }
    const { s1, s2, drop } = ageLine(p, q, warningS);
    if (drop !== null) {
      if (drop > p.t) out.push(`L${at(drop, (drop - s1!) / 1000)}`);
      out.push(`L${at(drop, (drop - s2!) / 1000)}`);
      if (s2! > drop) out.push(`L${at(s2!, 0)}`);
    }
    out.push(`L${at(q.t, q.a)}`);
  });
  // A path of moves alone draws nothing; it is left out.
  return out.some((part) => part.startsWith('L')) ? out.join(' ') : '';
}

export interface ChartInput {
  now: number;
  /** Oldest first. */
  points: readonly TimelinePoint[];
  /** The longest span shown. */
  windowMs: number;
  warningS: number;
  staleS: number;
  maxGapMs: number;
}

/**
 * Data age and status over time as inline SVG. The time axis runs from the first check (or the
 * window's start, whichever is later) to now; the age axis from 0 to the highest age seen, at
 * least past the stale line.
 */
export function renderChart(c: ChartInput): string {
  const first = c.points[0]?.t ?? c.now;
  // At least the time one check speaks for, so a single check is still a point in time.
  const fitted = Math.min(Math.max(first, c.now - c.windowMs), c.now - c.maxGapMs);
  const from = fitted > c.now - c.windowMs ? Math.max(c.now - c.windowMs, fitted - (c.now - fitted) * LEFT_PAD) : fitted;
  const span = c.now - from;
  const pts = c.points.filter((p) => p.t >= from - c.maxGapMs);
  let maxAge = c.staleS * 1.25;
  for (const p of pts) if (p.a !== null && p.a > maxAge) maxAge = p.a;
  maxAge = Math.min(maxAge, c.staleS * 20);
  const ageStep = niceStep(maxAge / 4);
  maxAge = Math.ceil(maxAge / ageStep) * ageStep;
  const plotH = H - T - B;
  const x = (t: number) => (L + ((Math.max(t, from) - from) / span) * (W - L - R)).toFixed(1);
  const y = (a: number) => (T + plotH - (Math.min(a, maxAge) / maxAge) * plotH).toFixed(1);
  const out: string[] = [];
  out.push(
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${T + plotH}" stroke="#bcccdc"/><line x1="${L}" y1="${T + plotH}" x2="${W - R}" y2="${T + plotH}" stroke="#bcccdc"/>`,
  );
  for (let a = 0; a <= maxAge + 1e-9; a += ageStep) {
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(a)}" y2="${y(a)}" stroke="#eef2f6"/><text x="${L - 6}" y="${Number(y(a)) + 4}" text-anchor="end" class="tick">${+a.toFixed(1)} s</text>`,
    );
  }
  const timeStep = TIME_STEPS_MS.find((s) => span / s <= 8) ?? TIME_STEPS_MS[TIME_STEPS_MS.length - 1]!;
  for (let t = Math.ceil(from / timeStep) * timeStep; t <= c.now; t += timeStep) {
    out.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${T}" y2="${T + plotH}" stroke="#f3f5f8"/><text x="${x(t)}" y="${T + plotH + BAND + 24}" text-anchor="middle" class="tick time">${timeStep < 60_000 ? utcTime(t, true) : utcTime(t)}</text>`,
    );
  }
  for (const [name, s] of [
    ['warning', c.warningS],
    ['stale', c.staleS],
  ] as const) {
    out.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(s)}" y2="${y(s)}" stroke="${STATUS_COLORS[name]}" stroke-dasharray="4 4"/><text x="${W - R - 4}" y="${Number(y(s)) - 4}" text-anchor="end" class="tick" fill="${STATUS_COLORS[name]}">${name} ${s} s</text>`,
    );
  }
  out.push(`<text x="12" y="${T + plotH / 2}" transform="rotate(-90 12 ${T + plotH / 2})" text-anchor="middle" class="tick">data age</text>`);
  // Each check colours the band until the next one, for at most the gap one check speaks for.
  pts.forEach((p, i) => {
    const end = Math.min(pts[i + 1]?.t ?? c.now, p.t + c.maxGapMs, c.now);
    if (end <= from) return;
    const x0 = Number(x(p.t));
    const w = Math.max(1, Number(x(end)) - x0);
    out.push(
      `<rect class="band ${esc(p.s)}" x="${x0.toFixed(1)}" y="${T + plotH + 4}" width="${w.toFixed(1)}" height="${BAND}" fill="${colorOf(p.s)}"><title>${esc(`${utcTime(p.t)} ${p.s}${p.c ? ` (${p.c})` : ''}`)}</title></rect>`,
    );
  });
  const line = agePath(pts, c.warningS, c.maxGapMs, from, x, y);
  if (line) out.push(`<path class="age-line" d="${line}" fill="none" stroke="#9aa5b1" stroke-width="1"/>`);
  // Dots only where they can be told apart; the line and band carry the rest.
  if (pts.length <= 600) {
    for (const p of pts) {
      // An unknown age has no place on the age axis; the band below shows that check.
      if (p.t < from || p.a === null) continue;
      out.push(
        `<circle class="point ${esc(p.s)}" cx="${x(p.t)}" cy="${y(p.a)}" r="2.5" fill="${colorOf(p.s)}"><title>${esc(`${utcTime(p.t)} ${p.s}${p.c ? ` (${p.c})` : ''}: data ${p.a} s old`)}</title></circle>`,
      );
    }
  }
  const label = `data age and status from ${utcTime(from)} to ${utcTime(c.now)} UTC`;
  return `<svg id="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)}" data-from="${from}" data-to="${c.now}" data-points="${pts.filter((p) => p.t >= from).length}">${out.join('')}</svg>`;
}
