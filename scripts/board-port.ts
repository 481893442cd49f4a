/**
 * `npm run demo` calls this before it starts anything: can the board listen where its settings
 * say (BOARD_HOST and BOARD_PORT, from the environment and .env, as scan-bridge reads them)?
 * A port another process holds would fail the start only after the servers came up.
 */
import { createServer } from 'node:net';
import { config as loadDotenv } from 'dotenv';
import { resolveConfig, type Config } from '../src/config.js';

loadDotenv({ quiet: true });
let config: Config;
try {
  config = resolveConfig(process.env);
} catch (err) {
  // The start would refuse it too: say so now, as it would.
  console.error(`demo: bad setting: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(78);
}
const { boardHost, boardPort } = config;
const server = createServer();
server.once('error', (err: NodeJS.ErrnoException) => {
  const why =
    err.code === 'EADDRINUSE'
      ? `port ${boardPort} on ${boardHost} is already in use by another process, so the board cannot start there: stop that process, or choose another port with BOARD_PORT=<port>`
      : `the board cannot listen on ${boardHost}:${boardPort} (${err.code ?? 'unknown reason'}): check BOARD_HOST and BOARD_PORT`;
  console.error(`demo: ${why}`);
  process.exit(1);
});
server.listen(boardPort, boardHost, () => server.close());
