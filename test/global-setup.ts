import type { TestProject } from 'vitest/node';
import { startHazelcastCluster, startRedis, type Started } from '../scripts/servers/services.js';

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
 * unless REDIS_URL / HZ_MEMBERS point at servers that already run. TEST_HZ_MEMBERS=N runs the
 * suite against a cluster of N members instead of one.
 */
function hzMemberCount(): number {
  const v = process.env.TEST_HZ_MEMBERS ?? '1';
  if (!/^[1-9]$/.test(v)) throw new Error(`TEST_HZ_MEMBERS=${JSON.stringify(v)} is not valid: expected a number of members from 1 to 9`);
  return Number(v);
}

export async function setup(project: TestProject): Promise<void> {
  const [redisUrl, hzMembers] = await Promise.all([
    process.env.REDIS_URL ??
      startRedis().then((s) => {
        started.push(s);
        return s.address;
      }),
    process.env.HZ_MEMBERS ??
      startHazelcastCluster(hzMemberCount(), { clusterName: process.env.HZ_CLUSTER_NAME ?? 'dev' }).then((c) => {
        started.push(...c.members);
        return c.address;
      }),
  ]);
  console.log(`[tests] real Redis at ${redisUrl}, real Hazelcast at ${hzMembers}`);
  project.provide('redisUrl', redisUrl);
  project.provide('hzMembers', hzMembers);
  project.provide('hzClusterName', process.env.HZ_CLUSTER_NAME ?? 'dev');
}

export async function teardown(): Promise<void> {
  await Promise.all(started.map((s) => s.stop()));
}
