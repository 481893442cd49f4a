/** Entry of a decode worker thread: decodes the scan files the pool sends, one at a time, and, if asked, decodes ahead (ahead.ts). */
import { performance } from 'node:perf_hooks';
import { parentPort, receiveMessageOnPort } from 'node:worker_threads';
import { DecodeAhead, type AheadMessage, type AheadNotice } from './ahead.js';
import { decodeScanFile, type DecodeResult, type DecodeTask } from './decode-file.js';

export interface TaskMessage {
  id: number;
  task: DecodeTask;
}

export interface ResultMessage {
  id: number;
  result: DecodeResult;
  /** When this thread took the task and when it replied, epoch ms (timeOrigin + now() is comparable across threads). */
  at: [received: number, replied: number];
  /** Answered from a decode ahead. */
  ahead?: true;
}

const ORIGIN = performance.timeOrigin;
const port = parentPort!;

function answer({ id, task }: TaskMessage): void {
  const received = ORIGIN + performance.now();
  const early = ahead.take(task);
  let result: DecodeResult;
  try {
    result = early ?? decodeScanFile(task);
  } catch (err) {
    // An I/O error other than "gone" (EACCES, EIO, ...): may pass, so the bridge tries again.
    result = { kind: 'incomplete', reason: err instanceof Error ? err.message : String(err), size: -1, mtimeMs: -1, decodeMs: 0 };
  }
  port.postMessage({ id, result, at: [received, ORIGIN + performance.now()], ...(early ? { ahead: true as const } : {}) } satisfies ResultMessage);
}

function onMessage(m: TaskMessage | AheadMessage): void {
  if ('ahead' in m) void ahead.watch(m.ahead);
  else answer(m);
}

const ahead = new DecodeAhead(
  (notice: AheadNotice) => port.postMessage(notice),
  () => {
    // The tasks that came while decoding ahead, now rather than at the event loop's next turn.
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) onMessage(m.message as TaskMessage | AheadMessage);
  },
);

port.postMessage('ready');
port.on('message', onMessage);
