import { join } from 'node:path';
import { ROOT } from '../scripts/servers/services.js';

/**
 * The Python of the project's own virtual environment (.cache/venv: pyarrow, the Hazelcast client,
 * the package clients/python), made by scripts/test-setup.sh, which `npm test` and the tests'
 * global set-up run. Tests run Python through it, never a system python3.
 */
export const PYTHON = join(ROOT, '.cache', 'venv', 'bin', 'python');
