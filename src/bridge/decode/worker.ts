/** Entry of a decode worker thread: decodes the scan files the pool sends, one at a time. */
import { parentPort } from 'node:worker_threads';
import { decodeScanFile, type DecodeResult, type DecodeTask } from './decode-file.js';

export interface TaskMessage {
  id: number;
  task: DecodeTask;
}

export interface ResultMessage {
  id: number;
  result: DecodeResult;
}

parentPort?.postMessage('ready');
parentPort?.on('message', ({ id, task }: TaskMessage) => {
  let result: DecodeResult;
  try {
    result = decodeScanFile(task);
  } catch (err) {
    // An I/O error other than "gone" (EACCES, EIO, ...): may pass, so the bridge tries again.
    result = { kind: 'incomplete', reason: err instanceof Error ? err.message : String(err), size: -1, mtimeMs: -1, decodeMs: 0 };
  }
  parentPort!.postMessage({ id, result } satisfies ResultMessage);
});
