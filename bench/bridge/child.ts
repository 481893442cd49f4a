/** The bridge under measure, in its own process (bench/bridge-child.ts), driven over IPC. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Started } from '../../scripts/servers/services.js';
import type { ScanTimes } from '../../src/bridge/scan-times.js';
import { onCleanup, progress, Signal } from './harness.js';
import { CHILD, KEY, P, PROFILE_DIR, ROOT } from './settings.js';
import type { Variant } from './variants.js';

export type ChildMsg = { type: string; [k: string]: unknown };
export interface ChildSample {
  t: number;
  gcRan: boolean;
  mem: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
  maxRssKb: number;
  stats: Record<string, unknown> & { historyBacklog: number; historyWritten: number; pushed: number; pendingLatest: number | null };
  rejected: number;
}

export class BridgeChild {
  private readonly inbox: ChildMsg[] = [];
  private readonly signal = new Signal();
  private exited: string | undefined;
  private readonly forget: () => void;
  readyInfo: ChildMsg | undefined;

  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m) => {
      const msg = m as ChildMsg;
      if (msg.type === 'error') progress(`bridge child error: ${String(msg.message)}`);
      this.inbox.push(msg);
      this.signal.fire();
    });
    proc.on('exit', (code, sig) => {
      this.exited = `exited with ${code ?? sig}`;
      this.signal.fire();
    });
    this.forget = onCleanup(`bridge child ${proc.pid}`, () => this.kill());
  }

  /** `variant`: the bridge with one mechanism taken away (variants.ts), bench only. */
  static async spawn(env: Record<string, string>, recordPushes = true, variant: Variant = 'product'): Promise<BridgeChild> {
    const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const proc = spawn(process.execPath, ['--expose-gc', ...prof, '--import', 'tsx', CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_BRIDGE_ENV: JSON.stringify(env),
        BENCH_RECORD_PUSHES: recordPushes ? '1' : '0',
        BENCH_VARIANT: variant,
        LOG_PRETTY: '0',
      },
      // The child's stdout goes to our stderr: our stdout carries only the JSON result.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const c = new BridgeChild(proc);
    c.readyInfo = await c.next('ready', 60_000);
    return c;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The next message of this type (taken from the inbox). */
  async next(type: string, timeoutMs: number): Promise<ChildMsg> {
    let found: ChildMsg | undefined;
    await this.signal.until(
      () => {
        const i = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
        if (i >= 0) found = this.inbox.splice(i, 1)[0];
        if (!found && this.exited) throw new Error(`bridge child ${this.exited} while waiting for '${type}'`);
        return found !== undefined;
      },
      timeoutMs,
      `'${type}' from the bridge child`,
    );
    if (found!.type === 'error' && type !== 'error') throw new Error(`bridge child: ${String(found!.message)}`);
    return found!;
  }

  send(msg: Record<string, unknown>): void {
    this.proc.send(msg);
  }

  async sample(gc: boolean): Promise<ChildSample> {
    this.send({ cmd: 'sample', gc });
    return (await this.next('sample', 30_000)) as unknown as ChildSample;
  }

  /** The bridge's own 'pushed' events since the last call: scan number → its latencyMs, and the moments of its path. */
  async pushes(): Promise<{ latency: Map<number, number>; times: Map<number, ScanTimes> }> {
    this.send({ cmd: 'pushes' });
    const list = (await this.next('pushes', 30_000)).pushes as Array<[number, number, ScanTimes | null]>;
    return { latency: new Map(list.map(([n, ms]) => [n, ms])), times: new Map(list.flatMap(([n, , t]) => (t ? [[n, t] as const] : []))) };
  }

  async stop(): Promise<void> {
    if (this.exited) return this.forget();
    this.send({ cmd: 'stop' });
    try {
      await this.signal.until(() => this.exited !== undefined, 15_000, 'the bridge child to exit');
    } catch {
      await this.kill();
    }
    this.forget();
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGKILL');
    await this.signal.until(() => this.exited !== undefined, 5000, 'the bridge child to die').catch(() => undefined);
  }
}

export function childEnv(member: Started, arrowDir: string, map: string, history: string): Record<string, string> {
  return {
    HZ_MEMBERS: member.address,
    HZ_CLUSTER_NAME: 'dev',
    HZ_MAP: map,
    HZ_KEY: KEY,
    HZ_HISTORY_MAP: history,
    HZ_HISTORY_TTL_S: String(P.historyTtlS),
    ARROW_DIR: arrowDir,
    LOG_LEVEL: 'silent',
  };
}

export function pickStats(s: ChildSample['stats'], rejected: number) {
  const { pushed, historyWritten, olderSkipped, rejected: rej, retried, hazelcastErrors, historyBacklog, lastPushedScan } = s as Record<string, unknown>;
  return { pushed, historyWritten, olderSkipped, rejected: rej ?? rejected, retried, hazelcastErrors, historyBacklog, lastPushedScan };
}
