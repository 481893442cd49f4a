/**
 * A small pool of decode worker threads. Each decode has a time limit (DECODE_TIMEOUT_MS, plus
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
import { fileOrder, parseScanPath, relativeToRoot } from '../watch/scan-files.js';
import type { AheadMessage, AheadNotice } from './ahead.js';
import type { DecodeResult, DecodeTask } from './decode-file.js';
import type { Limit } from './limits.js';
import { NewestFirst } from './newest-first.js';
import type { ScanOrderKey } from '../guards/scan-order.js';
import type { ResultMessage, TaskMessage } from './thread.js';

export interface DecodePoolOptions {
  /** Worker threads. @defaultValue 2 */
  size?: number;
  /** DECODE_TIMEOUT_MS: the limit for a file of up to 1 MiB. */
  timeoutMs: number;
  /** DECODE_TIMEOUT_MS_PER_MB: added for each MiB beyond the first. @defaultValue 0 */
  timeoutMsPerMb?: number;
  /** MAX_SCAN_BYTES */
  maxScanBytes: number;
  /** MAX_SCAN_FILE_BYTES */
  maxFileBytes: number;
  /** Old-generation heap of each worker, MiB. @defaultValue twice MAX_SCAN_BYTES plus 64 */
  memoryLimitMb?: number;
  log?: Logger;
}

/**
 * What a pool tells its listeners: `trip`, the moments of each decode that came back; `ahead`,
 * a thread starting and ending the decode of a file ahead of its task.
 */
export interface DecodePoolEvents {
  trip: [trip: DecodeTrip];
  ahead: [path: string, state: 'started' | 'done'];
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
  /** Answered from a decode ahead (ahead.ts): the decode ran before `received`. */
  ahead: boolean;
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
  /** The file this thread is decoding ahead of any task for it (ahead.ts): it runs before the job. */
  ahead: { path: string; at: number } | undefined;
  /** When what the thread runs now (the decode ahead, else the job) breaks DECODE_TIMEOUT_MS, epoch ms. */
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
}

const MIB = 1024 * 1024;
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
  /** The folder the first thread watches to decode ahead; null: none. */
  private aheadRoot: string | null = null;

  constructor(private readonly o: DecodePoolOptions) {
    super();
    this.memoryLimitMb = o.memoryLimitMb ?? Math.ceil((2 * o.maxScanBytes) / MIB) + 64;
    for (let i = 0; i < (o.size ?? 2); i++) this.slots.push(this.spawn());
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

  /**
   * Has the first thread watch `root` with inotify and decode new scan files as they land, ahead
   * of the tasks for them (ahead.ts); null stops it. Only for a folder watched by events: on a
   * network filesystem inotify hears nothing.
   */
  decodeAhead(root: string | null): void {
    this.aheadRoot = root;
    const lead = this.slots[0];
    if (lead?.ready) this.tellAhead(lead);
  }

  private tellAhead(slot: Slot): void {
    const ahead = { root: this.aheadRoot, maxScanBytes: this.o.maxScanBytes, maxFileBytes: this.o.maxFileBytes };
    slot.worker.postMessage({ ahead } satisfies AheadMessage);
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
    const slot: Slot = { worker, ready: false, job: undefined, ahead: undefined, deadline: 0, sized: false, sizeMb: undefined, timer: undefined };
    worker.unref();
    worker.on('message', (m: ResultMessage | AheadNotice | 'ready') => {
      if (m === 'ready') {
        slot.ready = true;
        if (this.aheadRoot !== null && this.slots[0] === slot) this.tellAhead(slot);
        this.dispatch();
      } else if ('aheadStarted' in m) this.aheadStarted(slot, m.aheadStarted, m.at);
      else if ('aheadDone' in m) this.aheadDone(slot);
      else this.answered(slot, m);
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
      this.emit('trip', { posted: job.posted, received: m.at[0], replied: m.at[1], back: ORIGIN + performance.now(), decodeMs, ahead: m.ahead === true });
    }
    if (!slot.ahead) slot.timer?.unref();
    slot.job = undefined;
    job.done(m.result);
    this.dispatch();
  }

  /** The thread started decoding a file ahead: it is busy, under the same time limit as a task. */
  private aheadStarted(slot: Slot, path: string, at: number): void {
    slot.ahead = { path, at };
    this.arm(slot, at + this.o.timeoutMs);
    this.emit('ahead', path, 'started');
  }

  private aheadDone(slot: Slot): void {
    const path = slot.ahead?.path;
    slot.ahead = undefined;
    if (path !== undefined) this.emit('ahead', path, 'done');
    // A task sent meanwhile starts now: its time limit counts from here.
    if (slot.job) this.arm(slot, Math.max(slot.job.posted, ORIGIN + performance.now()) + this.o.timeoutMs);
    else slot.timer?.unref();
    this.dispatch();
  }

  private dispatch(): void {
    for (let job = this.queue.peek(); !this.closed && job; job = this.queue.peek()) {
      // Only to a worker that has loaded (that takes a while on a busy machine): a running one may free up sooner.
      const free = this.slots.filter((s) => s.ready && !s.job);
      // The thread decoding this very file ahead answers from that decode; one decoding another file ahead is busy.
      const slot = free.find((s) => s.ahead?.path === job.task.path) ?? free.find((s) => !s.ahead);
      if (!slot) return;
      this.queue.take();
      slot.job = job;
      job.posted = ORIGIN + performance.now();
      if (!slot.ahead) this.arm(slot, job.posted + this.o.timeoutMs);
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
      if (!slot.job && !slot.ahead) return;
      const left = slot.deadline - (ORIGIN + performance.now());
      if (left > 0) this.watch(slot, left);
      else if (!slot.sized && (this.o.timeoutMsPerMb ?? 0) > 0) this.allowForSize(slot);
      else this.lose(slot, 'DECODE_TIMEOUT_MS', this.timeoutReason(slot));
    }, ms);
  }

  /**
   * A decode past the base limit: adds the time its file's size allows. Looked up only now (a
   * stat, off the path of every decode that ends in time), for what the thread still runs.
   */
  private allowForSize(slot: Slot): void {
    slot.sized = true;
    const running = slot.ahead ?? slot.job;
    const path = slot.ahead?.path ?? slot.job?.task.path;
    if (!running || path === undefined) return;
    const still = () => (slot.ahead ?? slot.job) === running && this.slots.includes(slot);
    stat(path).then(
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
    const { ahead } = slot;
    let job = slot.job;
    slot.job = undefined;
    slot.ahead = undefined;
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
    this.slots[i] = this.spawn();
    // A decode ahead runs before the task sent to its thread: it broke the limit, not the task's file.
    if (ahead && job?.task.path !== ahead.path) {
      if (job) this.queue.add(job, job.order);
      job = undefined;
      const file = this.aheadRoot === null ? ahead.path : relativeToRoot(this.aheadRoot, ahead.path);
      this.o.log?.warn({ file, limit }, `decoder replaced: ${reason} (the file decoded ahead of its task)`);
    }
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
