import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** `{ error: { code, message } }`: the one error shape of every JSON route. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** Compares digests, so neither the length nor the content of the secret leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The user name of valid `Authorization: Basic` credentials, or undefined. */
export function basicUser(header: string | undefined, user: string, password: string): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const u = decoded.slice(0, colon);
  const p = decoded.slice(colon + 1);
  // Both compared whatever the first says, so a wrong user name answers as fast as a wrong password.
  const userOk = sameSecret(u, user);
  const passwordOk = sameSecret(p, password);
  return userOk && passwordOk ? u : undefined;
}

/**
 * HTTP Basic on every route it is mounted before. Browsers cache the credentials per origin,
 * which is what makes the cross-site guard below necessary.
 */
export function basicAuth(user: string, password: string, realm = 'scan-bridge'): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const who = basicUser(req.headers.authorization, user, password);
    if (who !== undefined) {
      res.locals.user = who;
      return next();
    }
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    sendError(res, 401, 'unauthorized', 'credentials required (BOARD_USER / BOARD_PASSWORD)');
  };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * Why a state-changing request looks cross-site, or undefined when it does not. Browsers send
 * `Sec-Fetch-Site` and `Origin` on every non-GET request; a client that sends neither (curl,
 * scripts, the CLI) is not a browser a foreign page can drive, so it passes.
 */
export function crossSiteReason(req: Pick<Request, 'headers'>): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`;
  const host = req.headers.host;
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    return hostOf(origin) === host ? undefined : `Origin ${origin} is not this server (${host ?? 'no Host'})`;
  }
  const referer = req.headers.referer;
  if (typeof referer === 'string') {
    return hostOf(referer) === host ? undefined : `Referer is not this server (${host ?? 'no Host'})`;
  }
  return undefined;
}

/** 403 for POST/PUT/PATCH/DELETE that come from another site. */
export function sameOriginOnly(): RequestHandler {
  return (req, res, next) => {
    if (isSafeMethod(req.method)) return next();
    const why = crossSiteReason(req);
    if (why === undefined) return next();
    sendError(res, 403, 'cross_site', `cross-site request refused: ${why}`);
  };
}

/** 403 for every state-changing request (BOARD_READ_ONLY). */
export function readOnly(): RequestHandler {
  return (req, res, next) => {
    if (isSafeMethod(req.method)) return next();
    sendError(res, 403, 'read_only', 'the board is read-only (BOARD_READ_ONLY=true)');
  };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host.trim());
}
