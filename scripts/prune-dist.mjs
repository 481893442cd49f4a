// After `tsc`: copies the Lua scripts (`src/**/*.lua`) into dist/ beside the modules that load
// them (tsc copies only what it compiles), and removes from dist/ every file whose source is no
// longer in src/ (a module moved or deleted), so dist/ holds only what src/ builds to. Unlike
// emptying dist/ before the build, this never leaves dist/ without cli.js while something (a
// test, a running demo) uses it.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

for (const rel of readdirSync('src', { recursive: true, encoding: 'utf8' })) {
  if (!rel.endsWith('.lua')) continue;
  mkdirSync(dirname(join('dist', rel)), { recursive: true });
  copyFileSync(join('src', rel), join('dist', rel));
}

const source = (rel) => join('src', rel.endsWith('.lua') ? rel : rel.replace(/\.js(\.map)?$/, '.ts'));
for (const rel of readdirSync('dist', { recursive: true, encoding: 'utf8' })) {
  if (!/\.(js(\.map)?|lua)$/.test(rel) || existsSync(source(rel))) continue;
  rmSync(join('dist', rel));
  console.log(`removed dist/${rel}: its source is gone`);
}
