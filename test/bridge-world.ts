/** Set-ups several integration tests share: a bridge with its own Hazelcast client, and a restart job run until it fails for good. */
import type { Job } from 'bullmq';
import { createHazelcast } from '../src/connections.js';
import type { Config } from '../src/config.js';
import { Bridge, type BridgeEvent } from '../src/bridge/bridge.js';
import type { JobQueue } from '../src/jobs/table.js';
import { eventually, EventLog, testLog } from './helpers.js';

/** A bridge started on `config` with a Hazelcast client of its own and its events logged; `cleanups` gets how to stop both. */
export async function startBridge(config: Config, cleanups: Array<() => Promise<void>>) {
  const hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  cleanups.push(() => hz.shutdown());
  const events = new EventLog<BridgeEvent>();
  const bridge = new Bridge({ settings: config, hazelcast: hz, log: testLog, onEvent: events.push });
  await bridge.start();
  cleanups.push(() => bridge.stop());
  return { hz, bridge, events };
}

/** The restart job `id`, once it failed for good (every attempt used). */
export function failedForGood(queue: JobQueue<'restart-bridge'>, id: string): Promise<Job> {
  return eventually(
    'the restart failing for good',
    async () => {
      const j = await queue.getJob(id);
      return j && (await j.getState()) === 'failed' ? j : undefined;
    },
    40_000,
  );
}
