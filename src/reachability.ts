/**
 * Whether this process reaches Redis and Hazelcast, told in the log only as it changes: one
 * warning when a server becomes unreachable, a reminder every OUTAGE_REMINDER_MS while it stays
 * so, one line when it is back with how long it was gone (whole milliseconds). Every connection
 * and client of every role in the process reports here, so an outage is told once per process
 * however many connections retry; their own per-attempt errors go to debug.
 *
 * A server counts as reachable while any of its connections is ready, and as unreachable once a
 * connection fails while none is ready (a connection that closes and reconnects at once is no
 * outage). Lines are written only once `start` called {@link reportReachability}: commands stay quiet.
 */
import type { Logger } from './log.js';

export type Server = 'redis' | 'hazelcast';

const NAMES: Record<Server, string> = { redis: 'Redis', hazelcast: 'Hazelcast' };

/** What one connection or client tells. */
export interface Member {
  /** Connected and answering. */
  up(): void;
  /** Not connected; `reason` (in words): an attempt to connect failed. */
  down(reason?: string): void;
  /** Closed for good by its owner. */
  leave(): void;
}

interface Sink {
  log: Logger;
  reminderMs: number;
}

let sink: Sink | null = null;

class ServerState {
  private readonly ready = new Map<object, boolean>();
  private downSince: number | null = null;
  /** Epoch ms when the server was last reachable again after an outage; null: none seen. */
  backAt: number | null = null;
  private reminder: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: Server,
    private target: string,
  ) {}

  join(target: string): Member {
    this.target = target;
    const key = {};
    this.ready.set(key, false);
    return {
      up: () => {
        this.ready.set(key, true);
        if (this.downSince !== null) this.back();
      },
      down: (reason) => {
        if (!this.ready.has(key)) return;
        this.ready.set(key, false);
        if (reason !== undefined && this.downSince === null && ![...this.ready.values()].some(Boolean)) this.gone(reason);
      },
      leave: () => {
        this.ready.delete(key);
        if (this.ready.size === 0) this.forget();
      },
    };
  }

  private gone(reason: string): void {
    const since = (this.downSince = Date.now());
    const fields = { server: this.server, target: this.target, since: new Date(since).toISOString() };
    sink?.log.warn(
      { ...fields, event: 'unreachable', reason },
      `${NAMES[this.server]} at ${this.target} is unreachable (${reason}): retrying until it is back`,
    );
    if (!sink) return;
    this.reminder = setInterval(() => {
      const downMs = Date.now() - since;
      sink?.log.warn(
        { ...fields, event: 'still_unreachable', downMs },
        `${NAMES[this.server]} at ${this.target} still unreachable, for ${downMs} ms (since ${fields.since})`,
      );
    }, sink.reminderMs);
    this.reminder.unref();
  }

  private back(): void {
    this.backAt = Date.now();
    const downMs = this.backAt - this.downSince!;
    sink?.log.info(
      { server: this.server, target: this.target, event: 'reachable', downMs },
      `${NAMES[this.server]} reachable again after ${downMs} ms (${this.target})`,
    );
    this.forget();
  }

  private forget(): void {
    this.downSince = null;
    clearInterval(this.reminder);
  }
}

const states: Record<Server, ServerState> = { redis: new ServerState('redis', ''), hazelcast: new ServerState('hazelcast', '') };

/** A new connection or client of `server` (at `target`, as logs may name it). */
export function joinReachability(server: Server, target: string): Member {
  return states[server].join(target);
}

/** How long ago `server` was reachable again after its last outage seen by this process, ms; null: none seen. */
export function backAgoMs(server: Server, now = Date.now()): number | null {
  const at = states[server].backAt;
  return at === null ? null : now - at;
}

/** From now on this process logs its servers' outages (`start` calls it once). */
export function reportReachability(log: Logger, reminderMs: number): void {
  sink = { log, reminderMs };
}

const IN_WORDS: Array<[RegExp, string]> = [
  [/ECONNREFUSED/, 'connection refused'],
  [/ETIMEDOUT|timed? ?out/i, 'no answer in time'],
  [/ENOTFOUND|EAI_AGAIN/, 'host name not found'],
  [/ECONNRESET|EPIPE|closed|socket error/i, 'connection lost'],
  [/sentinel/i, 'no sentinel names a master'],
  [/offline|no connection|not connected|cluster|max retries per request/i, 'no connection'],
];

/** A connection error said in words rather than the driver's text; any other error as it is. */
export function reasonInWords(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const text = `${(err as { code?: string } | null)?.code ?? ''} ${message}`;
  return IN_WORDS.find(([re]) => re.test(text))?.[1] ?? message;
}

/** Whether `err` is one a connection makes while its server is away (told by the lines above, so not again). */
export function isConnectionError(err: unknown): boolean {
  const text = `${(err as { code?: string } | null)?.code ?? ''} ${err instanceof Error ? err.message : String(err)}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|Connection is closed|isn't writeable|sentinels are unreachable|max retries per request|ClientOfflineError|No connection found to cluster|Socket error|offline/i.test(
    text,
  );
}
