import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tools first (Python venv, Hazelcast jar), then the servers.
    globalSetup: ['test/setup-tools.ts', 'test/global-setup.ts'],
    // Real servers and real processes: give them time, and run files in parallel on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['verbose', ['json', { outputFile: 'test-artifacts/vitest-results.json' }]],
  },
});
