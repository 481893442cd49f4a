/**
 * What decoding in a worker thread costs (issue 8, item 1): the same scan files decoded on the
 * main thread (`decodeScanFile`, the function the decode threads run) and through the decode
 * pool (DecodePool: to a thread, decoded, back), interleaved, one file every GAP_MS as in the
 * latency benchmark (10 scans/s). Also the bare round trip of a worker_threads message with a
 * reply the size of a scan's body: the floor any worker pool pays (piscina included, which is
 * built on the same MessagePort), woken through its event loop as our pool's threads are, and
 * woken by Atomics.notify as piscina's are by default. Prints JSON.
 *
 *   npm run build && npx tsx bench/decode-pool.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { DecodePool } from '../src/bridge/threads/pool.js';
import { decodeScanFile, type DecodeTask } from '../src/bridge/threads/decode-file.js';
import { mono, r2, summarize } from './bridge/harness.js';
import { sleep } from '../src/time.js';
import { writeCanonicalScans } from './bridge/scans.js';

const QUICK = process.argv.includes('--quick');
const FILES = QUICK ? 60 : 300;
const ASSETS = 400;
/** Idle time before each measured call, ms: what a scan every 100 ms leaves between two calls of one kind. */
const GAP_MS = 50;
const MIB = 1024 * 1024;

/** 20 unmeasured trips, then FILES measured ones, each after GAP_MS idle; ms each. */
async function timeTrips(trip: (id: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await trip(i);
  const ms: number[] = [];
  for (let i = 0; i < FILES; i++) {
    await sleep(GAP_MS);
    const t = mono();
    await trip(i);
    ms.push(mono() - t);
  }
  return ms;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-decode-'));
  const load = [loadavg()[0]];
  try {
    const files = writeCanonicalScans(dir, FILES, ASSETS);
    const task = (f: (typeof files)[number]): DecodeTask => ({ path: f.path, relPath: f.rel, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
    const pool = new DecodePool({ size: 2, timeoutMs: 2000, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
    if (!(await pool.ready())) throw new Error('decode threads did not start');
    // Warm-up: both paths compile their code before anything is measured.
    for (const f of files.slice(0, 20)) {
      decodeScanFile(task(f));
      await pool.decode(f.path, f.rel);
    }

    const inThread: number[] = [];
    const viaPool: number[] = [];
    const inWorker: number[] = [];
    let bodyChars = 0;
    for (const f of files) {
      await sleep(GAP_MS);
      let t = mono();
      const a = decodeScanFile(task(f));
      inThread.push(mono() - t);
      if (a.kind !== 'ok') throw new Error(`${f.rel}: ${a.kind}`);
      bodyChars = a.body.length;
      await sleep(GAP_MS);
      t = mono();
      const b = await pool.decode(f.path, f.rel);
      viaPool.push(mono() - t);
      if (b.kind !== 'ok') throw new Error(`${f.rel} in the pool: ${b.kind}`);
      inWorker.push(b.decodeMs);
    }
    await pool.close();

    // The floor: a message to a thread and a reply of a body's size, nothing decoded.
    const echo = new Worker(
      `const { parentPort } = require('node:worker_threads'); const body = 'x'.repeat(${bodyChars}); parentPort.on('message', (m) => parentPort.postMessage({ id: m.id, body }));`,
      { eval: true },
    );
    const trips = await timeTrips(
      (id) =>
        new Promise<void>((ok) => {
          echo.once('message', () => ok());
          echo.postMessage({ id, task: task(files[0]!) });
        }),
    );
    await echo.terminate();

    // The same with the wake-up piscina uses by default (`useAtomics`): the thread sleeps in
    // Atomics.wait rather than in its event loop, and takes the task with receiveMessageOnPort.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const atomic = new Worker(
      `const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
       const flag = workerData.flag; const body = 'x'.repeat(${bodyChars});
       for (;;) {
         Atomics.wait(flag, 0, 0);
         Atomics.store(flag, 0, 0);
         let m;
         while ((m = receiveMessageOnPort(workerData.port))) parentPort.postMessage({ id: m.message.id, body });
       }`,
      { eval: true, workerData: { flag, port: port2 }, transferList: [port2] },
    );
    const atomicTrips = await timeTrips(
      (id) =>
        new Promise<void>((ok) => {
          atomic.once('message', () => ok());
          port1.postMessage({ id, task: task(files[0]!) });
          Atomics.store(flag, 0, 1);
          Atomics.notify(flag, 0);
        }),
    );
    await atomic.terminate();
    port1.close();
    load.push(loadavg()[0]);

    const a = summarize(inThread);
    const b = summarize(viaPool);
    console.log(
      JSON.stringify(
        {
          what: 'decode of one scan file: on the main thread vs through the decode pool (to a worker thread and back)',
          when: new Date().toISOString(),
          machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg1: load.map((x) => r2(x)) },
          files: { count: FILES, assets: ASSETS, bytes: files[0]!.size, bodyChars, gapMs: GAP_MS },
          inThreadMs: a,
          poolMs: b,
          poolDecodeInWorkerMs: summarize(inWorker),
          addedByPoolMs: { p50: r2(b.p50! - a.p50!), p90: r2(b.p90! - a.p90!), p99: r2(b.p99! - a.p99!) },
          messageRoundTripMs: summarize(trips),
          messageRoundTripAtomicsWakeMs: summarize(atomicTrips),
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
