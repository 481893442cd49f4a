/** Entry of a decode worker thread: decodes the scan files the pool sends, one at a time. */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
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
}

const ORIGIN = performance.timeOrigin;
const port = parentPort!;

port.on('message', ({ id, task }: TaskMessage) => {
  const received = ORIGIN + performance.now();
  let result: DecodeResult;
  try {
    result = decodeScanFile(task);
  } catch (err) {
    // An I/O error other than "gone" (EACCES, EIO, ...): may pass, so the bridge tries again.
    result = { kind: 'incomplete', reason: err instanceof Error ? err.message : String(err), size: -1, mtimeMs: -1, decodeMs: 0 };
  }
  port.postMessage({ id, result, at: [received, ORIGIN + performance.now()] } satisfies ResultMessage);
});
port.postMessage('ready');
