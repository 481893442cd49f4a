/**
 * One bridge in its own process, driven by bench/bridge.ts over IPC, so that its RSS and CPU are
 * its own. Started as `node --expose-gc --import tsx bench/bridge-child.ts` with the settings in
 * the BENCH_BRIDGE_ENV environment variable (a JSON object of the variables resolveConfig reads).
 *
 * Messages in:  {cmd:'start'} | {cmd:'sample', gc:boolean} | {cmd:'pushes'} | {cmd:'stop'}
 * Messages out: {type:'ready'} | {type:'started', tCall, tResolved} | {type:'caughtUp', t, stats}
 *               | {type:'sample', ...} | {type:'pushes', pushes: [scanNumber, latencyMs, times][]}
 *               | {type:'stopped'} | {type:'error', message}
 * `pushes` (only with BENCH_RECORD_PUSHES=1) are the bridge's own 'pushed' events since the last request: latencyMs is its own
 * measure, from the watcher's event for the file to the write acknowledged by Hazelcast; `times` the
 * moments of the scan's path (src/bridge/scan-times.ts), sent when asked so that the history write is in.
 * Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now()).
 * BENCH_VARIANT: the bridge with one data-path mechanism taken away (variants.ts), for the mechanism table; `product` by default.
 */
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createHazelcast, type Hazelcast } from '../src/connections.js';
import { Bridge } from '../src/bridge/bridge.js';
import type { ScanTimes } from '../src/bridge/scan-times.js';
import { applyVariant, VARIANTS, type Variant } from './bridge/variants.js';

type Cmd = { cmd: 'start' } | { cmd: 'sample'; gc: boolean } | { cmd: 'pushes' } | { cmd: 'stop' };

const now = (): number => performance.timeOrigin + performance.now();
const gc = (globalThis as { gc?: () => void }).gc;

function send(msg: Record<string, unknown>): void {
  if (process.connected) process.send?.(msg);
}

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_BRIDGE_ENV ?? '{}') as Record<string, string>;
  const config = resolveConfig(env);
  const variant = (process.env.BENCH_VARIANT ?? 'product') as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`BENCH_VARIANT must be one of ${VARIANTS.join(', ')}`);
  applyVariant(variant, { maxScanBytes: config.maxScanBytes, maxFileBytes: config.maxScanFileBytes });
  const log = createLogger(config.logLevel, 'bench-bridge');
  const hz: Hazelcast = await createHazelcast(config, log, { kind: 'service' });
  if (!(await hz.waitConnected(30_000))) throw new Error('the bridge child could not connect to Hazelcast within 30 s');
  let rejected = 0;
  let pushes: Array<[number, number, ScanTimes | null]> = [];
  // Off in the memory phase, so the list does not count as the bridge's memory.
  const recordPushes = process.env.BENCH_RECORD_PUSHES === '1';
  const bridge = new Bridge({
    settings: config,
    hazelcast: hz,
    log,
    onEvent: (e) => {
      if (e.type === 'pushed') {
        if (recordPushes) pushes.push([e.scanNumber, e.latencyMs, e.times ?? null]);
      } else if (e.type === 'rejected') rejected++;
      else if (e.type === 'line' && e.level !== 'info') process.stderr.write(`[bridge ${e.level}] ${e.message}\n`);
    },
  });
  let started = false;
  let stopping = false;

  process.on('message', (raw) => {
    const m = raw as Cmd;
    void (async () => {
      if (m.cmd === 'start' && !started) {
        started = true;
        const tCall = now();
        await bridge.start();
        const tResolved = now();
        send({ type: 'started', tCall, tResolved });
        await bridge.caughtUp();
        send({ type: 'caughtUp', t: now(), stats: bridge.stats() });
      } else if (m.cmd === 'sample') {
        if (m.gc && gc) {
          // Two passes with a turn of the event loop between, so finalizers and weak refs settle.
          gc();
          await new Promise((r) => setTimeout(r, 50));
          gc();
        }
        const mem = process.memoryUsage();
        send({
          type: 'sample',
          t: now(),
          gcRan: Boolean(m.gc && gc),
          mem,
          cpu: process.cpuUsage(),
          maxRssKb: process.resourceUsage().maxRSS,
          stats: bridge.stats(),
          rejected,
        });
      } else if (m.cmd === 'pushes') {
        send({ type: 'pushes', pushes });
        pushes = [];
      } else if (m.cmd === 'stop' && !stopping) {
        stopping = true;
        await bridge.stop();
        await hz.shutdown();
        send({ type: 'stopped' });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 100).unref();
      }
    })().catch((err: unknown) => {
      send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    });
  });
  process.on('disconnect', () => {
    // The bench went away: do not linger.
    if (!stopping) process.exit(0);
  });
  send({ type: 'ready', pid: process.pid, bridgeId: bridge.id });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.stderr.write(`bridge child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  setTimeout(() => process.exit(1), 100);
});
