import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Chromium from CHROMIUM_PATH, or else from PATH; a machine without it fails this file instead of skipping it. */
function findChromium(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    try {
      accessSync(given, constants.X_OK);
    } catch (err) {
      throw new Error(`CHROMIUM_PATH=${given} is not an executable file: ${(err as Error).message}`, { cause: err });
    }
    return given;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const file = join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // Not in this directory.
      }
    }
  }
  throw new Error(`no Chromium on PATH (${process.env.PATH ?? ''}): install chromium (apt-get install chromium) or set CHROMIUM_PATH to run the browser test`);
}

/** Looked up once; a missing Chromium fails, by name, every test that needs it (throw it in a beforeEach: a failing beforeAll would only skip them). */
export const CHROMIUM: { path: string } | { error: Error } = (() => {
  try {
    return { path: findChromium() };
  } catch (err) {
    return { error: err as Error };
  }
})();

/** A headless Chromium of its own: a fresh, throw-away user-data-dir, nothing fetched in the background. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
