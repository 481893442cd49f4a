import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, found from this file in scripts/servers. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HAZELCAST_VERSION = '5.6.0';

export interface Started {
  /** Connection string: a redis:// URL or a host:port member. */
  address: string;
  port: number;
  pid: number;
  stop: () => Promise<void>;
  /** SIGKILL: a crash, not a shutdown. */
  kill: () => Promise<void>;
}

/** A TCP port that was free a moment ago on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      ok(true);
    });
    s.once('error', () => ok(false));
  });
}

/** Whether nothing listens on `port` on loopback: this process can bind it itself. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}

/** A port another process holds: starting there would only find that process answering. */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
  constructor(
    readonly port: number,
    what: string,
  ) {
    super(`port ${port} on 127.0.0.1 is already in use by another process: ${what} cannot listen there`);
  }
}

async function assertPortFree(port: number, what: string): Promise<void> {
  if (!(await portFree(port))) throw new PortTakenError(port, what);
}

/** Polls `ready` until it returns true, or fails after `timeoutMs` with `what` in the message. */
export async function waitUntil(what: string, ready: () => boolean | Promise<boolean>, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what}: process exited with code ${child.exitCode}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Path of the member jar, fetched through Maven on first use. */
export function hazelcastJar(): string {
  const jar = join(ROOT, '.cache', 'hazelcast', `hazelcast-${HAZELCAST_VERSION}.jar`);
  if (!existsSync(jar)) {
    execFileSync('bash', [join(ROOT, 'scripts', 'fetch-hazelcast.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return jar;
}

interface SpawnOpts {
  port?: number;
  /** Keep running after this process exits (services:up); logs go to `logFile`. */
  detached?: boolean;
  logFile?: string;
}

interface RedisOpts extends SpawnOpts {
  /** More `redis-server` arguments, e.g. `['--replicaof', '127.0.0.1', '7000']`. */
  args?: string[];
  /**
   * Redis's working folder (`--dir`), kept after it stops. @defaultValue a new folder of this
   * start's own, removed once the server has stopped
   */
  dir?: string;
  /** Keep the data in an append-only file in {@link dir}, read again by the next start there. @defaultValue no persistence */
  persist?: boolean;
}

/** Stops `child` with `signal` (SIGKILL after 10 s), then runs `after` once it has exited. */
function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', after: () => void = () => undefined): () => Promise<void> {
  const exited = () =>
    new Promise<void>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        ok();
      });
      child.kill(signal);
    });
  return () => exited().then(after);
}

/**
 * Where the child's output goes, and how to read what it printed since this start: a log file
 * is appended to (earlier starts stay readable), but only its new part counts for readiness.
 */
function output(opts: SpawnOpts, child: () => ChildProcess | undefined): { stdio: 'pipe' | number; attach(): void; text(): string } {
  if (opts.logFile) {
    const file = opts.logFile;
    mkdirSync(dirname(file), { recursive: true });
    const from = existsSync(file) ? statSync(file).size : 0;
    return { stdio: openSync(file, 'a'), attach: () => undefined, text: () => readFileSync(file).subarray(from).toString() };
  }
  let log = '';
  const collect = (b: Buffer) => {
    if (log.length < 200_000) log += b.toString();
  };
  return {
    stdio: 'pipe',
    // Keep draining the pipes so the server never blocks on a full stdout.
    attach: () => {
      child()?.stdout?.on('data', collect);
      child()?.stderr?.on('data', collect);
    },
    text: () => log,
  };
}

/** Starts `redis-server` (Debian's) on loopback, without persistence unless `persist`. */
export async function startRedis(opts: RedisOpts = {}): Promise<Started> {
  const port = opts.port ?? (await freePort());
  await assertPortFree(port, 'redis-server');
  // The output reader asks for the process once it runs.
  const proc: { child?: ChildProcess } = {};
  const out = output(opts, () => proc.child);
  // A folder of this start's own: a file left by another server (nodes.conf, a dump) never reaches this one.
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'scan-bridge-redis-'));
  if (opts.dir) mkdirSync(dir, { recursive: true });
  const removeDir = opts.dir ? () => undefined : () => rmSync(dir, { recursive: true, force: true });
  const child = (proc.child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      opts.persist ? 'yes' : 'no',
      '--protected-mode',
      'yes',
      '--dir',
      dir,
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', out.stdio, out.stdio], detached: opts.detached ?? false },
  ));
  out.attach();
  // Ready when this very process says so: a port that answers may be someone else's server.
  const own = child;
  await waitUntil(
    `redis-server on port ${port}`,
    async () => out.text().includes('Ready to accept connections') && (await portAnswers(port)),
    15_000,
    own,
  ).catch(async (err: unknown) => {
    await stopper(own, 'SIGKILL', removeDir)();
    throw new Error(`${(err as Error).message}\n${out.text().slice(-2000)}`, { cause: err });
  });
  if (opts.detached) child.unref();
  return { address: `redis://127.0.0.1:${port}`, port, pid: own.pid!, stop: stopper(own, 'SIGTERM', removeDir), kill: stopper(own, 'SIGKILL', removeDir) };
}

interface HazelcastOpts extends SpawnOpts {
  clusterName?: string;
  heap?: string;
  /** Every member of the cluster, this one included, as `host:port`. @defaultValue this one alone */
  members?: string[];
}

/**
 * Starts a Hazelcast member from the Maven jar with deploy/hazelcast.xml. Ready at "is STARTED"
 * and, when it has fellow `members`, once it sees all of them.
 */
export async function startHazelcast(opts: HazelcastOpts = {}): Promise<Started> {
  const port = opts.port ?? (await freePort());
  await assertPortFree(port, 'the Hazelcast member');
  const jar = hazelcastJar();
  const proc: { child?: ChildProcess } = {};
  const out = output(opts, () => proc.child);
  const heap = opts.heap ?? '384m';
  const child = spawn(
    'java',
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.net.preferIPv4Stack=true',
      `-Dhazelcast.config=${join(ROOT, 'deploy', 'hazelcast.xml')}`,
      `-Dscanbridge.hz.port=${port}`,
      `-Dscanbridge.hz.cluster=${opts.clusterName ?? 'dev'}`,
      `-Dscanbridge.hz.members=${(opts.members ?? [`127.0.0.1:${port}`]).join(',')}`,
      '-cp',
      jar,
      'com.hazelcast.core.server.HazelcastMemberStarter',
    ],
    { stdio: ['ignore', out.stdio, out.stdio], detached: opts.detached ?? false },
  );
  proc.child = child;
  out.attach();
  const size = opts.members?.length ?? 1;
  // This start's output only, and the port answering: an earlier start's log says nothing of this one.
  const started = async () => {
    const text = out.text();
    return text.includes('is STARTED') && (size === 1 || text.includes(`Members {size:${size},`)) && (await portAnswers(port));
  };
  try {
    await waitUntil(`hazelcast member on port ${port}`, started, 90_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out.text().slice(-2000)}`, { cause: err });
  }
  if (opts.detached) child.unref();
  return { address: `127.0.0.1:${port}`, port, pid: child.pid!, stop: stopper(child), kill: stopper(child, 'SIGKILL') };
}

/**
 * Starts `n` Hazelcast members that form one cluster, side by side, on free loopback ports.
 * `restart(i)` starts member `i` again on its port after a kill; it joins the others.
 */
export async function startHazelcastCluster(
  n: number,
  opts: Omit<HazelcastOpts, 'members' | 'port' | 'logFile'> & { ports?: number[]; logFile?: (i: number) => string } = {},
): Promise<{ members: Started[]; address: string; restart: (i: number) => Promise<Started>; stop: () => Promise<void> }> {
  const ports = opts.ports ?? (await Promise.all(Array.from({ length: n }, () => freePort())));
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const memberOpts = (i: number): HazelcastOpts => ({ ...opts, port: ports[i]!, members: addresses, logFile: opts.logFile?.(i) });
  const results = await Promise.allSettled(ports.map((_, i) => startHazelcast(memberOpts(i))));
  const members = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((m) => m.kill()));
    throw failed.reason;
  }
  return {
    members,
    address: addresses.join(','),
    async restart(i) {
      members[i] = await startHazelcast(memberOpts(i));
      return members[i];
    },
    stop: async () => void (await Promise.all(members.map((m) => m.stop()))),
  };
}
