import express, { Router, type Request } from 'express';
import type { Config } from '../config.js';
import { JOB_NAMES, JOBS, type JobName } from '../jobs/table.js';
import { jobNameOf, parsePayload } from '../jobs/payloads.js';
import { sendError } from './guards.js';

function jobOfQueue(queue: string): JobName | undefined {
  return JOB_NAMES.find((name) => JOBS[name].queue === queue);
}

/** Options a person may choose when adding a job; the rest come from the job table. */
function chosenOptions(raw: unknown): { delay?: number; priority?: number } {
  if (typeof raw !== 'object' || raw === null) return {};
  const o = raw as Record<string, unknown>;
  const out: { delay?: number; priority?: number } = {};
  if (typeof o.delay === 'number' && Number.isSafeInteger(o.delay) && o.delay >= 0) out.delay = o.delay;
  if (typeof o.priority === 'number' && Number.isSafeInteger(o.priority) && o.priority >= 0) out.priority = o.priority;
  return out;
}

/** A duplicated bridge job carries the stats its run added (`live`): they are not its payload. */
function withoutLiveStats(name: JobName, data: unknown): unknown {
  if (name !== 'bridge' || typeof data !== 'object' || data === null || !('live' in data)) return data;
  const { live: _live, ...payload } = data as Record<string, unknown>;
  return payload;
}

/**
 * Runs before Bull Board on the routes that write a job's payload: adding a job and editing its
 * data. A body whose data is not the job's payload is refused with 400, so a worker never meets a
 * payload its handler was not written for. The options of an added job are the job table's (a
 * duplicated job's `repeat` or `jobId` would otherwise create a schedule or return the old job),
 * with the delay and priority the person chose.
 */
export function boardWriteGuard(config: Config): Router {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));

  router.post('/api/queues/:queueName/add', (req: Request<{ queueName: string }>, res, next) => {
    const expected = jobOfQueue(req.params.queueName);
    if (expected === undefined) return next();
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    // The add-job form sends this placeholder when the name is left empty.
    const given = body.name === undefined || body.name === '' || body.name === '__default__' ? expected : body.name;
    const name = jobNameOf(given);
    if (name !== expected) {
      return sendError(res, 400, 'bad_job', `queue ${req.params.queueName} runs only ${expected} jobs, not ${JSON.stringify(given)}`);
    }
    const parsed = parsePayload(name, withoutLiveStats(name, body.data));
    if (!parsed.ok) return sendError(res, 400, 'bad_payload', parsed.error);
    req.body = { name, data: parsed.payload, options: { ...JOBS[name].options(config), ...chosenOptions(body.options) } };
    next();
  });

  router.patch('/api/queues/:queueName/:jobId/update-data', (req: Request<{ queueName: string; jobId: string }>, res, next) => {
    const name = jobOfQueue(req.params.queueName);
    if (name === undefined) return next();
    const parsed = parsePayload(name, (req.body as { jobData?: unknown } | undefined)?.jobData);
    if (!parsed.ok) return sendError(res, 400, 'bad_payload', parsed.error);
    req.body = { jobData: parsed.payload };
    next();
  });
  return router;
}
