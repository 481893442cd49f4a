import { JOBS, type Field, type JobName, type JobPayloads } from './table.js';

/**
 * The job table's payload fields, as data: one description gives both the check that refuses a
 * bad payload from Bull Board and the JSON schema its add-job form is built from.
 */
const fieldsOf = (name: JobName): Record<string, Field> => JOBS[name].payload;

export type PayloadParse<N extends JobName> = { ok: true; payload: JobPayloads[N] } | { ok: false; error: string };

function isJobName(name: unknown): name is JobName {
  return typeof name === 'string' && Object.hasOwn(JOBS, name);
}

/**
 * `data` as the payload of job `name`, or why not: every field present with its type, nothing
 * else. Pure.
 */
export function parsePayload<N extends JobName>(name: N, data: unknown): PayloadParse<N> {
  if (!isJobName(name)) return { ok: false, error: `no job named ${JSON.stringify(name)}` };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, error: `the data of ${name} must be a JSON object` };
  const fields = fieldsOf(name);
  const record = data as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !Object.hasOwn(fields, k));
  if (extra.length > 0)
    return { ok: false, error: `${name} takes no ${extra.map((k) => JSON.stringify(k)).join(', ')}; its fields are ${Object.keys(fields).join(', ')}` };
  for (const [key, field] of Object.entries(fields)) {
    const v = record[key];
    if (field.kind === 'enum' && !(typeof v === 'string' && field.values.includes(v))) {
      return { ok: false, error: `${name}.${key} must be one of ${field.values.map((x) => JSON.stringify(x)).join(', ')}` };
    }
    if (field.kind === 'text' && !(typeof v === 'string' && v.trim() !== '' && v.length <= field.maxLength)) {
      return { ok: false, error: `${name}.${key} must be text of 1 to ${field.maxLength} characters` };
    }
  }
  return { ok: true, payload: record as JobPayloads[N] };
}

/** The job names a request may use, checked: `undefined` for anything else. */
export function jobNameOf(value: unknown): JobName | undefined {
  return isJobName(value) ? value : undefined;
}

/** JSON schema of a job's payload, for Bull Board's add-job form. */
export function payloadSchema(name: JobName): Record<string, unknown> {
  const fields = fieldsOf(name);
  const properties = Object.fromEntries(
    Object.entries(fields).map(([key, f]) => [
      key,
      f.kind === 'enum' ? { type: 'string', enum: [...f.values] } : { type: 'string', minLength: 1, maxLength: f.maxLength },
    ]),
  );
  return { type: 'object', properties, required: Object.keys(fields), additionalProperties: false };
}
