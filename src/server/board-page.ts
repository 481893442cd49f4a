import { Router } from 'express';

export const STATUS_PATH = '/status';

/**
 * Bull Board's own stylesheets and scripts only: its page links a public font service, which an
 * air-gapped host cannot reach and which would tell that service who opens the board. The link
 * is taken out (the UI falls back to the system's sans-serif) and the policy blocks anything else
 * from outside.
 */
const BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const STATUS_LINK = `<a id="scan-bridge-status-link" href="${STATUS_PATH}" style="position:fixed;right:1.2rem;bottom:1.2rem;z-index:1000;padding:.55rem .9rem;border-radius:6px;background:#1d4ed8;color:#fff;font:600 14px system-ui,sans-serif;text-decoration:none;box-shadow:0 2px 6px rgba(0,0,0,.25)">Status page: health, incidents, availability →</a>`;

const MARKS_SCRIPT = 'scan-bridge-marks.js';

/**
 * Colours the name lines that board-format.ts marks as unhealthy (✖ red, ▲ amber), wherever Bull
 * Board shows them. It looks only at text, not at Bull Board's markup, so a new Bull Board at
 * worst leaves the marks uncoloured.
 */
const MARKS_JS = `(function () {
  var COLORS = { '\u2716': ['#b91c1c', '#fee2e2'], '\u25B2': ['#b45309', '#fef3c7'] };
  function paint() {
    // React reuses elements: one that was marked and now reads healthy gets its own style back.
    document.querySelectorAll('[data-sb-mark]').forEach(function (el) {
      if (COLORS[(el.textContent || '').charAt(0)]) return;
      el.style.cssText = el.dataset.sbMark;
      delete el.dataset.sbMark;
    });
    var walker = document.createTreeWalker(document.getElementById('root') || document.body, NodeFilter.SHOW_TEXT);
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      var c = COLORS[n.data.charAt(0)];
      var el = n.parentElement;
      if (!c || !el || el.dataset.sbMark !== undefined) continue;
      el.dataset.sbMark = el.style.cssText;
      el.style.color = c[0];
      el.style.background = c[1];
      el.style.fontWeight = '700';
      el.style.padding = '0 .35em';
      el.style.borderRadius = '4px';
    }
  }
  var queued = false;
  new MutationObserver(function () {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () { queued = false; paint(); });
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  paint();
})();
`;

/** Rewrites Bull Board's HTML page as it is sent: no external links, the marks' colours, a link to the status page. */
export function rewriteBoardHtml(html: string): string {
  return html
    .replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '')
    .replace('</body>', `${STATUS_LINK}<script defer src="${MARKS_SCRIPT}"></script></body>`);
}

/**
 * Mounted before Bull Board: serves the marks' script, and every HTML page Bull Board sends goes
 * through {@link rewriteBoardHtml}.
 */
export function boardPageRewrite(): Router {
  const router = Router();
  router.get(`/${MARKS_SCRIPT}`, (_req, res) => void res.type('application/javascript').setHeader('Cache-Control', 'no-cache').send(MARKS_JS));
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const send = res.send.bind(res);
    res.send = ((body?: unknown) => {
      if (typeof body === 'string' && /^\s*<!DOCTYPE html/i.test(body)) {
        res.setHeader('Content-Security-Policy', BOARD_CSP);
        return send(rewriteBoardHtml(body));
      }
      return send(body);
    }) as typeof res.send;
    next();
  });
  return router;
}
