import type { Queue } from 'bullmq';
import type { Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { JOBS, QUEUES, QUEUE_JOB, type QueueName } from '../jobs/table.js';
import { payloadSchema } from '../jobs/payloads.js';
import { bridgeData, bridgeName, healthCheckName, healthCheckReturnValue, restartName } from './board-format.js';
import { STATUS_PATH } from './board-page.js';

export const BOARD_PATH = '/board';

const DISPLAY_NAMES: Record<QueueName, string> = {
  [QUEUES.healthCheck]: 'Health checks',
  [QUEUES.restartBridge]: 'Bridge restarts',
  [QUEUES.bridge]: 'Bridge (live log and stats)',
};

const DESCRIPTIONS: Record<QueueName, string> = {
  [QUEUES.healthCheck]: JOBS['health-check'].description,
  [QUEUES.restartBridge]: JOBS['restart-bridge'].description,
  [QUEUES.bridge]: JOBS.bridge.description,
};

/** Bull Board over the product's three queues, mounted at {@link BOARD_PATH}. */
export function boardRouter(queues: Record<QueueName, Queue>, readOnlyMode: boolean): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const adapters = (Object.keys(DISPLAY_NAMES) as QueueName[]).map((name) => {
    const adapter = new BullMQAdapter(queues[name], {
      displayName: DISPLAY_NAMES[name],
      description: DESCRIPTIONS[name],
      readOnlyMode,
      allowRetries: !readOnlyMode,
      // The add-job form is built from it; boardWriteGuard enforces it.
      jobDataSchema: payloadSchema(QUEUE_JOB[name]),
    });
    if (name === QUEUES.healthCheck) {
      adapter.setFormatter('name', healthCheckName);
      adapter.setFormatter('returnValue', healthCheckReturnValue);
    } else if (name === QUEUES.bridge) {
      adapter.setFormatter('name', bridgeName);
      adapter.setFormatter('data', bridgeData);
    } else {
      adapter.setFormatter('name', restartName);
    }
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
