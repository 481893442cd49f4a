import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log.js';
import { clientAddress, type LoginThrottle } from './login-throttle.js';
import { hostAllowed } from './hosts.js';

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

export interface LoginGuard {
  throttle: LoginThrottle;
  log: Logger;
}

/**
 * HTTP Basic on every route it is mounted before. Browsers cache the credentials per origin,
 * which is what makes the cross-site guard below necessary. Failed logins are logged with the
 * client address and throttled per address: while an address is blocked, every request from it
 * is answered 429 before its credentials are looked at, so a right guess among them is not told
 * apart from a wrong one.
 */
export function basicAuth(user: string, password: string, guard: LoginGuard, realm = 'scan-bridge'): RequestHandler {
  const { throttle, log } = guard;
  return (req: Request, res: Response, next: NextFunction) => {
    const address = clientAddress(req.socket.remoteAddress);
    const waitMs = throttle.blockedForMs(address, Date.now());
    if (waitMs > 0) {
      res.setHeader('Retry-After', String(Math.ceil(waitMs / 1000)));
      return sendError(res, 429, 'too_many_logins', `too many failed logins from ${address}; try again in ${Math.ceil(waitMs / 1000)} s`);
    }
    const header = req.headers.authorization;
    const who = basicUser(header, user, password);
    if (who !== undefined) {
      throttle.succeeded(address);
      res.locals.user = who;
      return next();
    }
    // No Authorization header is a browser's first request before it asks, not a failed login.
    if (header !== undefined) {
      const { failures, blocked } = throttle.failed(address, Date.now());
      const windowS = Math.round(throttle.windowMs / 1000);
      log.warn(
        { client: address, failures, limit: throttle.limit },
        blocked
          ? `board login failed from ${address}: ${failures} failures, so every request from ${address} is refused (429) for ${windowS} s`
          : `board login failed from ${address} (${failures} of ${throttle.limit} allowed in ${windowS} s)`,
      );
    }
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    sendError(res, 401, 'unauthorized', 'credentials required (BOARD_USER / BOARD_PASSWORD)');
  };
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Why a state-changing request looks cross-site, or undefined when it does not. Browsers send
 * `Sec-Fetch-Site` and `Origin` on every non-GET request; a client that sends neither (curl,
 * scripts, the CLI) is not a browser a foreign page can drive, so it passes. The origin is
 * compared whole: scheme, host and port, so a page of `https://` this host is another site.
 */
export function crossSiteReason(req: Pick<Request, 'headers' | 'protocol'>): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`;
  const host = req.headers.host;
  const own = host === undefined ? undefined : originOf(`${req.protocol}://${host}`);
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    return own !== undefined && originOf(origin) === own ? undefined : `Origin ${origin} is not this server (${own ?? 'no Host'})`;
  }
  const referer = req.headers.referer;
  if (typeof referer === 'string') {
    return own !== undefined && originOf(referer) === own ? undefined : `Referer is not this server (${own ?? 'no Host'})`;
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

/**
 * 421 for a request whose `Host` is not one of ours. Without a login this is what stops DNS
 * rebinding: a foreign page whose name now points at 127.0.0.1 reaches the socket, but its
 * requests still carry its own name.
 */
export function allowedHostsOnly(allowed: readonly string[]): RequestHandler {
  return (req, res, next) => {
    if (hostAllowed(req.headers.host, allowed, req.socket.localPort ?? 0)) return next();
    sendError(
      res,
      421,
      'host_not_allowed',
      `Host ${JSON.stringify(req.headers.host ?? '')} is not in BOARD_ALLOWED_HOSTS (${allowed.join(', ')}); without a login the board answers only to those names`,
    );
  };
}
