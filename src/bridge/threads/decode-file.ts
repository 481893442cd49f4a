/**
 * One scan file, from path to payload body: the work a decode worker thread does. Everything
 * here may take time that depends on the file, so it never runs on the main thread.
 */
import { performance } from 'node:perf_hooks';
import { readScanText } from '../arrow/fast-decoder.js';
import type { ScanHead } from '../hazelcast/payload.js';
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

/** What decoding a file's bytes gives: a {@link DecodeResult} of a read, without the file's facts. */
export type BytesDecoded =
  | { kind: 'ok'; scan: ScanHead; body: string; decoder: 'fast' | 'arrow'; decodeMs: number }
  | { kind: 'incomplete' | 'broken'; reason: string; decodeMs: number }
  | { kind: 'limit'; limit: Limit; reason: string; decodeMs: number };

/** Decodes a scan file's bytes within MAX_SCAN_BYTES. */
export function decodeScanBytes(bytes: Uint8Array, relPath: string, maxScanBytes: number): BytesDecoded {
  const t0 = performance.now();
  const run = withDecodeBudget(maxScanBytes, () => readScanText(bytes, { relPath }));
  const decodeMs = performance.now() - t0;
  if (run.hit) return { kind: 'limit', limit: run.hit.limit, reason: run.hit.message, decodeMs };
  if (!run.value) return { kind: 'broken', reason: `unexpected error reading scan: ${message(run.error)}`, decodeMs };
  const res = run.value;
  if (res.kind !== 'ok') return { kind: res.kind, reason: res.reason, decodeMs };
  return { kind: 'ok', scan: res.scan, body: res.body, decoder: res.decoder, decodeMs };
}

/** Reads and decodes the task's file; `onRead` is given the bytes read, if a read took place. */
export function decodeScanFile(task: DecodeTask, onRead?: (bytes: Uint8Array) => void): DecodeResult {
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
  onRead?.(file.bytes);
  return { ...decodeScanBytes(file.bytes, task.relPath, task.maxScanBytes), size: file.size, mtimeMs: file.mtimeMs, identity: file.identity };
}
