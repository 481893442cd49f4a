/**
 * The fuzz test of issue 8: mutants (bit flips, truncations, duplicated chunks) of small valid
 * scans written by pyarrow, compressed (LZ4, ZSTD) and not, in the file and the stream format.
 * Every mutant goes through the real decode path, the decode pool's worker threads; then a
 * sample of them, the slowest first, goes to a real bridge process on real Hazelcast. No mutant
 * takes a process down, and the next good scan is pushed. The decoder time per mutant is
 * printed and written to test-artifacts/fuzz.json. Seeded: FUZZ_SEED makes another run.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecodePool } from '../src/bridge/threads/pool.js';
import type { DecodeResult } from '../src/bridge/threads/decode-file.js';
import { dayFolder, scanFileName } from '../src/bridge/watch/scan-files.js';
import { eventually, killChildren, maxLag, spawnRoles, tempDir, writeScanFile } from './helpers.js';
import { makeHostileFiles } from './hostile-fixtures.js';
import { MUTATIONS, mutate, percentiles, type Mutation } from './mutants.js';
import { mulberry32 } from '../src/demo/scan-writer.js';
import { fastEnv, latestOf } from './bridge-roles.js';

const SEEDS = ['file', 'stream'].flatMap((format) => ['none', 'lz4', 'zstd'].map((c) => `seed_${format}_${c}`));
const PER_SEED = 500;
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const DECODE_TIMEOUT_MS = 1000;
const MIB = 1024 * 1024;
/** Mutants the bridge process is given: the slowest of the pool run, then others. */
const BRIDGE_SAMPLE = 120;

interface Outcome {
  seed: string;
  op: Mutation;
  detail: string;
  path: string;
  kind: DecodeResult['kind'];
  reason: string;
  /** Time in the decoder (the worker's own measure; DECODE_TIMEOUT_MS for a decode stopped at it). */
  decoderMs: number;
  /** From handing the file to the pool to its answer on the main thread. */
  roundTripMs: number;
}

let fixtures = '';
let work = '';
const outcomes: Outcome[] = [];
const report: Record<string, unknown> = { fuzzSeed: FUZZ_SEED, decodeTimeoutMs: DECODE_TIMEOUT_MS };

beforeAll(() => {
  fixtures = makeHostileFiles({ seedsOnly: true });
  work = tempDir('scan-fuzz-');
}, 120_000);
afterEach(killChildren);
afterAll(() => {
  mkdirSync('test-artifacts', { recursive: true });
  writeFileSync('test-artifacts/fuzz.json', `${JSON.stringify(report, null, 2)}\n`);
});

function reasonOf(r: DecodeResult): string {
  return 'reason' in r ? r.reason : r.kind;
}

describe('fuzz: mutants of compressed and uncompressed, file and stream scans', () => {
  it(`${SEEDS.length * PER_SEED} mutants through the decode pool: every one answered, none takes the process down, the next good scan decodes`, async () => {
    const rnd = mulberry32(FUZZ_SEED);
    const pool = new DecodePool({ size: 2, timeoutMs: DECODE_TIMEOUT_MS, maxScanBytes: 256 * MIB, maxFileBytes: 256 * MIB });
    expect(await pool.ready()).toBe(true);
    try {
      const todo: Array<Omit<Outcome, 'kind' | 'reason' | 'decoderMs' | 'roundTripMs'>> = [];
      for (const seed of SEEDS) {
        const bytes = new Uint8Array(readFileSync(join(fixtures, `${seed}.arrow`)));
        for (let i = 0; i < PER_SEED; i++) {
          const m = mutate(bytes, MUTATIONS[i % MUTATIONS.length]!, rnd);
          const path = join(work, `${seed}.${i}.arrow`);
          writeFileSync(path, m.bytes);
          todo.push({ seed, op: m.op, detail: m.detail, path });
        }
      }
      const t0 = performance.now();
      // Two at a time, as many as the pool has decoders: the round trip is then the decode's own.
      let next = 0;
      const lane = async () => {
        while (next < todo.length) {
          const m = todo[next++]!;
          const start = performance.now();
          const r = await pool.decode(m.path, `fuzz/${m.seed}.arrow`);
          const roundTripMs = performance.now() - start;
          const decoderMs = 'decodeMs' in r ? r.decodeMs : roundTripMs;
          outcomes.push({ ...m, kind: r.kind, reason: reasonOf(r), decoderMs, roundTripMs });
        }
      };
      // The main thread's longest stall meanwhile: the decoding happens elsewhere.
      const { lagMs } = await maxLag(Promise.all([lane(), lane()]));
      const wallMs = performance.now() - t0;

      expect(outcomes).toHaveLength(todo.length);
      expect(outcomes.length).toBeGreaterThanOrEqual(2000);
      // Each answer is one the bridge knows what to do with; a broken file says why.
      const kinds = new Set(outcomes.map((o) => o.kind));
      for (const k of kinds) expect(['ok', 'broken', 'incomplete', 'limit']).toContain(k);
      for (const o of outcomes.filter((x) => x.kind !== 'ok')) expect(o.reason.length).toBeGreaterThan(0);
      // Each kind of mutation met a seed of each flavour.
      for (const seed of SEEDS) for (const op of MUTATIONS) expect(outcomes.some((o) => o.seed === seed && o.op === op)).toBe(true);

      // The pool is still whole: a good scan decodes, in each flavour.
      for (const seed of SEEDS) {
        const r = await pool.decode(join(fixtures, `${seed}.arrow`), `fuzz/${seed}.arrow`);
        expect(r.kind).toBe('ok');
      }

      const count = (pred: (o: Outcome) => boolean) => outcomes.filter(pred).length;
      const byKind = Object.fromEntries([...kinds].map((k) => [k, count((o) => o.kind === k)]));
      const limits = Object.fromEntries(
        [...new Set(outcomes.filter((o) => o.kind === 'limit').map((o) => o.reason))].map((r) => [r, count((o) => o.reason === r)]),
      );
      const slowest = [...outcomes].sort((a, b) => b.decoderMs - a.decoderMs).slice(0, 10);
      Object.assign(report, {
        mutants: outcomes.length,
        seeds: SEEDS,
        mutations: MUTATIONS,
        wallS: Math.round(wallMs / 100) / 10,
        byKind,
        limits,
        decodersReplaced: pool.replaced,
        decoderMs: percentiles(outcomes.map((o) => o.decoderMs)),
        decoderMsByFlavour: Object.fromEntries(SEEDS.map((s) => [s, percentiles(outcomes.filter((o) => o.seed === s).map((o) => o.decoderMs))])),
        roundTripMs: percentiles(outcomes.map((o) => o.roundTripMs)),
        mainThreadMaxLagMs: Math.round(lagMs),
        slowest: slowest.map(({ seed, op, detail, kind, reason, decoderMs }) => ({
          seed,
          op,
          detail,
          kind,
          reason,
          decoderMs: Math.round(decoderMs * 100) / 100,
        })),
      });
      console.log(
        `fuzz (seed ${FUZZ_SEED}): ${outcomes.length} mutants in ${String(report.wallS)} s; ${JSON.stringify(byKind)}; decoder ms ${JSON.stringify(report.decoderMs)}; round trip ms ${JSON.stringify(report.roundTripMs)}; main thread max lag ${String(report.mainThreadMaxLagMs)} ms`,
      );
    } finally {
      await pool.close();
    }
  }, 90_000);

  it(`${BRIDGE_SAMPLE} of them, the slowest first, dropped into a real bridge's folder: the process lives and the next good scans are pushed`, async () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(2000);
    const env = fastEnv({ DECODE_TIMEOUT_MS: String(DECODE_TIMEOUT_MS) });
    const bridge = spawnRoles(['bridge'], env);
    const latest = await latestOf(env);
    const landed = (n: number, timeoutMs: number) =>
      eventually(`scan #${n} in Hazelcast`, async () => ((await latest.get())?.scan_number === n ? Date.now() : undefined), timeoutMs);
    try {
      writeScanFile(env.ARROW_DIR!, 1);
      await landed(1, 30_000);
      await eventually('the decoder threads', () => (bridge.output().includes('decoder threads ready') ? true : undefined), 30_000);

      const byTime = [...outcomes].sort((a, b) => b.decoderMs - a.decoderMs);
      const sample = [...byTime.slice(0, BRIDGE_SAMPLE / 2), ...byTime.slice(BRIDGE_SAMPLE / 2).filter((_, i) => i % 30 === 0)].slice(0, BRIDGE_SAMPLE);
      const now = new Date();
      const day = join(env.ARROW_DIR!, dayFolder(now));
      mkdirSync(day, { recursive: true });
      sample.forEach((m, i) => {
        // Named like scans the bridge has not seen, put in place whole (a dotted name, then a rename).
        const tmp = join(env.ARROW_DIR!, `.fuzz-${i}.tmp`);
        writeFileSync(tmp, readFileSync(m.path));
        renameSync(tmp, join(day, scanFileName(100 + i, now)));
      });
      const wroteAt = Date.now();
      writeScanFile(env.ARROW_DIR!, 1000);
      // Behind the sample in the decoders' queue: each stopped decode costs at most DECODE_TIMEOUT_MS on one of two threads.
      const stopped = sample.filter((m) => m.kind === 'limit').length;
      const afterSampleMs = (await landed(1000, 10_000 + stopped * DECODE_TIMEOUT_MS)) - wroteAt;
      expect(bridge.proc.exitCode).toBeNull();
      // And the one after it, at the usual pace.
      const t1 = Date.now();
      writeScanFile(env.ARROW_DIR!, 1001);
      const nextMs = (await landed(1001, DECODE_TIMEOUT_MS + 1000)) - t1;
      expect(nextMs).toBeLessThan(DECODE_TIMEOUT_MS + 1000);
      expect(bridge.proc.exitCode).toBeNull();
      expect(bridge.output()).not.toMatch(/FATAL|heap out of memory|uncaught/i);
      report.bridge = { sample: sample.length, stoppedInPool: stopped, goodScanAfterSampleMs: afterSampleMs, nextGoodScanMs: nextMs };
      console.log(
        `fuzz bridge: ${sample.length} mutants (${stopped} stopped at a limit in the pool run), then a good scan pushed ${afterSampleMs} ms after it was written, the next in ${nextMs} ms`,
      );
    } finally {
      await latest.close();
    }
  }, 90_000);
});
