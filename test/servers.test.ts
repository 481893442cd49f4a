import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Queue, Worker, QueueEvents } from 'bullmq';
import { createHazelcast, createRedis, type Hazelcast } from '../src/connections.js';
import { testConfig, testLog, uniq } from './helpers.js';
import { PYTHON } from './python.js';

const config = testConfig();

describe('real Hazelcast', () => {
  let hz: Hazelcast;
  beforeAll(async () => {
    hz = await createHazelcast(config, testLog, { kind: 'command', timeoutMs: 10_000 });
  });
  afterAll(async () => hz.shutdown());

  it('stores a JSON string that the official Python client reads back with json.loads', async () => {
    const map = await hz.client.getMap<string, string>(config.hzMap);
    await map.set(config.hzKey, JSON.stringify({ scan_number: 7, assets: ['BTCUSDT', 'ÄÖÜ'] }));
    const [host, port] = config.hzMembers[0]!.split(':');
    const py = `
import json, hazelcast
c = hazelcast.HazelcastClient(cluster_members=["${host}:${port}"], cluster_name="${config.hzClusterName}")
v = c.get_map("${config.hzMap}").blocking().get("${config.hzKey}")
print(json.dumps(json.loads(v)))
c.shutdown()
`;
    const out = execFileSync(PYTHON, ['-c', py], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ scan_number: 7, assets: ['BTCUSDT', 'ÄÖÜ'] });
  });
});

describe('real BullMQ on real Redis', () => {
  it('runs a job and returns its result', async () => {
    const connection = createRedis(config);
    const name = uniq('q');
    const queue = new Queue(name, { connection, prefix: config.queuePrefix });
    const events = new QueueEvents(name, { connection: createRedis(config), prefix: config.queuePrefix });
    const worker = new Worker(name, (job) => Promise.resolve({ doubled: (job.data as { n: number }).n * 2 }), {
      connection: createRedis(config),
      prefix: config.queuePrefix,
    });
    try {
      await events.waitUntilReady();
      const job = await queue.add('double', { n: 21 });
      expect(await job.waitUntilFinished(events, 10_000)).toEqual({ doubled: 42 });
    } finally {
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });
});
