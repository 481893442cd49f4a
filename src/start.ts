import type { Config } from './config.js';
import type { Logger } from './log.js';
import { UsageError, coerceError } from './errors.js';
import type { RedisConnection } from './connections.js';
import { createRedis } from './connections.js';
import { readBridgeFacts } from './bridge/facts.js';
import { startScheduler } from './scheduler.js';
import { startJobWorkers } from './workers/job-worker.js';
import { startBridgeWorker } from './workers/bridge-worker.js';
import { startBoard } from './server/app.js';
import { startSummary } from './summary.js';
import { withTimeout } from './time.js';
import { bullmqVersionProblem, installedBullmqVersion } from './jobs/bullmq-version.js';
import { reportReachability } from './reachability.js';

const ROLES = ['all', 'scheduler', 'worker', 'bridge', 'board'] as const;
type Role = (typeof ROLES)[number];

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

async function firstHeartbeat(redis: RedisConnection, prefix: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const facts = await readBridgeFacts(redis, prefix).catch(() => null);
    if (facts?.heartbeat) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `scan-bridge start`: runs the roles until SIGTERM/SIGINT, then stops them together, within STOP_TIMEOUT_MS. */
export async function start(config: Config, log: Logger, values: Record<string, unknown>): Promise<number> {
  const asked = ((values.role as string[] | undefined) ?? ['all']).flatMap((r) => r.split(','));
  for (const r of asked) if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`unknown role "${r}": expected ${ROLES.join(', ')}`);
  const roles = new Set<Role>(asked.includes('all') ? ['scheduler', 'worker', 'bridge', 'board'] : (asked as Role[]));
  const bullmq = bullmqVersionProblem(installedBullmqVersion());
  if (bullmq) throw new Error(bullmq);
  const running: Stoppable[] = [];
  reportReachability(log, config.outageReminderMs);
  // Shared by the scheduler and the start-up wait below.
  const redis = createRedis(config, {}, log);
  running.push({ name: 'redis connection', stop: () => Promise.resolve(redis.disconnect()) });

  let stopping: Promise<void> | undefined;
  const stopAll = (why: string) =>
    (stopping ??= (async () => {
      const parts = [...running].reverse();
      log.info(`${why}: shutting down ${parts.map((r) => r.name).join(', ')}`);
      // All at once, the shared Redis connection (the first part started) after them, within
      // STOP_TIMEOUT_MS: a stop that waits on a server that is down must not hold the exit, nor
      // take the time of the others.
      const [shared, ...others] = running;
      const late: string[] = [];
      const stop = (r: Stoppable, ms: number) =>
        withTimeout(
          r.stop().catch((err: unknown) => log.error({ err: coerceError(err) }, `stopping ${r.name} failed`)),
          Math.max(0, ms),
          r.name,
        ).catch(() => void late.push(r.name));
      const deadline = Date.now() + config.stopTimeoutMs;
      await Promise.all(others.map((r) => stop(r, config.stopTimeoutMs)));
      if (shared) await stop(shared, deadline - Date.now());
      if (late.length > 0)
        log.warn(
          `${late.join(', ')} did not stop within ${config.stopTimeoutMs} ms (STOP_TIMEOUT_MS): exiting without waiting for ${late.length > 1 ? 'them' : 'it'}`,
        );
    })());
  const done = new Promise<void>((ok) => {
    process.once('SIGTERM', () => void stopAll('SIGTERM').then(ok));
    process.once('SIGINT', () => void stopAll('SIGINT').then(ok));
  });

  let boardUrl: string | undefined;
  if (roles.has('board')) {
    const board = await startBoard(config, log.child({ role: 'board' }));
    boardUrl = board.url;
    running.push({ name: 'board', stop: () => board.stop() });
  }
  if (roles.has('bridge')) {
    const b = await startBridgeWorker(config, log.child({ role: 'bridge' }));
    running.push({ name: 'bridge worker', stop: () => b.stop() });
  }
  if (roles.has('worker')) {
    const w = await startJobWorkers(config, log.child({ role: 'worker' }));
    running.push({ name: 'job workers', stop: () => w.stop() });
  }
  if (roles.has('scheduler')) {
    // The schedule's first check runs at once: with a bridge in this process, let it report first,
    // so that a start is not mistaken for a dead bridge.
    if (roles.has('bridge')) await firstHeartbeat(redis, config.queuePrefix, config.bridgeHeartbeatTtlMs);
    const s = await startScheduler(config, log.child({ role: 'scheduler' }), redis);
    running.push({ name: 'scheduler', stop: () => s.stop() });
  }
  if (values['with-demo-scanner']) {
    const ctl = new AbortController();
    // The bridge's push line tells each scan; the scanner's own line per scan would double them.
    // Loaded only here: the scan writer brings apache-arrow, which a bridge process needs only in its decode threads.
    const { runDemoScanner } = await import('./demo/scanner.js');
    const demo = runDemoScanner({
      arrowDir: config.arrowDir,
      intervalMs: 5000,
      assets: 400,
      log: log.child({ component: 'demo-scanner' }),
      signal: ctl.signal,
      perScanLevel: 'debug',
    });
    running.push({ name: 'demo scanner', stop: async () => (ctl.abort(), await demo) });
  }
  const summary = startSummary({ config, redis, log, ...(boardUrl ? { boardUrl } : {}) });
  running.push({ name: 'summary', stop: () => summary.stop() });
  log.info(`scan-bridge running: roles ${[...roles].join(', ')}${boardUrl ? `; board at ${boardUrl}/board/, status page at ${boardUrl}/status` : ''}`);
  await done;
  return 0;
}
