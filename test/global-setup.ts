import type { TestProject } from 'vitest/node';
import { startHazelcast, startRedis, type Started } from '../src/dev/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    hzMembers: string;
    hzClusterName: string;
  }
}

const started: Started[] = [];

/**
 * Starts a real Redis and a real Hazelcast member on free loopback ports for the whole run,
 * unless REDIS_URL / HZ_MEMBERS point at servers that already run.
 */
export async function setup(project: TestProject): Promise<void> {
  const [redisUrl, hzMembers] = await Promise.all([
    process.env.REDIS_URL ??
      startRedis().then((s) => {
        started.push(s);
        return s.address;
      }),
    process.env.HZ_MEMBERS ??
      startHazelcast({ clusterName: process.env.HZ_CLUSTER_NAME ?? 'dev' }).then((s) => {
        started.push(s);
        return s.address;
      }),
  ]);
  console.log(`[tests] real Redis at ${redisUrl}, real Hazelcast member at ${hzMembers}`);
  project.provide('redisUrl', redisUrl);
  project.provide('hzMembers', hzMembers);
  project.provide('hzClusterName', process.env.HZ_CLUSTER_NAME ?? 'dev');
}

export async function teardown(): Promise<void> {
  await Promise.all(started.map((s) => s.stop()));
}
