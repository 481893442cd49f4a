/**
 * What a process costs, read from /proc by its pid (Linux): CPU of all its threads (user + system),
 * resident memory and thread count. The same reading for every contender, Node or Python, so that
 * their figures compare; no code runs inside the process measured.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

export interface ProcSample {
  /** CPU of every thread of the process since it started, ms (resolution: one clock tick, 10 ms). */
  cpuMs: number;
  rssMb: number;
  threads: number;
}

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on: utime is field 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS, rssMb: Math.round(field('VmRSS') / 102.4) / 10, threads: field('Threads') };
}

/** CPU between two samples of one process, per scan and as a share of one core over the wall time between them. */
export function cpuBetween(a: ProcSample, b: ProcSample, wallMs: number, scans: number) {
  const ms = b.cpuMs - a.cpuMs;
  return {
    cpu_ms: Math.round(ms),
    cpu_ms_per_scan: scans > 0 ? Math.round((ms / scans) * 100) / 100 : null,
    percent_of_a_core: Math.round((ms / wallMs) * 1000) / 10,
  };
}
