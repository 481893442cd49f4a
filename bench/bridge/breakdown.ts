/**
 * Where the time of one scan goes, from the bridge's own moments (src/bridge/scan-times.ts,
 * epoch ms taken in the bridge process) set beside the bench's rename and listener times (the
 * bench's performance clock turned into epoch ms the same way). Both processes read the same
 * system clock; what the two clocks disagree by is well under the 0.1 ms these are rounded to.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { readScanText } from '../../src/bridge/arrow/fast-decoder.js';
import { bodyJson, composePayload } from '../../src/bridge/hazelcast/payload.js';
import { readScan } from '../../src/bridge/arrow/reference-decoder.js';
import type { ScanTimes } from '../../src/bridge/scan-times.js';
import { summarize } from './harness.js';

const STAGES = [
  ['file_event', 'rename → the bridge sees the file event (inotify, fs.watch)'],
  ['read_decode', 'file event → scan in hand: the file read, checked complete, decoded'],
  ['payload', 'scan → payload text built'],
  ['to_send', 'payload built → compare-and-set called'],
  ['cas_round_trip', 'compare-and-set called → answered (replaceIfSame, one round trip in the usual case)'],
  ['listener_after_answer', "compare-and-set answered → the second client's entry listener sees the value (negative: the event came first)"],
  ['total', 'rename → the entry listener sees the value'],
  ['history_after_answer', 'compare-and-set answered → history write called (written after the latest value, not beside it)'],
  ['history_round_trip', 'history write called → answered'],
] as const;

/** Each scan's time in each stage, ms, by scan number. */
function perScanStages(ns: number[], renamedAt: Map<number, number>, seenAt: Map<number, number>, times: Map<number, ScanTimes>) {
  const toEpoch = (mono: number) => performance.timeOrigin + mono;
  const out = new Map<number, Partial<Record<(typeof STAGES)[number][0], number>>>();
  for (const n of ns) {
    const t = times.get(n);
    const r = renamedAt.get(n);
    const s = seenAt.get(n);
    if (!t || r === undefined || s === undefined) continue;
    const rename = toEpoch(r);
    const seen = toEpoch(s);
    const row: Partial<Record<(typeof STAGES)[number][0], number>> = {};
    const add = (k: (typeof STAGES)[number][0], a: number | undefined, b: number | undefined) => void (a !== undefined && b !== undefined && (row[k] = b - a));
    add('file_event', rename, t.event);
    add('read_decode', t.event, t.decoded);
    add('payload', t.decoded, t.payload);
    add('to_send', t.payload, t.latestSent);
    add('cas_round_trip', t.latestSent, t.latestAnswered);
    add('listener_after_answer', t.latestAnswered, seen);
    add('total', rename, seen);
    add('history_after_answer', t.latestAnswered, t.historySent);
    add('history_round_trip', t.historySent, t.historyAnswered);
    out.set(n, row);
  }
  return out;
}

export function stageBreakdown(ns: number[], renamedAt: Map<number, number>, seenAt: Map<number, number>, times: Map<number, ScanTimes>) {
  const rows = [...perScanStages(ns, renamedAt, seenAt, times).values()];
  return STAGES.map(([stage, what]) => {
    const s = summarize(rows.flatMap((r) => (r[stage] === undefined ? [] : [r[stage]])));
    return { stage, what, scans: s.count, p50_ms: s.p50, p90_ms: s.p90, p99_ms: s.p99 };
  });
}

/**
 * The tail's cause, measured: the slowest 2 % of scans (rename → listener), and for each the stage
 * that was furthest above its own median in that scan. `blamed` counts the scans each stage
 * dominated; `excess_ms_p50` is how far above its median the stage was in the tail scans.
 */
export function tailCause(ns: number[], renamedAt: Map<number, number>, seenAt: Map<number, number>, times: Map<number, ScanTimes>) {
  const rows = [...perScanStages(ns, renamedAt, seenAt, times).entries()].filter(([, r]) => r.total !== undefined);
  const path = STAGES.map(([k]) => k).filter((k) => k !== 'total' && !k.startsWith('history'));
  const median = Object.fromEntries(path.map((k) => [k, summarize(rows.flatMap(([, r]) => (r[k] === undefined ? [] : [r[k]]))).p50 ?? 0]));
  const sorted = [...rows].sort((a, b) => b[1].total! - a[1].total!);
  const tail = sorted.slice(0, Math.max(3, Math.ceil(rows.length * 0.02)));
  const blamed: Record<string, number> = {};
  const excess: Record<string, number[]> = Object.fromEntries(path.map((k) => [k, []]));
  for (const [, r] of tail) {
    let worst = '';
    let worstBy = -Infinity;
    for (const k of path) {
      const by = (r[k] ?? median[k]!) - median[k]!;
      excess[k]!.push(by);
      if (by > worstBy) [worst, worstBy] = [k, by];
    }
    blamed[worst] = (blamed[worst] ?? 0) + 1;
  }
  return {
    what: 'the slowest 2 % of scans; for each, the stage furthest above its own median',
    tail_scans: tail.length,
    tail_total_ms_min: summarize(tail.map(([, r]) => r.total!)).min,
    blamed,
    excess_ms_p50: Object.fromEntries(path.map((k) => [k, summarize(excess[k]!).p50])),
  };
}

/** How many Hazelcast calls each write of the latest value took (1 in the usual case). */
export function casCalls(times: Map<number, ScanTimes>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of times.values()) if (t.calls !== undefined) out[String(t.calls)] = (out[String(t.calls)] ?? 0) + 1;
  return out;
}

/**
 * The CPU of the pure steps on the same LZ4 files, in this process: the file read (sync), the
 * decode as the decode worker does it (readScanText: head and body JSON; each file must be read
 * by the fast decoder), the same with apache-arrow (readScan + bodyJson, the path of files
 * outside the fast decoder's types), and the payload joined on the main thread.
 */
export function cpuSplit(arrowDir: string, relPaths: string[]) {
  const read: number[] = [];
  const decode: number[] = [];
  const arrow: number[] = [];
  const payload: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const rel of relPaths) {
      const t0 = performance.now();
      const bytes = readFileSync(path.join(arrowDir, rel));
      const t1 = performance.now();
      const r = readScanText(bytes, { relPath: rel });
      const t2 = performance.now();
      if (r.kind !== 'ok') throw new Error(`${rel} does not read back: ${r.reason}`);
      if (r.decoder !== 'fast') throw new Error(`${rel} was not read by the fast decoder: ${r.handedOver}`);
      const a = readScan(bytes, { relPath: rel });
      if (a.kind === 'ok') bodyJson(a.scan.body);
      const t3 = performance.now();
      composePayload(r.scan, r.body, { sourceFile: rel, bridgeId: 'bench', writtenAtMs: Date.now() });
      const t4 = performance.now();
      if (round === 0) continue; // warm-up
      read.push(t1 - t0);
      decode.push(t2 - t1);
      arrow.push(t3 - t2);
      payload.push(t4 - t3);
    }
  }
  return {
    note: 'bench process (code run by tsx), warm, back to back',
    files: relPaths.length,
    read_file_ms_p50: summarize(read).p50,
    decode_ms_p50: summarize(decode).p50,
    arrow_decode_ms_p50: summarize(arrow).p50,
    compose_payload_ms_p50: summarize(payload).p50,
  };
}
