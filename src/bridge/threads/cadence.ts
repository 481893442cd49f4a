/**
 * When the next scan file should land, from when the last ones did: a scanner writes on a
 * clock (every 100 ms, every 5 s), and the decode thread uses the guess to warm its caches just
 * before (ahead.ts). It guesses only when the arrivals are regular, and says nothing otherwise.
 *
 * The guess is the arrival two back plus the usual time between every other arrival: for a
 * steady period that is the last arrival plus the period, and it also holds when two writers,
 * or a scanner that alternates two steps, take turns at uneven offsets (0, 115, 200, 315, ...).
 */

/** Arrivals looked at: 8 two-step gaps. */
const SPAN = 9;
/** Two-step gaps below this (a period under 20 ms): caches stay warm by themselves, and bursts are not a cadence. */
const MIN_GAP_MS = 40;
/** How far a two-step gap may stray from the usual one and still count as regular: the larger of these. */
const SLACK_MS = 2;
const SLACK_SHARE = 0.05;

export class Cadence {
  private readonly at: number[] = [];

  /** Records an arrival at `t` ms; returns when the next is due, ms on the same clock, or undefined when the arrivals are not regular. */
  arrive(t: number): number | undefined {
    const at = this.at;
    if (at.length > 0 && t < at[at.length - 1]!) at.length = 0; // the clock went back: start over
    at.push(t);
    if (at.length > SPAN) at.shift();
    if (at.length < SPAN) return undefined;
    const gaps = at.slice(2).map((x, i) => x - at[i]!);
    const usual = [...gaps].sort((a, b) => a - b)[gaps.length >> 1]!;
    if (usual < MIN_GAP_MS) return undefined;
    const slack = Math.max(SLACK_MS, usual * SLACK_SHARE);
    if (gaps.some((g) => Math.abs(g - usual) > slack)) return undefined;
    return at[at.length - 2]! + usual;
  }

  /** Forgets every arrival (the folder watched changed). */
  reset(): void {
    this.at.length = 0;
  }
}
