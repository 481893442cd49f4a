import type { Logger } from '../log.js';
import { coerceError } from '../errors.js';

/**
 * HEARTBEAT_URL: a dead-man's switch (Healthchecks.io, Cronitor, Better Stack). Each completed
 * scheduled check pings it with GET; when the pings stop, for whatever reason (Redis down, every
 * worker gone), that service alerts. A failed ping is logged and otherwise ignored.
 */
export function createHeartbeatPinger(url: string, log: Logger, timeoutMs = 5000) {
  let inFlight: Promise<void> = Promise.resolve();
  return {
    ping(): void {
      inFlight = fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) })
        .then(async (res) => {
          await res.arrayBuffer().catch(() => undefined);
          if (!res.ok) log.warn(`heartbeat ping to HEARTBEAT_URL answered ${res.status}`);
        })
        .catch((err: unknown) => log.warn(`heartbeat ping to HEARTBEAT_URL failed: ${coerceError(err).message}`));
    },
    /** Resolves once the last ping is done; for shutdown. */
    idle: () => inFlight,
  };
}
