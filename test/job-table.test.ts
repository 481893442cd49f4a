import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../src/connections.js';
import { JOB_NAMES, JOBS, openJobQueues, TRIGGERS } from '../src/jobs/table.js';
import { parsePayload, payloadSchema } from '../src/jobs/payloads.js';
import { testConfig, testLog } from './helpers.js';

const config = testConfig();
const redis = createRedis(config);
const queues = openJobQueues(redis, config, testLog);
afterAll(async () => {
  await Promise.all(Object.values(queues).map((q) => q.close()));
  redis.disconnect();
});

describe('the job table (src/jobs/table.ts)', () => {
  it('names every job once, each with its own queue, display name and description', () => {
    expect(JOB_NAMES.sort()).toEqual(['bridge', 'health-check', 'restart-bridge']);
    for (const name of JOB_NAMES) {
      expect(JOBS[name].queue).toBe(name);
      expect(JOBS[name].displayName).not.toBe('');
      expect(JOBS[name].description).not.toBe('');
    }
    expect(new Set(JOB_NAMES.map((n) => JOBS[n].displayName)).size).toBe(JOB_NAMES.length);
  });

  it('the hand triggers are the entries with a trigger, and each trigger payload passes the payload check', () => {
    expect([...TRIGGERS].sort()).toEqual(['health-check', 'restart-bridge']);
    for (const name of TRIGGERS) expect(parsePayload(name, JOBS[name].trigger('cli@host'))).toEqual({ ok: true, payload: JOBS[name].trigger('cli@host') });
  });

  it("the board's add-job form requires exactly the payload fields of the table", () => {
    for (const name of JOB_NAMES) expect(payloadSchema(name).required).toEqual(Object.keys(JOBS[name].payload));
  });

  it("every queue opened from the table adds its jobs with the table's options", async () => {
    for (const name of JOB_NAMES) expect(queues[name].defaultJobOptions).toEqual(JOBS[name].options(config));
    const job = await queues['health-check'].add('health-check', { trigger: 'manual' });
    expect(job.opts).toMatchObject({ attempts: 1, keepLogs: 20 });
  });
});
