import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { EventLog } from './helpers.js';

export interface Request {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  /** The status it was answered with; 0: never answered. */
  status: number;
  /** Epoch ms when it was received. */
  at: number;
  headers: Record<string, string | string[] | undefined>;
}

/** A reply: [status, body], or 'hang' to read the request and never answer it. */
export type Reply = [number, unknown?] | 'hang';

/**
 * A local HTTP receiver standing in for PagerDuty, chat webhooks and dead-man's-switch services.
 * Answers with `replies` in turn ([status, body], or 'hang': never), then with `then`: by
 * default 202 `{"status":"success"}` (PagerDuty's answer).
 */
export async function receiver(replies: Reply[] = [], then: Reply = [202, { status: 'success', message: 'Event processed' }]) {
  const requests = new EventLog<Request>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (b: Buffer) => (raw += b.toString()));
    req.on('end', () => {
      const reply = replies.shift() ?? then;
      const [status, body] = reply === 'hang' ? [0] : reply;
      const parsed = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
      requests.push({ method: req.method!, path: req.url!, body: parsed, status, at: Date.now(), headers: req.headers });
      if (reply !== 'hang') res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: (path = '/') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    requests,
    at: (path: string) => requests.events.filter((r) => r.path === path),
    async close() {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** A logger whose lines a test can read. */
export function capturedLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), messages: () => lines.map((l) => l.msg) };
}
