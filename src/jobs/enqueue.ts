import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';

export interface Enqueued {
  /** The new job, or the pending one that was reused. */
  id: string;
  /** True when BullMQ's deduplication kept an already pending job and added nothing. */
  reused: boolean;
}

/** What {@link enqueue} needs of a BullMQ queue typed by its job. */
export interface QueueOf<Data, Name extends string> {
  add(name: Name, data: Data, opts?: JobsOptions): Promise<{ id?: string | undefined }>;
}

/**
 * Adds job `name` with an id of our own and the queue's default options. BullMQ answers a
 * deduplicated add with the pending job's id, so a different id means that job was reused.
 */
export async function enqueue<Data, Name extends string>(queue: QueueOf<Data, Name>, name: Name, data: Data): Promise<Enqueued> {
  const jobId = `${name}-${randomUUID()}`;
  const job = await queue.add(name, data, { jobId });
  return { id: job.id ?? jobId, reused: job.id !== jobId };
}
