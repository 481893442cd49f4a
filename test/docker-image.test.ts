/**
 * The Docker image and docker-compose.yml, checked without a Docker engine: the build stage is
 * run from exactly the files its COPY lines take (after .dockerignore), in an empty folder.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { resolveConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { copyFromContext, ignoredBy, parseDockerfile, readText } from './docker-context.js';
import { tempDir } from './helpers.js';

const stages = parseDockerfile(readText('Dockerfile'));
const ignored = ignoredBy(readText('.dockerignore'));

describe('the Docker image (Dockerfile, .dockerignore)', () => {
  it('every COPY of every stage finds its files in the build context', () => {
    const copies = stages.flatMap((s) => s.instructions).filter((i) => i.op === 'COPY' && !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      for (const src of c.args
        .split(/\s+/)
        .filter((w) => !w.startsWith('--'))
        .slice(0, -1)) {
        expect(existsSync(src) && !ignored(src), `COPY ${src}`).toBe(true);
      }
    }
  });

  it('the build stage, run in an empty folder from only the files it copies, produces dist/cli.js', () => {
    const build = stages.find((s) => s.name === 'build');
    expect(build).toBeDefined();
    const root = tempDir('sb-image-');
    let workdir = '/';
    for (const { op, args } of build!.instructions) {
      if (op === 'WORKDIR') workdir = args;
      else if (op === 'COPY') copyFromContext('.', args, root, workdir, ignored);
      else if (op === 'RUN') {
        // The packages come from npm's local cache when it has them: the same packages, sooner.
        execFileSync('sh', ['-c', args], {
          cwd: join(root, workdir),
          env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_loglevel: 'error' },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 240_000,
        });
      } else expect(['ARG', 'ENV'], `${op} is not run by this test`).toContain(op);
    }
    const cli = join(root, workdir, 'dist', 'cli.js');
    expect(existsSync(cli)).toBe(true);
    expect(execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' })).toContain('Usage: scan-bridge <command>');
  }, 300_000);
});

interface Service {
  build?: string | { context: string; dockerfile?: string };
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
  secrets?: string[];
  entrypoint?: string[];
  command?: string[];
}
const compose = parse(readText('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, unknown>;
};
/** `${VAR:-default}` and `${VAR:?message}` as compose reads them with those variables unset. */
const expand = (v: string) => v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'set-by-user');

describe('docker-compose.yml', () => {
  const services = compose.services;
  const bridgeEnv = Object.fromEntries(Object.entries(services['scan-bridge']!.environment!).map(([k, v]) => [k, expand(String(v))]));

  it('builds from a context that holds the Dockerfile, and every file it mounts exists', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) {
        const b = typeof s.build === 'string' ? { context: s.build } : s.build;
        expect(existsSync(join(b.context, b.dockerfile ?? 'Dockerfile')), `${name}: build`).toBe(true);
      }
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) expect(existsSync(source), `${name}: ${v}`).toBe(true);
        else expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
      for (const d of Object.keys(s.depends_on ?? {})) expect(services, `${name} depends on ${d}`).toHaveProperty(d);
      for (const sec of s.secrets ?? []) expect(compose.secrets, `${name}: secret ${sec}`).toHaveProperty(sec);
    }
  });

  it("names only real settings in scan-bridge's services, each valid", () => {
    for (const name of ['scan-bridge', 'demo-scanner']) {
      const env = Object.fromEntries(Object.entries(services[name]!.environment!).map(([k, v]) => [k, expand(String(v))]));
      expect(() => resolveConfig(env), name).not.toThrow();
      // A real setting is one resolveConfig reads: a nonsense value either fails naming a setting or changes the result.
      const base = JSON.stringify(resolveConfig({}));
      for (const key of Object.keys(env)) {
        let differs: boolean;
        try {
          differs = JSON.stringify(resolveConfig({ [key]: 'x\u0001y' })) !== base;
        } catch (err) {
          differs = err instanceof ConfigError;
        }
        expect(differs, `${name}: ${key} is not a setting of scan-bridge`).toBe(true);
      }
    }
  });

  it('points scan-bridge at the Redis and Hazelcast services, on their ports and cluster name, and publishes its board port', () => {
    const config = resolveConfig(bridgeEnv);
    expect(config.redis).toEqual({ kind: 'url', url: 'redis://redis:6379' });
    // Redis's image listens on 6379; the published mapping says the same.
    expect(services.redis!.ports!.some((p) => p.endsWith(':6379'))).toBe(true);
    // Its data lives in the volume as an append-only file: a restart keeps the schedule, queues and history.
    expect(services.redis!.command?.join(' ')).toContain('--appendonly yes');
    expect(services.redis!.volumes).toContain('redis_data:/data');
    expect(config.hzMembers).toEqual(['hazelcast:5701']);
    expect(services.hazelcast!.ports!.some((p) => p.endsWith(':5701'))).toBe(true);
    expect(services.hazelcast!.environment!.HZ_CLUSTERNAME).toBe(config.hzClusterName);
    expect(services['scan-bridge']!.ports).toContain(`${config.boardPort}:${config.boardPort}`);
    expect(config.boardHost).toBe('0.0.0.0');
    // The image the demo scanner runs is the one scan-bridge builds.
    expect(services['demo-scanner']!.image).toBe(services['scan-bridge']!.image);
    expect(services['demo-scanner']!.environment!.ARROW_DIR).toBe(config.arrowDir);
  });
});
