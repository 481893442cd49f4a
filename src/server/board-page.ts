import type { RequestHandler } from 'express';

export const STATUS_PATH = '/status';

/**
 * Bull Board's own stylesheets and scripts only: its page links a public font service, which an
 * air-gapped host cannot reach and which would tell that service who opens the board. The link
 * is taken out (the UI falls back to the system's sans-serif) and the policy blocks anything else
 * from outside.
 */
const BOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const STATUS_LINK = `<a id="scan-bridge-status-link" href="${STATUS_PATH}" style="position:fixed;right:1.2rem;bottom:1.2rem;z-index:1000;padding:.55rem .9rem;border-radius:6px;background:#1d4ed8;color:#fff;font:600 14px system-ui,sans-serif;text-decoration:none;box-shadow:0 2px 6px rgba(0,0,0,.25)">Status page: health, incidents, availability →</a>`;

/** Rewrites Bull Board's HTML page as it is sent: no external links, and a link to the status page. */
export function rewriteBoardHtml(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '').replace('</body>', `${STATUS_LINK}</body>`);
}

/** Mounted before Bull Board: every HTML page it sends goes through {@link rewriteBoardHtml}. */
export function boardPageRewrite(): RequestHandler {
  return (req, res, next) => {
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
  };
}
