/**
 * Issue 24's targets over several latency runs of one bench (`--runs N`), each against the Python
 * peer of the same run: the p99 below the peer's in at least 4 of 5 runs (the same share of N);
 * p50 at least 1.3 × faster and CPU per scan no more than the peer's, on the median run; idle CPU
 * at most 1 % of a core and resident memory at idle at most 1.5 × the peer's, for the process
 * operators run (`start --role bridge`, idle.ts) beside the peer's own idle figures.
 */
import { r2 } from './harness.js';
import { TARGETS_24 } from './comparison.js';

interface RunFigures {
  p50: number | null;
  p99: number | null;
  cpuPerScan: number | null;
  missing: number;
}
export interface Run {
  bridge: RunFigures;
  peer: RunFigures & { idleRssMb: number };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : null;
};

export function runTargets(runs: Run[], idle: { percent_of_a_core: number; rss_mb: number } | undefined) {
  const ok = runs.filter((r) => r.bridge.missing === 0);
  const p99Below = ok.filter((r) => r.bridge.p99 !== null && r.peer.p99 !== null && r.bridge.p99 < r.peer.p99).length;
  const p99Needed = Math.ceil((runs.length * 4) / 5);
  const ratios = (f: (r: Run) => [number | null, number | null]) =>
    ok.flatMap((r) => {
      const [a, b] = f(r);
      return a !== null && b !== null && a > 0 && b > 0 ? [a / b] : [];
    });
  const p50Speedup = median(ratios((r) => [r.peer.p50, r.bridge.p50]));
  const cpuRatio = median(ratios((r) => [r.bridge.cpuPerScan, r.peer.cpuPerScan]));
  const peerRss = median(runs.map((r) => r.peer.idleRssMb));
  return [
    {
      name: `p50 at least ${TARGETS_24.p50FasterBy} x faster than the python peer (median of ${runs.length} runs)`,
      value: r2(p50Speedup),
      target: `>= ${TARGETS_24.p50FasterBy} x`,
      met: p50Speedup !== null && p50Speedup >= TARGETS_24.p50FasterBy && ok.length === runs.length,
    },
    {
      name: 'p99 below the python peer p99',
      value: `${p99Below} of ${runs.length} runs`,
      target: `>= ${p99Needed} of ${runs.length}`,
      met: p99Below >= p99Needed,
    },
    {
      name: 'CPU per scan (all threads, idle included) no more than the python peer (median ratio)',
      value: r2(cpuRatio),
      target: '<= 1 x',
      met: cpuRatio !== null && cpuRatio <= 1,
    },
    ...(idle
      ? [
          {
            name: `idle CPU of start --role bridge at most ${TARGETS_24.idlePercentOfCore} % of a core`,
            value: idle.percent_of_a_core,
            target: `<= ${TARGETS_24.idlePercentOfCore} %`,
            met: idle.percent_of_a_core <= TARGETS_24.idlePercentOfCore,
          },
          {
            name: `resident memory of start --role bridge at idle at most ${TARGETS_24.rssTimesPeer} x the python peer's (${peerRss} MB)`,
            value: idle.rss_mb,
            target: `<= ${r2((peerRss ?? 0) * TARGETS_24.rssTimesPeer)} MB`,
            met: peerRss !== null && idle.rss_mb <= peerRss * TARGETS_24.rssTimesPeer,
          },
        ]
      : []),
  ];
}
