/**
 * Where the decode pool's added time goes, per decode (issue 8), and what changing the trip saves.
 * One file every GAP_MS per contender, as in the latency benchmark; contenders take turns file by
 * file, so the machine's load falls on all of them alike. Prints JSON.
 *
 * - `main_thread`: decodeScanFile on this thread (what the pool adds is measured against it).
 * - `pool`: the product's DecodePool, each trip split with its moments (DecodeTrip, epoch ms
 *   taken in both threads): call → posted → the thread has it → read and checked → decoded →
 *   replied → the reply here → the caller resumes.
 * - `bare_*`: one thread running decodeScanFile behind a bare main side (no timer, no queue):
 *   `bare_string` replies as the pool does (the body a string, cloned); `bare_bytes` replies with
 *   the body as UTF-8 bytes, transferred, turned back into a string here; `bare_channel` talks
 *   over a MessageChannel port of its own instead of parentPort; `bare_compact` posts the task as
 *   one string (id, path, relative path), the limits given once at the thread's start;
 *   `bare_string_limits` is `bare_string` with the pool's heap and stack limits.
 *
 *   npm run build && npx tsx bench/decode-trip.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { DecodePool, type DecodeTrip } from '../src/bridge/threads/pool.js';
import { decodeScanFile, type DecodeTask } from '../src/bridge/threads/decode-file.js';
import { sleep } from '../src/time.js';
import { writeCanonicalScans } from './bridge/scans.js';
import { ROOT } from './bridge/settings.js';

const QUICK = process.argv.includes('--quick');
const FILES = QUICK ? 60 : 300;
const ASSETS = 400;
const GAP_MS = 50;
const MIB = 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();

/** p50 / p90 / p99 to the microsecond. */
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 1000) / 1000 : null);
  return { n: s.length, p50: q(50), p90: q(90), p99: q(99) };
}

/** A decode thread behind a bare main side: `mode` picks how the task goes and the reply comes back. */
function bareThread(mode: 'string' | 'bytes' | 'channel' | 'compact', resourceLimits?: { maxOldGenerationSizeMb: number; stackSizeMb: number }) {
  const decodeFile = pathToFileURL(join(ROOT, 'dist/bridge/decode/decode-file.js')).href;
  const src = `
    import { parentPort, workerData } from 'node:worker_threads';
    import { decodeScanFile } from '${decodeFile}';
    const port = workerData.port ?? parentPort;
    const enc = new TextEncoder();
    port.on('message', (m) => {
      let id, task;
      if (typeof m === 'string') {
        const [i, path, relPath] = m.split('\0');
        id = Number(i);
        task = { path, relPath, maxScanBytes: workerData.maxScanBytes, maxFileBytes: workerData.maxFileBytes };
      } else ({ id, task } = m);
      const result = decodeScanFile(task);
      if (${JSON.stringify(mode)} === 'bytes' && result.kind === 'ok') {
        const bytes = enc.encode(result.body);
        result.body = '';
        port.postMessage({ id, result, bytes }, [bytes.buffer]);
      } else port.postMessage({ id, result });
    });`;
  let port: MessagePort | undefined;
  const workerData: { port?: MessagePort; maxScanBytes: number; maxFileBytes: number } = { maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB };
  if (mode === 'channel') {
    const ch = new MessageChannel();
    port = ch.port1;
    workerData.port = ch.port2;
  }
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), {
    execArgv: [],
    resourceLimits,
    workerData,
    transferList: workerData.port ? [workerData.port] : [],
  });
  const from = port ?? worker;
  const dec = new TextDecoder();
  let waiting: ((body: string) => void) | undefined;
  from.on('message', (m: { result: { body?: string }; bytes?: Uint8Array }) => waiting?.(m.bytes ? dec.decode(m.bytes) : (m.result.body ?? '')));
  return {
    decode: (task: DecodeTask) =>
      new Promise<string>((ok) => {
        waiting = ok;
        (port ?? worker).postMessage(mode === 'compact' ? `1\0${task.path}\0${task.relPath}` : { id: 1, task });
      }),
    close: async () => {
      port?.close();
      await worker.terminate();
    },
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-decode-trip-'));
  const load = [loadavg()[0]];
  try {
    const files = writeCanonicalScans(dir, FILES, ASSETS);
    const task = (f: (typeof files)[number]): DecodeTask => ({ path: f.path, relPath: f.rel, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });

    let trip: DecodeTrip | undefined;
    const pool = new DecodePool({ size: 2, timeoutMs: 2000, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB, onTrip: (t) => void (trip = t) });
    if (!(await pool.ready())) throw new Error('decode threads did not start');
    const bare = {
      bare_string: bareThread('string'),
      bare_bytes: bareThread('bytes'),
      bare_channel: bareThread('channel'),
      // The heap and stack limits the pool gives its threads (twice MAX_SCAN_BYTES plus 64 MiB).
      bare_compact: bareThread('compact'),
      bare_string_limits: bareThread('string', { maxOldGenerationSizeMb: 576, stackSizeMb: 4 }),
    };

    const legs: Record<string, number[]> = {
      call_to_posted: [],
      posted_to_thread: [],
      read_and_checks_in_thread: [],
      decode_in_thread: [],
      thread_to_reply_here: [],
      reply_to_caller_resumes: [],
      total: [],
      one_way_legs_sum: [],
    };
    const totals: Record<string, number[]> = {
      main_thread: [],
      pool: [],
      bare_string: [],
      bare_bytes: [],
      bare_channel: [],
      bare_string_limits: [],
      bare_compact: [],
    };
    const sync: Record<string, number[]> = Object.fromEntries(Object.keys(totals).map((k) => [k, []]));
    const contenders: Array<[string, (f: (typeof files)[number]) => Promise<unknown>]> = [
      ['main_thread', (f) => Promise.resolve(decodeScanFile(task(f)))],
      ['pool', (f) => pool.decode(f.path, f.rel)],
      ...Object.entries(bare).map(([k, b]): [string, (f: (typeof files)[number]) => Promise<unknown>] => [k, (f) => b.decode(task(f))]),
    ];
    for (const f of files.slice(0, 20)) for (const [, run] of contenders) await run(f);

    for (const [i, f] of files.entries()) {
      // A different first contender each file: none always follows the same one.
      for (let k = 0; k < contenders.length; k++) {
        const [name, run] = contenders[(i + k) % contenders.length]!;
        await sleep(GAP_MS);
        trip = undefined;
        const t0 = now();
        const running = run(f);
        sync[name]!.push(now() - t0);
        await running;
        const t1 = now();
        totals[name]!.push(t1 - t0);
        if (name === 'pool' && trip) {
          const t: DecodeTrip = trip;
          legs.call_to_posted!.push(t.posted - t0);
          legs.posted_to_thread!.push(t.received - t.posted);
          legs.read_and_checks_in_thread!.push(t.replied - t.received - t.decodeMs);
          legs.decode_in_thread!.push(t.decodeMs);
          legs.thread_to_reply_here!.push(t.back - t.replied);
          legs.reply_to_caller_resumes!.push(t1 - t.back);
          legs.total!.push(t1 - t0);
          legs.one_way_legs_sum!.push(t.received - t.posted + (t.back - t.replied));
        }
      }
    }
    await pool.close();
    await Promise.all(Object.values(bare).map((b) => b.close()));
    load.push(loadavg()[0]);

    const summary = Object.fromEntries(Object.entries(totals).map(([k, xs]) => [k, stats(xs)]));
    const p50 = (k: string) => summary[k]!.p50!;
    console.log(
      JSON.stringify(
        {
          what: "where the decode pool's added time goes, per decode; contenders interleaved file by file",
          when: new Date().toISOString(),
          machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg1: load },
          files: { count: FILES, assets: ASSETS, gapMs: GAP_MS },
          totalMs: summary,
          addedP50Ms: Object.fromEntries(Object.keys(totals).map((k) => [k, Math.round((p50(k) - p50('main_thread')) * 1000) / 1000])),
          // Until the call returns (the pool: the task queued, the time limit armed, the message posted).
          syncPartMs: Object.fromEntries(Object.entries(sync).map(([k, xs]) => [k, stats(xs)])),
          poolTripMs: Object.fromEntries(Object.entries(legs).map(([k, xs]) => [k, stats(xs)])),
          note: 'one-way legs use clock reads of two threads (timeOrigin + now()); their sum does not depend on how the two origins disagree',
        },
        null,
        2,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
