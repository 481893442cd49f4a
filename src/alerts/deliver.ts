/**
 * One HTTP request to an alert destination, bounded in time, its outcome in words. Names and
 * reasons never carry a secret: a destination is named by its role and host only (a chat
 * webhook's path and query are its credentials), and a URL's user and password travel as a
 * Basic Authorization header, never in a log line.
 */

/** Where alerts go: a name for people (role and host) and what a request needs. */
export interface Destination {
  /** E.g. "chat webhook 2 of 3 (hooks.slack.com)": safe for logs, metrics and the status page. */
  name: string;
  /** The URL without its user and password. */
  url: string;
  headers: Record<string, string>;
}

export function destination(role: string, url: string): Destination {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    // fetch refuses a URL with credentials: send them as HTTP itself does.
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { name: `${role} (${u.host})`, url: u.href, headers };
}

/** A try's outcome: accepted, or why not and whether trying again may help. */
export type Outcome = { ok: true } | { ok: false; reason: string; retry: boolean };

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** What the receiver said, briefly: PagerDuty's `message` and `errors`, or the start of the body. */
function said(text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(j.errors) ? ` (${j.errors.map(String).join('; ')})` : '';
    if (typeof j.message === 'string') return `${j.message}${errors}`;
    if (typeof j === 'object' && j !== null && Object.keys(j).length === 0) return '';
  } catch {
    // not JSON: the raw text
  }
  return text.slice(0, 300);
}

/** A failed request in words, from its error code; never the driver's message, which may hold the URL. */
function inWords(err: unknown, host: string): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const raw = e?.cause?.code ?? e?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (code === 'ECONNREFUSED') return `connection refused: nothing listens at ${host}`;
  if (code === 'ENOTFOUND') return `host name ${host} not found`;
  if (code === 'EAI_AGAIN') return `host name ${host} could not be looked up (DNS does not answer)`;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'the connection was closed before an answer came';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return `could not connect to ${host} in time`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no network route to ${host}`;
  if (/CERT|TLS|SSL|SELF_SIGNED/.test(code)) return `its TLS certificate was not accepted (${code})`;
  return code ? `the request failed (${code})` : 'the request failed';
}

/**
 * One request: an answer within `timeoutMs` (the body read included), or a timeout. The timer
 * holds its own controller, and the race ends the wait even if the request ignored its abort: a
 * timeout signal combined with AbortSignal.any() was lost to garbage collection on Node 20, and
 * a webhook that never answered then held its alert for ever.
 */
export async function attempt(d: Destination, init: { method: 'GET' | 'POST'; body?: string }, timeoutMs: number, stop?: AbortSignal): Promise<Outcome> {
  const ctl = new AbortController();
  const onStop = () => ctl.abort();
  stop?.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((ok) => {
    timer = setTimeout(() => {
      ctl.abort();
      ok({ ok: false, reason: `no answer within ${seconds(timeoutMs)}`, retry: true });
    }, timeoutMs);
  });
  const host = new URL(d.url).host;
  const request = (async (): Promise<Outcome> => {
    try {
      const headers = { ...d.headers, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) };
      const res = await fetch(d.url, { method: init.method, headers, body: init.body, signal: ctl.signal });
      const text = said(await res.text());
      if (res.ok) return { ok: true };
      const reason = `answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text}` : ''}`;
      // A 4xx other than 429: the receiver read the request and refused it; the same again would be refused too.
      return { ok: false, reason, retry: res.status === 429 || res.status >= 500 };
    } catch (err) {
      if (stop?.aborted) return { ok: false, reason: 'the process stopped before an answer came', retry: false };
      return { ok: false, reason: inWords(err, host), retry: true };
    }
  })();
  try {
    return await Promise.race([request, timedOut]);
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}
