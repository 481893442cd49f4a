import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { makeScan, writeScanAtomically } from '../src/demo/scan-writer.js';
import { eventually, killChildren, spawnRoles, testEnv, type Child } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const USER = 'operator';
const PASSWORD = 'browser-test-password';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

interface HealthBody {
  latest: { status: string; message: string } | null;
  history: unknown[];
}

describe.skipIf(!existsSync(CHROMIUM))('in a real browser', () => {
  let child: Child;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const env = testEnv({ BOARD_HOST: '127.0.0.1', BOARD_PORT: '0', BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, HEALTH_INTERVAL_MS: '1000',
      // The scans written below must stay "healthy" however slow the machine running this is.
      DATA_WARNING_S: '120', DATA_STALE_S: '240' });
    for (let n = 1; n <= 3; n++) await writeScanAtomically(env.ARROW_DIR!, makeScan({ scanNumber: n, time: new Date(), assets: 25 }));
    child = spawnRoles(['scheduler', 'worker', 'bridge', 'board'], env);
    url = await eventually('the board to listen', async () => /board listening on (http:\/\/\S+?)\/board\//.exec(child.output())?.[1], 30_000);
    // The system's own checks, on schedule, find the bridge and its data.
    await eventually('a healthy check', async () => {
      const body = (await (await fetch(`${url}/api/health`, { headers: AUTH })).json()) as HealthBody;
      return body.latest?.status === 'healthy' ? body : undefined;
    }, 30_000);
    // launch() gives every run a fresh, throw-away user-data-dir of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (child && child.proc.exitCode === null) {
      child.signal('SIGTERM');
      await child.exited;
    }
    await killChildren();
  });

  it('without credentials the board asks for them', async () => {
    const anonymous = await browser.newContext();
    try {
      const p = await anonymous.newPage();
      const statuses: number[] = [];
      p.on('response', (r) => void statuses.push(r.status()));
      // Headless Chromium cannot show the login prompt, so it abandons the navigation.
      await expect(p.goto(`${url}/board/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(statuses).toEqual([401]);
    } finally {
      await anonymous.close();
    }
  });

  it('logs in and sees the three queues with their names', async () => {
    await page.goto(`${url}/board/`, { waitUntil: 'domcontentloaded' });
    for (const name of ['Health checks', 'Bridge restarts', 'Bridge (live log and stats)']) {
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: 20_000 });
    }
    await page.screenshot({ path: `${ARTIFACTS}/board-overview.png`, fullPage: true });
  });

  it('triggers a health check by hand, opens the job and reads its result and logs', async () => {
    await page.goto(`${url}/board/queue/health-check`, { waitUntil: 'domcontentloaded' });
    // From the page itself: a same-origin POST, as a person's browser sends it.
    const triggered = await page.evaluate(async () => {
      const res = await fetch('/api/jobs/health-check', { method: 'POST' });
      return { status: res.status, body: (await res.json()) as { jobId: string } };
    });
    expect(triggered.status).toBe(202);
    const jobId = triggered.body.jobId;

    await page.goto(`${url}/board/queue/health-check/${jobId}`, { waitUntil: 'domcontentloaded' });
    await page.getByText('"manual"').first().waitFor({ timeout: 20_000 });
    // Bull Board polls: the return value appears once the worker has run the check.
    await page.getByText('returnValue').first().waitFor({ timeout: 20_000 });
    const message = page.getByText(/data is [\d.]+ s old \(scan #3\): healthy/).first();
    await message.waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/health-check-job.png`, fullPage: true });

    await page.getByText('Logs', { exact: true }).first().click();
    await page.getByText(/healthy: data is [\d.]+ s old \(scan #3\): healthy/).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/health-check-logs.png`, fullPage: true });
  });

  it('runs the health-check schedule now from Bull Board and sees that job complete', async () => {
    await page.goto(`${url}/board/job-schedulers`, { waitUntil: 'domcontentloaded' });
    await page.getByText('health-check-every').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/board-schedulers.png`, fullPage: true });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/job-schedulers/health-check-every/run'), { timeout: 20_000 }),
      (async () => {
        await page.getByRole('button', { name: 'Run now' }).first().click();
        await page.getByRole('button', { name: 'Confirm' }).click();
      })(),
    ]);
    // Bull Board's own write went through the login and the same-origin guard.
    expect(response.status()).toBe(200);
    const jobId = ((await response.json()) as { job: { id: string } }).job.id;
    await page.goto(`${url}/board/queue/health-check/${jobId}`, { waitUntil: 'domcontentloaded' });
    await page.getByText(/data is [\d.]+ s old \(scan #3\): healthy/).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/board-run-now-job.png`, fullPage: true });
  });

  it('a form posted from another site is refused', async () => {
    // localhost and 127.0.0.1 are different sites to the browser.
    const foreign = url.replace('127.0.0.1', 'localhost');
    await page.goto(`${foreign}/history`, { waitUntil: 'domcontentloaded' });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${url}/api/jobs/restart-bridge` && r.status() !== 401),
      // A string: this runs in the page, which has a DOM the test's types do not describe.
      page.evaluate(`(() => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = ${JSON.stringify(`${url}/api/jobs/restart-bridge`)};
        document.body.appendChild(form);
        form.submit();
      })()`),
    ]);
    expect(response.status()).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('cross_site');
    const status = (await (await fetch(`${url}/api/status`, { headers: AUTH })).json()) as { queues: Record<string, { counts: Record<string, number> }> };
    const restarts = status.queues['restart-bridge']!.counts;
    expect((restarts.waiting ?? 0) + (restarts.active ?? 0) + (restarts.delayed ?? 0)).toBe(0);
  });

  it('the history page plots data age and status', async () => {
    await page.goto(`${url}/history`, { waitUntil: 'domcontentloaded' });
    await page.locator('svg#plot circle.point').first().waitFor({ timeout: 20_000 });
    const points = await page.locator('svg#plot circle.point').count();
    expect(points).toBeGreaterThan(0);
    expect(await page.locator('svg#plot circle.point.healthy').count()).toBeGreaterThan(0);
    expect(await page.locator('svg#plot path.age-line').count()).toBe(1);
    expect(await page.locator('#summary').innerText()).toMatch(/^Now: healthy/);
    expect(await page.locator('#error').innerText()).toBe('');
    await page.screenshot({ path: `${ARTIFACTS}/history.png`, fullPage: true });
  });
});
