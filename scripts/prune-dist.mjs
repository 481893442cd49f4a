// After `tsc`: removes from dist/ every file whose source is no longer in src/ (a module moved or
// deleted), so dist/ holds only what src/ compiles to. Unlike emptying dist/ before the build,
// this never leaves dist/ without cli.js while something (a test, a running demo) uses it.
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const source = (rel) => join('src', rel.replace(/\.js(\.map)?$/, '.ts'));
for (const rel of readdirSync('dist', { recursive: true, encoding: 'utf8' })) {
  if (!/\.js(\.map)?$/.test(rel) || existsSync(source(rel))) continue;
  rmSync(join('dist', rel));
  console.log(`removed dist/${rel}: its source is gone`);
}
