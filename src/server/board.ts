import type { Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { JOB_NAMES, JOBS, type JobName, type JobQueues } from '../jobs/table.js';
import { payloadSchema } from '../jobs/payloads.js';
import { bridgeData, bridgeName, healthCheckName, healthCheckReturnValue, restartName, type JobView } from './board-format.js';
import { STATUS_PATH } from './board-page.js';

export const BOARD_PATH = '/board';

interface Formatters {
  name?: (job: JobView) => string;
  data?: (data: unknown) => unknown;
  returnValue?: (value: unknown) => unknown;
}

/** How the board shows each job's name line, data and result (BullMQ's own where absent). */
const FORMATTERS: Partial<Record<JobName, Formatters>> = {
  'health-check': { name: healthCheckName, returnValue: healthCheckReturnValue },
  'restart-bridge': { name: restartName },
  bridge: { name: bridgeName, data: bridgeData },
};

/** Bull Board over the job table's queues, mounted at {@link BOARD_PATH}. */
export function boardRouter(queues: JobQueues, readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapters = JOB_NAMES.map((name) => {
    const adapter = new BullMQAdapter(queues[name], {
      displayName: JOBS[name].displayName,
      description: JOBS[name].description,
      readOnlyMode,
      allowRetries: !readOnlyMode,
      // The add-job form is built from it; boardWriteGuard enforces it.
      jobDataSchema: payloadSchema(name),
    });
    const format = FORMATTERS[name] ?? {};
    if (format.name) adapter.setFormatter('name', format.name);
    if (format.data) adapter.setFormatter('data', format.data);
    if (format.returnValue) adapter.setFormatter('returnValue', format.returnValue);
    return adapter;
  });
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'scan-bridge',
        hideDocsLink: true,
        miscLinks: [{ text: 'Status page', url: STATUS_PATH }],
      },
    },
  });
  return serverAdapter.getRouter() as Router;
}
