import { spawn } from 'node:child_process';
import { EventLog } from './helpers.js';
import { PYTHON } from './python.js';

/** A child process of a consumer: its output, its lines as they come, its exit and when. */
function watch(proc: ReturnType<typeof spawn>, linesFrom: 'stdout' | 'stderr') {
  let out = '';
  let err = '';
  const lines = new EventLog<string>();
  proc.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    if (linesFrom === 'stdout') for (const l of b.toString().split('\n')) if (l) lines.push(l);
  });
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    if (linesFrom === 'stderr') for (const l of b.toString().split('\n')) if (l) lines.push(l);
  });
  const exited = new Promise<{ code: number | null; at: number }>((ok) => proc.once('exit', (code) => ok({ code, at: Date.now() })));
  return { lines, exited, out: () => out, err: () => err, kill: () => proc.kill('SIGTERM') };
}

/**
 * Runs a Python script with the HZ_* settings of `env`, in the project's venv, where
 * `scan_bridge_client` is installed as a package (not imported from its folder); lines from stdout.
 */
export function runPython(script: string, env: Record<string, string>) {
  return watch(spawn(PYTHON, ['-c', script], { env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }), 'stdout');
}

/** `scan-bridge wait …` as a child, lines from stderr; Redis deliberately unreachable: wait must not need it. */
export function waitCli(env: Record<string, string>, ...args: string[]) {
  return watch(
    spawn(process.execPath, ['dist/cli.js', 'wait', ...args], {
      env: { ...process.env, ...env, REDIS_URL: 'redis://127.0.0.1:1', LOG_PRETTY: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    'stderr',
  );
}
