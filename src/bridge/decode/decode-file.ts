/**
 * One scan file, from path to payload body: the work a decode worker thread does. Everything
 * here may take time that depends on the file, so it never runs on the main thread.
 */
import { performance } from 'node:perf_hooks';
import { readScanText } from '../fast-scan.js';
import type { ScanHead } from '../payload.js';
import { withDecodeBudget, type Limit } from './limits.js';
import { readScanFileSync } from './read-file.js';

export interface DecodeTask {
  path: string;
  relPath: string;
  /** MAX_SCAN_BYTES */
  maxScanBytes: number;
  /** MAX_SCAN_FILE_BYTES */
  maxFileBytes: number;
  /** Size and mtime of the quarantined version of this file: unchanged, it is not read. */
  quarantined?: { size: number; mtimeMs: number } | undefined;
}

interface FileFacts {
  size: number;
  mtimeMs: number;
  /** Of the file read, when it was read (read-file.ts fileIdentity). */
  identity?: string;
}

export type DecodeResult =
  /** `decoder`: which decoder read it (fast-scan.ts). */
  | ({ kind: 'ok'; scan: ScanHead; body: string; decoder: 'fast' | 'arrow'; decodeMs: number } & FileFacts)
  | ({ kind: 'incomplete'; reason: string; decodeMs: number } & FileFacts)
  | ({ kind: 'broken'; reason: string; decodeMs: number } & FileFacts)
  /** Broke a limit (or the decoder): quarantined until its size or mtime changes. */
  | ({ kind: 'limit'; limit: Limit; reason: string; decodeMs: number } & FileFacts)
  | ({ kind: 'quarantined' } & FileFacts)
  | { kind: 'gone' }
  | { kind: 'not-regular'; what: string };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function decodeScanFile(task: DecodeTask): DecodeResult {
  const file = readScanFileSync(task.path, task.maxFileBytes, task.quarantined);
  switch (file.kind) {
    case 'gone':
    case 'not-regular':
      return file;
    case 'unchanged':
      return { kind: 'quarantined', size: file.size, mtimeMs: file.mtimeMs };
    case 'too-large':
      return { kind: 'limit', limit: 'MAX_SCAN_FILE_BYTES', reason: file.reason, size: file.size, mtimeMs: file.mtimeMs, decodeMs: 0 };
  }
  const facts = { size: file.size, mtimeMs: file.mtimeMs, identity: file.identity };
  const t0 = performance.now();
  const run = withDecodeBudget(task.maxScanBytes, () => readScanText(file.bytes, { relPath: task.relPath }));
  const decodeMs = performance.now() - t0;
  if (run.hit) return { kind: 'limit', limit: run.hit.limit, reason: run.hit.message, decodeMs, ...facts };
  if (!run.value) return { kind: 'broken', reason: `unexpected error reading scan: ${message(run.error)}`, decodeMs, ...facts };
  const res = run.value;
  if (res.kind !== 'ok') return { kind: res.kind, reason: res.reason, decodeMs, ...facts };
  return { kind: 'ok', scan: res.scan, body: res.body, decoder: res.decoder, decodeMs, ...facts };
}
