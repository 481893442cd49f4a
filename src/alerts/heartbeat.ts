import type { Logger } from '../log.js';
import { attempt, destination } from './deliver.js';

/**
 * HEARTBEAT_URL: a dead-man's switch (Healthchecks.io, Cronitor, Better Stack). Each completed
 * scheduled check pings it with GET; when the pings stop, for whatever reason (Redis down, every
 * worker gone), that service alerts. A failed ping is logged and otherwise ignored: the next
 * check pings again. Each ping is bounded by `timeoutMs` and never waits for an earlier one.
 */
export function createHeartbeatPinger(url: string, log: Logger, timeoutMs = 5000) {
  // Named by host only: the path of a ping URL is its secret.
  const to = destination('HEARTBEAT_URL', url);
  const inFlight = new Set<Promise<void>>();
  return {
    ping(): void {
      const p = attempt(to, { method: 'GET' }, timeoutMs).then((r) => {
        if (!r.ok) log.warn(`heartbeat ping to ${to.name} failed: ${r.reason}`);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    /** Resolves once the pings sent so far are done; for shutdown. */
    idle: async () => void (await Promise.all(inFlight)),
  };
}
