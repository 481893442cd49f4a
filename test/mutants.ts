/** Mutants of scan files for the fuzz test: seeded (mulberry32), so a failing mutant can be made again. */

export const MUTATIONS = ['bit flips', 'truncation', 'duplicated chunk'] as const;
export type Mutation = (typeof MUTATIONS)[number];

export interface Mutant {
  op: Mutation;
  /** What was done, to make it again by hand: offsets and lengths. */
  detail: string;
  bytes: Uint8Array;
}

/** One mutant of `seed`: 1 to 8 flipped bits, a cut at a random length, or a chunk of up to 256 bytes copied elsewhere. */
export function mutate(seed: Uint8Array, op: Mutation, rnd: () => number): Mutant {
  const int = (n: number) => Math.floor(rnd() * n);
  switch (op) {
    case 'bit flips': {
      const bytes = seed.slice();
      const flips = 1 + int(8);
      const at: string[] = [];
      for (let i = 0; i < flips; i++) {
        const pos = int(bytes.length);
        const bit = int(8);
        bytes[pos]! ^= 1 << bit;
        at.push(`${pos}.${bit}`);
      }
      return { op, detail: `bits ${at.join(',')}`, bytes };
    }
    case 'truncation': {
      const len = int(seed.length);
      return { op, detail: `cut to ${len} of ${seed.length} bytes`, bytes: seed.slice(0, len) };
    }
    case 'duplicated chunk': {
      const from = int(seed.length);
      const len = 1 + int(Math.min(256, seed.length - from));
      const to = int(seed.length + 1);
      const bytes = new Uint8Array(seed.length + len);
      bytes.set(seed.subarray(0, to), 0);
      bytes.set(seed.subarray(from, from + len), to);
      bytes.set(seed.subarray(to), to + len);
      return { op, detail: `${len} bytes from ${from} copied in at ${to}`, bytes };
    }
  }
}

/** p50, p99 and max of `xs` (nearest rank), rounded to 0.01. */
export function percentiles(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? 0), n: s.length };
}
