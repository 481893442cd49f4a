import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { testEnv } from './helpers.js';

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

const holders: Server[] = [];
afterEach(async () => {
  for (const s of holders.splice(0)) await new Promise((ok) => s.close(ok));
});

/** A free port, held open by this test: taken for whatever starts next. */
async function takenPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  holders.push(s);
  return (s.address() as AddressInfo).port;
}

function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((ok) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 180_000 }, (err, stdout, stderr) => {
      ok({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, out: plain(`${stdout}${stderr}`) });
    });
  });
}

describe('a start that fails says why, in one line', () => {
  for (const pretty of ['0', '1']) {
    it(`a taken board port: a non-zero exit and one line naming the port and its setting (LOG_PRETTY=${pretty})`, async () => {
      const port = await takenPort();
      const env = testEnv({ BOARD_HOST: '127.0.0.1', BOARD_PORT: String(port), LOG_PRETTY: pretty, LOG_LEVEL: 'info' });
      const r = await run(process.execPath, ['dist/cli.js', 'start', '--role', 'board'], env);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      const said = r.out.split('\n').filter((l) => l.includes(`board port 127.0.0.1:${port} is already in use (BOARD_PORT)`));
      expect(said, r.out).toHaveLength(1);
      if (pretty === '1') expect(said[0]).toMatch(/FATAL/);
      else expect(JSON.parse(said[0]!)).toMatchObject({ level: 60, msg: expect.stringContaining(`board port 127.0.0.1:${port} is already in use`) });
    });
  }

  it('npm run demo checks the board port before it starts anything', async () => {
    const port = await takenPort();
    // Servers given: even a demo that went ahead would start none of its own.
    const env = testEnv({ BOARD_PORT: String(port), SERVICES_DOCKER: '0', LOG_PRETTY: '0' });
    const r = await run('bash', ['scripts/demo.sh'], env);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(new RegExp(`port ${port} .*already in use.*BOARD_PORT`));
    expect(r.out).not.toContain('Starting scan-bridge');
  });
});
