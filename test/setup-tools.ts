import { execFileSync } from 'node:child_process';

/**
 * Before any server starts: what the tests need and no root is needed for (the Python venv, the
 * Hazelcast jar), set up by scripts/test-setup.sh, which also stops at once naming a missing
 * system package. `npm test` runs it too (pretest); here it covers `npx vitest run <file>`.
 */
export function setup(): void {
  execFileSync('bash', ['scripts/test-setup.sh'], { stdio: ['ignore', 'inherit', 'inherit'] });
}
