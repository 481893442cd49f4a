import { defineConfig } from 'vitest/config';

/**
 * Tests that need no server and no build: `npm run test:unit` runs them alone, in seconds.
 * A file here must not use the global setup's servers (`inject`), spawn `dist/cli.js` or start decode
 * threads (they load the built `dist/`).
 */
const UNIT = [
  'test/arrow.test.ts',
  'test/availability.test.ts',
  'test/bullmq-public-api.test.ts',
  'test/bullmq-version.test.ts',
  'test/demo-scanner.test.ts',
  'test/errors.test.ts',
  'test/health.test.ts',
  'test/job-lock.test.ts',
  'test/poller.test.ts',
  'test/scan-order.test.ts',
  'test/settings.test.ts',
  'test/soak-judge.test.ts',
];

export default defineConfig({
  test: {
    // Real servers and real processes: give them time, and run files in parallel on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['verbose', ['json', { outputFile: 'test-artifacts/vitest-results.json' }]],
    projects: [
      // The tools first (the project's Python venv, the Hazelcast jar), then the servers.
      { extends: true, test: { name: 'unit', include: UNIT, globalSetup: ['test/setup-tools.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/setup-tools.ts', 'test/global-setup.ts'] },
      },
    ],
  },
});
