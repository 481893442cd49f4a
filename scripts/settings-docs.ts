/**
 * Writes the settings table of docs/configuration.md and the whole of .env.example from
 * src/settings.ts: `npm run docs:settings`. test/settings.test.ts fails when either differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SETTING_GROUPS, SETTINGS, type Setting } from '../src/settings.js';

export const TABLE_BEGIN = '<!-- settings table: generated from src/settings.ts by `npm run docs:settings` -->';
export const TABLE_END = '<!-- end of settings table -->';

const entries = Object.entries(SETTINGS) as [string, Setting][];

function typeOf(s: Setting): string {
  switch (s.type) {
    case 'int': {
      const max = s.max === undefined ? '' : `–${s.max.toLocaleString('en-US')}`;
      return `whole number ${(s.min ?? 0).toLocaleString('en-US')}${max || ' or more'}`;
    }
    case 'bool':
      return '`true` or `false`';
    case 'enum':
      return (s.values ?? []).map((v) => `\`${v}\``).join(', ');
    case 'list':
      return 'comma-separated';
    case 'url':
      return 'URL';
    case 'secret':
      return 'text (secret)';
    case 'text':
      return 'text';
  }
}

/** The table, group by group, between its markers. */
export function renderTable(): string {
  const out = [TABLE_BEGIN];
  for (const group of SETTING_GROUPS) {
    out.push('', `### ${group}`, '', '| variable | type | default | meaning |', '|---|---|---|---|');
    for (const [name, s] of entries.filter(([, s]) => s.group === group)) {
      out.push(`| \`${name}\` | ${typeOf(s)} | ${s.default === undefined ? '–' : `\`${s.default}\``} | ${s.doc.replace(/\|/g, '\\|')} |`);
    }
  }
  out.push('', TABLE_END);
  return out.join('\n');
}

/** .env.example: every setting with its doc; the common ones set, the rest commented out at their default. */
export function renderEnvExample(): string {
  const out = [
    '# Copy to .env (or to the file --env-file names) and adjust. Every variable is optional.',
    '# Generated from src/settings.ts by `npm run docs:settings`; docs/configuration.md explains each.',
  ];
  for (const group of SETTING_GROUPS) {
    out.push('', `# ---- ${group}`);
    for (const [name, s] of entries.filter(([, s]) => s.group === group)) {
      out.push(`# ${s.doc.replace(/`/g, '')}`);
      out.push(s.example !== undefined ? `${name}=${s.example}` : `# ${name}=${s.default ?? ''}`);
    }
  }
  return out.join('\n') + '\n';
}

/** `doc` with its settings table replaced by {@link renderTable}'s. */
export function withTable(doc: string): string {
  const begin = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error('docs/configuration.md has lost its settings table markers');
  return doc.slice(0, begin) + renderTable() + doc.slice(end + TABLE_END.length);
}

export const CONFIGURATION_MD = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
export const ENV_EXAMPLE = fileURLToPath(new URL('../.env.example', import.meta.url));

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(CONFIGURATION_MD, withTable(readFileSync(CONFIGURATION_MD, 'utf8')));
  writeFileSync(ENV_EXAMPLE, renderEnvExample());
  console.log(`wrote ${CONFIGURATION_MD} and ${ENV_EXAMPLE}`);
}
