import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * `GET /history`: one self-contained page (inline script and SVG, nothing fetched from elsewhere:
 * the network may be closed) that plots the kept health history of the last 24 h.
 */
export function historyPage(): RequestHandler {
  return (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', `default-src 'self'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src 'self' data:`);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(PAGE.replace('__NONCE__', nonce));
  };
}

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>scan-bridge: health over 24 h</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2933; background: #fafbfc; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  #summary { margin: .3rem 0 1rem; }
  .legend span { display: inline-block; margin-right: 1rem; }
  .legend i { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; margin-right: .3rem; vertical-align: -1px; }
  svg { background: #fff; border: 1px solid #d9e2ec; max-width: 100%; height: auto; }
  a { color: #2563eb; }
  #error { color: #b91c1c; }
</style>
</head>
<body>
<h1>scan-bridge: data age and status, last 24 h</h1>
<div><a href="/board/">Bull Board</a> · <a href="/api/health?limit=2880">raw history (JSON)</a> · <a href="/metrics">metrics</a></div>
<p id="summary">loading…</p>
<p id="error"></p>
<div class="legend" id="legend"></div>
<svg id="plot" viewBox="0 0 1000 360" width="1000" height="360" role="img" aria-label="data age over the last 24 hours"></svg>
<script nonce="__NONCE__">
(function () {
  var COLORS = { healthy: '#16a34a', warning: '#d97706', stale: '#dc2626', down: '#7c3aed', error: '#111827' };
  var NS = 'http://www.w3.org/2000/svg';
  var W = 1000, H = 360, L = 60, R = 20, T = 20, B = 60, BAND = 14;
  var svg = document.getElementById('plot');
  var legend = document.getElementById('legend');
  Object.keys(COLORS).forEach(function (s) {
    var span = document.createElement('span');
    var dot = document.createElement('i');
    dot.style.background = COLORS[s];
    span.appendChild(dot);
    span.appendChild(document.createTextNode(s));
    legend.appendChild(span);
  });
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  }
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  function hhmm(ms) { var d = new Date(ms); return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2); }
  function draw(body) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var now = Date.now(), from = now - 24 * 3600 * 1000;
    var th = body.thresholds || { warningS: 30, staleS: 60 };
    var pts = body.history.filter(function (h) { return h.checkedAt >= from; }).reverse();
    var maxAge = th.staleS * 1.5;
    pts.forEach(function (p) { if (typeof p.dataAgeS === 'number' && p.dataAgeS > maxAge) maxAge = p.dataAgeS; });
    maxAge = Math.min(maxAge, th.staleS * 20);
    var step = niceStep(maxAge / 4);
    maxAge = Math.ceil(maxAge / step) * step;
    var plotH = H - T - B;
    function x(t) { return L + (t - from) / (now - from) * (W - L - R); }
    function y(a) { return T + plotH - Math.min(a, maxAge) / maxAge * plotH; }
    el('line', { x1: L, y1: T, x2: L, y2: T + plotH, stroke: '#bcccdc' });
    el('line', { x1: L, y1: T + plotH, x2: W - R, y2: T + plotH, stroke: '#bcccdc' });
    for (var a = 0; a <= maxAge + 1e-9; a += step) {
      el('line', { x1: L, x2: W - R, y1: y(a), y2: y(a), stroke: '#eef2f6' });
      el('text', { x: L - 6, y: y(a) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#52606d' }, a.toFixed(step < 1 ? 1 : 0) + ' s');
    }
    for (var hr = 0; hr <= 24; hr += 3) {
      var t = from + hr * 3600 * 1000;
      el('text', { x: x(t), y: T + plotH + BAND + 22, 'text-anchor': 'middle', 'font-size': 11, fill: '#52606d' }, hhmm(t));
    }
    [['warning', th.warningS], ['stale', th.staleS]].forEach(function (l) {
      el('line', { x1: L, x2: W - R, y1: y(l[1]), y2: y(l[1]), stroke: COLORS[l[0]], 'stroke-dasharray': '4 4', 'stroke-width': 1 });
      el('text', { x: W - R - 4, y: y(l[1]) - 4, 'text-anchor': 'end', 'font-size': 11, fill: COLORS[l[0]] }, l[0] + ' ' + l[1] + ' s');
    });
    el('text', { x: 12, y: T + plotH / 2, transform: 'rotate(-90 12 ' + (T + plotH / 2) + ')', 'text-anchor': 'middle', 'font-size': 12, fill: '#52606d' }, 'data age');
    var line = pts.filter(function (p) { return typeof p.dataAgeS === 'number'; }).map(function (p, i) { return (i ? 'L' : 'M') + x(p.checkedAt).toFixed(1) + ' ' + y(p.dataAgeS).toFixed(1); }).join(' ');
    if (line) el('path', { d: line, fill: 'none', stroke: '#9aa5b1', 'stroke-width': 1, class: 'age-line' });
    var bandW = Math.max(1, (W - L - R) / 2880);
    pts.forEach(function (p) {
      var c = COLORS[p.status] || '#9aa5b1';
      var title = new Date(p.checkedAt).toLocaleString() + ' ' + p.status + ': ' + p.message;
      el('rect', { x: x(p.checkedAt), y: T + plotH + 4, width: bandW, height: BAND, fill: c, class: 'band' }).appendChild(document.createElementNS(NS, 'title')).textContent = title;
      var cy = typeof p.dataAgeS === 'number' ? y(p.dataAgeS) : T;
      el('circle', { cx: x(p.checkedAt), cy: cy, r: 2.5, fill: c, class: 'point ' + p.status }).appendChild(document.createElementNS(NS, 'title')).textContent = title;
    });
    var counts = {};
    pts.forEach(function (p) { counts[p.status] = (counts[p.status] || 0) + 1; });
    var latest = body.latest;
    document.getElementById('summary').textContent = latest
      ? 'Now: ' + latest.status + ' (' + latest.message + '). ' + pts.length + ' checks in 24 h: ' + Object.keys(counts).map(function (s) { return counts[s] + ' ' + s; }).join(', ') + '.'
      : 'No health check has run yet.';
    svg.setAttribute('data-points', String(pts.length));
  }
  function load() {
    fetch('/api/health?limit=2880', { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('GET /api/health answered ' + r.status); return r.json(); })
      .then(function (b) { document.getElementById('error').textContent = ''; draw(b); })
      .catch(function (e) { document.getElementById('error').textContent = String(e.message || e); });
  }
  load();
  setInterval(load, 30000);
})();
</script>
</body>
</html>
`;
