/**
 * What `docker build` would see, without a Docker engine: the Dockerfile's stages and their
 * instructions, and the build context after `.dockerignore`. Enough of Docker's rules for this
 * repository's files: line continuations, `COPY [--from=…] SRC… DEST`, `RUN`, `WORKDIR`, and
 * ignore patterns with `*`, `**`, `?` and `!` exceptions (the last matching pattern wins, and a
 * pattern that matches a folder matches everything in it).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

/** The stages of a Dockerfile, in order, each with its instructions after `FROM`. */
export function parseDockerfile(text: string): Stage[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') stages.push({ name: /\s+AS\s+(\S+)$/i.exec(args)?.[1], instructions: [] });
    else stages.at(-1)?.instructions.push({ op, args });
  }
  return stages;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `.dockerignore` (its text) leaves `rel` (a path in the context, `/`-separated) out. */
export function ignoredBy(dockerignore: string): (rel: string) => boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ negate: l.startsWith('!'), re: globToRegExp(posix.normalize(l.replace(/^!/, '')).replace(/^\/+|\/+$/g, '')) }));
  return (rel) => {
    const parts = rel.split('/');
    // The path itself or any folder above it.
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (candidates.some((c) => r.re.test(c))) ignored = !r.negate;
    return ignored;
  };
}

/** Copies what `COPY SRC… DEST` (no `--from`) takes from `context` into `root`, at `workdir`. */
export function copyFromContext(context: string, args: string, root: string, workdir: string, ignored: (rel: string) => boolean): void {
  const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
  const dest = words.pop()!;
  const target = posix.resolve(workdir, dest);
  for (const src of words) {
    const from = join(context, src);
    if (!existsSync(from) || ignored(posix.normalize(src))) throw new Error(`COPY ${src}: not in the build context (missing, or left out by .dockerignore)`);
    if (statSync(from).isDirectory()) {
      for (const rel of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
        const relPath = posix.join(posix.normalize(src), rel.split('\\').join('/'));
        if (ignored(relPath) || statSync(join(from, rel)).isDirectory()) continue;
        mkdirSync(join(root, target, rel, '..'), { recursive: true });
        cpSync(join(from, rel), join(root, target, rel));
      }
    } else {
      const to = dest.endsWith('/') || words.length > 1 ? join(root, target, basename(src)) : join(root, target);
      mkdirSync(join(to, '..'), { recursive: true });
      cpSync(from, to);
    }
  }
}

export const readText = (path: string) => readFileSync(path, 'utf8');
