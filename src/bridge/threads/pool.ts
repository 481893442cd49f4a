/**
 * A small pool of decode worker threads: one from the start, a second one started only when a
 * file waits while the first is busy (a file at its time limit, a burst), and stopped again after
 * EXTRA_IDLE_MS without work; each thread holds about 20 MiB. Each decode has a time limit (DECODE_TIMEOUT_MS, plus
 * DECODE_TIMEOUT_MS_PER_MB for each MiB of the file beyond the first) and each worker a heap
 * limit (`resourceLimits`); a worker that overruns either, or dies, is terminated and replaced,
 * and its file comes back as `limit` with a reason naming the limit. `decode` never rejects, and
 * nothing here runs for a time that depends on the file beyond that limit.
 */
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { coerceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { fileOrder, parseScanPath } from '../watch/scan-files.js';
import type { DecodeResult, DecodeTask } from './decode-file.js';
import type { Limit } from './limits.js';
import { NewestFirst } from './newest-first.js';
import type { ScanOrderKey } from '../guards/scan-order.js';
import type { ResultMessage, TaskMessage } from './thread.js';

export interface DecodePoolOptions {
  /** The most worker threads at once; one runs from the start, the others only while files wait. @defaultValue 2 */
  size?: number;
  /** DECODE_TIMEOUT_MS: the limit for a file of up to 1 MiB. */
  timeoutMs: number;
  /** DECODE_TIMEOUT_MS_PER_MB: added for each MiB beyond the first. @defaultValue 0 */
  timeoutMsPerMb?: number;
  /** MAX_SCAN_BYTES */
  maxScanBytes: number;
  /** MAX_SCAN_FILE_BYTES */
  maxFileBytes: number;
  /** A thread beyond the first stops after this long without work. @defaultValue 30000 */
  extraIdleMs?: number;
  /** Old-generation heap of each worker, MiB. @defaultValue twice MAX_SCAN_BYTES plus 64 */
  memoryLimitMb?: number;
  log?: Logger;
}

/** What a pool tells its listeners: `trip`, the moments of each decode that came back. */
export interface DecodePoolEvents {
  trip: [trip: DecodeTrip];
}

/** One decode's trip, epoch ms (performance.timeOrigin + now(), comparable across threads). */
export interface DecodeTrip {
  /** This thread posted the task. */
  posted: number;
  /** The decode thread took it, and replied. */
  received: number;
  replied: number;
  /** This thread had the reply. */
  back: number;
  /** Of received → replied, the decode proper (the rest is the file read and checks). */
  decodeMs: number;
}

interface Job {
  id: number;
  posted: number;
  task: DecodeTask;
  done: (r: DecodeResult) => void;
  /** Its file's place in the scan order, from the name: the queue sends the newest first. */
  order: ScanOrderKey;
}

interface Slot {
  worker: Worker;
  /** The worker loaded its code: a crash after this is the file's doing, before it the set-up's. */
  ready: boolean;
  job: Job | undefined;
  /** When the job breaks DECODE_TIMEOUT_MS, epoch ms. */
  deadline: number;
  /** The deadline already includes the time allowed for the file's size (looked up once it passed the base limit). */
  sized: boolean;
  /** The file's size when it was looked up, MiB. */
  sizeMb: number | undefined;
  /**
   * Checks the deadline. Armed once and kept across jobs, re-armed for what is left when it finds a
   * later job running: a setTimeout and clearTimeout per decode cost 0.02-0.03 ms of the trip
   * (bench/decode-trip.ts). Referenced only while a job runs, so an idle slot's timer holds no process.
   */
  timer: NodeJS.Timeout | undefined;
  /** A thread beyond the first, idle: stops when this fires. */
  retire: NodeJS.Timeout | undefined;
}

const MIB = 1024 * 1024;
/** A thread beyond the first stops after this long without work: a burst or a backlog keeps it, a lone slow file does not. */
const EXTRA_IDLE_MS = 30_000;
/** Epoch ms, sub-millisecond: performance.timeOrigin + now(), comparable across threads. */
const ORIGIN = performance.timeOrigin;

function workerFile(): URL {
  // Under vitest this module runs from src/ as TypeScript; the worker always runs the build in dist/.
  if (!import.meta.url.endsWith('.ts')) return new URL('./thread.js', import.meta.url);
  const i = import.meta.url.lastIndexOf('/src/');
  return new URL(`${import.meta.url.slice(0, i)}/dist/${import.meta.url.slice(i + 5, -'pool.ts'.length)}thread.js`);
}

export class DecodePool extends EventEmitter<DecodePoolEvents> {
  private readonly slots: Slot[] = [];
  /** Newest scan first (newest-first.ts). */
  private readonly queue = new NewestFirst<Job>();
  private nextId = 1;
  private closed = false;
  private replacedCount = 0;
  private readonly memoryLimitMb: number;

  constructor(private readonly o: DecodePoolOptions) {
    super();
    this.memoryLimitMb = o.memoryLimitMb ?? Math.ceil((2 * o.maxScanBytes) / MIB) + 64;
    this.slots.push(this.spawn());
  }

  /** Threads running now (loaded or loading). */
  get threads(): number {
    return this.slots.length;
  }

  /** Decodes one file; `quarantined` is the size and mtime of its quarantined version, if any. */
  decode(path: string, relPath: string, quarantined?: { size: number; mtimeMs: number }): Promise<DecodeResult> {
    if (this.closed) return Promise.resolve({ kind: 'incomplete', reason: 'the decoder pool is closed', size: -1, mtimeMs: -1, decodeMs: 0 });
    const task: DecodeTask = { path, relPath, maxScanBytes: this.o.maxScanBytes, maxFileBytes: this.o.maxFileBytes, quarantined };
    return new Promise((done) => {
      const job: Job = { id: this.nextId++, posted: 0, task, done, order: fileOrder(parseScanPath(relPath)) };
      this.queue.add(job, job.order);
      this.dispatch();
    });
  }

  /** Resolves true once every worker has loaded its code (false after `timeoutMs` or on close): decodes are fast from then on. */
  async ready(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline && !this.slots.every((s) => s.ready)) await new Promise((r) => setTimeout(r, 10));
    return !this.closed && this.slots.every((s) => s.ready);
  }

  /** Workers replaced after a limit or a crash, since the pool started. */
  get replaced(): number {
    return this.replacedCount;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.drain()) j.done({ kind: 'incomplete', reason: 'the decoder pool is closed', size: -1, mtimeMs: -1, decodeMs: 0 });
    await Promise.all(
      this.slots.map((s) => {
        clearTimeout(s.timer);
        clearTimeout(s.retire);
        s.job?.done({ kind: 'incomplete', reason: 'the decoder pool is closed', size: -1, mtimeMs: -1, decodeMs: 0 });
        s.job = undefined;
        return s.worker.terminate().catch(() => undefined);
      }),
    );
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), {
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb, stackSizeMb: 4 },
      // Not the flags of this process (--input-type, loaders of a test runner): the worker is plain built JS.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false, job: undefined, deadline: 0, sized: false, sizeMb: undefined, timer: undefined, retire: undefined };
    worker.unref();
    worker.on('message', (m: ResultMessage | 'ready') => {
      if (m === 'ready') {
        slot.ready = true;
        this.dispatch();
      } else this.answered(slot, m);
    });
    worker.on('error', (err) => {
      const e = err as NodeJS.ErrnoException;
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.lose(
        slot,
        memory ? 'decoder memory' : 'decoder crash',
        memory ? `the decoder ran out of its ${this.memoryLimitMb} MiB heap (resourceLimits)` : `the decoder crashed: ${coerceError(err).message}`,
      );
    });
    worker.on('exit', (code) => this.lose(slot, 'decoder crash', `the decoder exited (code ${code})`));
    return slot;
  }

  private answered(slot: Slot, m: ResultMessage): void {
    if (!slot.job || slot.job.id !== m.id) return;
    const job = slot.job;
    if (this.listenerCount('trip') > 0) {
      const decodeMs = 'decodeMs' in m.result ? m.result.decodeMs : 0;
      this.emit('trip', { posted: job.posted, received: m.at[0], replied: m.at[1], back: ORIGIN + performance.now(), decodeMs });
    }
    slot.timer?.unref();
    slot.job = undefined;
    job.done(m.result);
    this.dispatch();
    if (!slot.job && slot !== this.slots[0]) {
      clearTimeout(slot.retire);
      slot.retire = setTimeout(() => this.stopExtra(slot), this.o.extraIdleMs ?? EXTRA_IDLE_MS).unref();
    }
  }

  /** A thread beyond the first that had no work for EXTRA_IDLE_MS. */
  private stopExtra(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i <= 0 || slot.job || this.closed) return;
    this.slots.splice(i, 1);
    clearTimeout(slot.timer);
    slot.worker.removeAllListeners();
    slot.worker.terminate().catch(() => undefined);
  }

  private dispatch(): void {
    for (let job = this.queue.peek(); !this.closed && job; job = this.queue.peek()) {
      // Only to a worker that has loaded (that takes a while on a busy machine): a running one may free up sooner.
      const slot = this.slots.find((s) => s.ready && !s.job);
      if (!slot) {
        // Every thread busy and a file waits: one more thread, unless one is loading already (it takes the file once loaded).
        if (this.slots.length < (this.o.size ?? 2) && this.slots.every((s) => s.ready)) this.slots.push(this.spawn());
        return;
      }
      this.queue.take();
      clearTimeout(slot.retire);
      slot.job = job;
      job.posted = ORIGIN + performance.now();
      this.arm(slot, job.posted + this.o.timeoutMs);
      slot.worker.postMessage({ id: job.id, task: job.task } satisfies TaskMessage);
    }
  }

  /** Sets the slot's deadline, its timer referenced (it holds the process while the thread works). */
  private arm(slot: Slot, deadline: number): void {
    slot.deadline = deadline;
    slot.sized = false;
    slot.sizeMb = undefined;
    if (slot.timer) slot.timer.ref();
    else this.watch(slot, deadline - (ORIGIN + performance.now()));
  }

  private watch(slot: Slot, ms: number): void {
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (!slot.job) return;
      const left = slot.deadline - (ORIGIN + performance.now());
      if (left > 0) this.watch(slot, left);
      else if (!slot.sized && (this.o.timeoutMsPerMb ?? 0) > 0) this.allowForSize(slot);
      else this.lose(slot, 'DECODE_TIMEOUT_MS', this.timeoutReason(slot));
    }, ms);
  }

  /**
   * A decode past the base limit: adds the time its file's size allows. Looked up only now (a
   * stat, off the path of every decode that ends in time), for the job the thread still runs.
   */
  private allowForSize(slot: Slot): void {
    slot.sized = true;
    const running = slot.job;
    if (!running) return;
    const still = () => slot.job === running && this.slots.includes(slot);
    stat(running.task.path).then(
      (st) => {
        if (!still()) return;
        slot.sizeMb = st.size / MIB;
        slot.deadline += this.extraMs(st.size);
        this.watch(slot, Math.max(0, slot.deadline - (ORIGIN + performance.now())));
      },
      () => {
        if (still()) this.lose(slot, 'DECODE_TIMEOUT_MS', this.timeoutReason(slot));
      },
    );
  }

  /** What a file of `size` bytes is allowed beyond DECODE_TIMEOUT_MS, ms. */
  private extraMs(size: number): number {
    return Math.max(0, size / MIB - 1) * (this.o.timeoutMsPerMb ?? 0);
  }

  private timeoutReason(slot: Slot): string {
    const base = `decoding took longer than DECODE_TIMEOUT_MS (${this.o.timeoutMs} ms)`;
    if (!slot.sized || slot.sizeMb === undefined || slot.sizeMb <= 1) return base;
    const extra = Math.round(this.extraMs(slot.sizeMb * MIB));
    return `${base} and the ${extra} ms DECODE_TIMEOUT_MS_PER_MB (${this.o.timeoutMsPerMb} ms) allows for its ${slot.sizeMb.toFixed(1)} MiB`;
  }

  /** The slot's worker is done for (limit, crash or exit): fail its file, put a fresh worker in its place. */
  private lose(slot: Slot, limit: Limit, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.retire);
    const job = slot.job;
    slot.job = undefined;
    // Terminating interrupts even a tight loop in the decoder; the promise is not awaited, a new worker starts now.
    slot.worker.removeAllListeners('exit');
    slot.worker.terminate().catch(() => undefined);
    this.replacedCount++;
    if (!slot.ready) {
      // Not the file's doing: the worker never loaded. Try again in a while rather than in a loop.
      this.o.log?.error(`a decoder thread failed to start: ${reason}`);
      const retry = setTimeout(() => {
        if (!this.closed && this.slots[i] === slot) this.slots[i] = this.spawn();
      }, 1000);
      retry.unref();
      return;
    }
    // The first thread is always replaced; another only if files wait (else the next wait starts one).
    if (i === 0 || this.queue.size > 0) this.slots[i] = this.spawn();
    else this.slots.splice(i, 1);
    if (job) {
      this.o.log?.warn({ file: job.task.relPath, limit }, `decoder replaced: ${reason}`);
      // The file's size and mtime name the version that broke the limit (stat does not open the file).
      stat(job.task.path).then(
        (st) => job.done({ kind: 'limit', limit, reason, size: st.size, mtimeMs: st.mtimeMs, decodeMs: limit === 'DECODE_TIMEOUT_MS' ? this.o.timeoutMs : 0 }),
        () => job.done({ kind: 'gone' }),
      );
    }
    this.dispatch();
  }
}
