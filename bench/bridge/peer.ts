/** The Python peer (python_peer.py) in its own process, and the LZ4 recoding of the latency files. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Started } from '../../scripts/servers/services.js';
import { onCleanup, progress, Signal } from './harness.js';
import { KEY, ROOT } from './settings.js';
// The tests' venv (npm test or scripts/test-setup.sh makes it): pyarrow, watchdog, the Hazelcast client.
import { PYTHON } from '../../test/python.js';

const HERE = path.join(ROOT, 'bench', 'bridge');

/** Rewrites every *.arrow of `inDir` into `outDir` with pyarrow's feather writer and LZ4, as the scanner writes them. */
export function recodeLz4(inDir: string, outDir: string): void {
  const r = spawnSync(PYTHON, [path.join(HERE, 'lz4_recode.py'), inDir, outDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lz4_recode.py failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
}

export class PythonPeer {
  /** Lines "error <path> <reason>": files the peer could not push. */
  readonly errors: string[] = [];
  private ready = false;
  private exited: string | undefined;
  private readonly signal = new Signal();
  private readonly forget: () => void;

  private constructor(private readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'ready') this.ready = true;
        else if (line.startsWith('error ')) this.errors.push(line);
        this.signal.fire();
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => progress(`python peer: ${chunk.trimEnd()}`));
    proc.on('exit', (code, sig) => {
      this.exited = `exited with ${code ?? sig}`;
      this.signal.fire();
    });
    this.forget = onCleanup(`python peer ${proc.pid}`, () => this.stop());
  }

  static async start(member: Started, arrowDir: string, mapName: string): Promise<PythonPeer> {
    const proc = spawn(PYTHON, [path.join(HERE, 'python_peer.py'), arrowDir, member.address, 'dev', mapName, KEY], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PythonPeer(proc);
    await peer.signal.until(
      () => {
        if (peer.exited) throw new Error(`the python peer ${peer.exited} before it was ready (pip install -r requirements-test.txt installs watchdog)`);
        return peer.ready;
      },
      60_000,
      'the python peer to be ready',
    );
    return peer;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Closing stdin ends it; a peer that does not leave within 10 s is killed. */
  async stop(): Promise<void> {
    this.forget();
    if (this.exited) return;
    this.proc.stdin!.end();
    try {
      await this.signal.until(() => this.exited !== undefined, 10_000, 'the python peer to exit');
    } catch {
      this.proc.kill('SIGKILL');
      await this.signal.until(() => this.exited !== undefined, 5000, 'the python peer to die').catch(() => undefined);
    }
  }
}
