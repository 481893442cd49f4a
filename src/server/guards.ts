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
 * which is what makes the cross-site guard below necessary. Logins are throttled per client
 * address (login-throttle.ts): past the limit each waits its turn before its credentials are
 * checked, so guesses stay at the configured rate while a right password among them still gets
 * in; past a window's worth of waiting, 429. Failed logins are logged with the client address,
 * which is `req.ip`: the socket's peer, or with BOARD_TRUST_PROXY what a trusted proxy says.
 */
export function basicAuth(user: string, password: string, guard: LoginGuard, realm = 'scan-bridge'): RequestHandler {
  const { throttle, log } = guard;
  const spacingS = +(throttle.spacingMs / 1000).toFixed(1);
  const windowS = Math.round(throttle.windowMs / 1000);
  const challenge = (res: Response) => {
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    sendError(res, 401, 'unauthorized', 'credentials required (BOARD_USER / BOARD_PASSWORD)');
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    // No Authorization header is a browser's first request before it asks, not a login.
    if (header === undefined) return challenge(res);
    const address = clientAddress(req.ip);
    const turn = throttle.admit(address, Date.now());
    if ('refusedForMs' in turn) {
      const retryS = Math.ceil(turn.refusedForMs / 1000);
      res.setHeader('Retry-After', String(retryS));
      return sendError(res, 429, 'too_many_logins', `too many logins waiting from ${address}; try again in ${retryS} s`);
    }
    if (turn.waitMs > 0 && !(await waitUnlessGone(req, turn.waitMs))) {
      throttle.refund(address);
      return;
    }
    const who = basicUser(header, user, password);
    if (who !== undefined) {
      throttle.refund(address);
      res.locals.user = who;
      return next();
    }
    const throttled = throttle.throttled(address, Date.now());
    log.warn(
      { client: address, throttled, limit: throttle.limit },
      throttled
        ? `board login failed from ${address}: past ${throttle.limit} in ${windowS} s, its logins are checked one per ${spacingS} s, in turn`
        : `board login failed from ${address}`,
    );
    challenge(res);
  };
}

/** Waits `ms`; false when the client went away meanwhile. */
function waitUnlessGone(req: Request, ms: number): Promise<boolean> {
  return new Promise((ok) => {
    const gone = () => {
      clearTimeout(timer);
      ok(false);
    };
    const timer = setTimeout(() => {
      req.socket.off('close', gone);
      ok(true);
    }, ms);
    req.socket.once('close', gone);
  });
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
