import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, renameSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from './chromium.js';
import { encodeScan, makeScan, writeScanAtomically } from '../src/demo/scan-writer.js';
import { dayFolder, scanRelPath } from '../src/bridge/watch/scan-files.js';
import { eventually, killChildren, spawnRoles, testEnv, testLog, type Child } from './helpers.js';
import { resolveConfig } from '../src/config.js';
import { createHazelcast } from '../src/connections.js';

const ARTIFACTS = 'test-artifacts';
const USER = 'operator';
const PASSWORD = 'browser-test-password';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };

interface HealthBody {
  latest: { status: string; message: string } | null;
  history: unknown[];
}

describe('in a real browser', () => {
  let child: Child;
  let url: string;
  let env: Record<string, string>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every request the pages made to anywhere but the board: none is allowed. */
  const external: string[] = [];
  const cspViolations: string[] = [];

  beforeEach(() => {
    if ('error' in CHROMIUM) throw CHROMIUM.error;
  });

  beforeAll(async () => {
    if ('error' in CHROMIUM) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    env = testEnv({
      BOARD_HOST: '127.0.0.1',
      BOARD_PORT: '0',
      BOARD_USER: USER,
      BOARD_PASSWORD: PASSWORD,
      HEALTH_INTERVAL_MS: '1000',
      // The scans written below must stay "healthy" however slow the machine running this is.
      DATA_WARNING_S: '120',
      DATA_STALE_S: '240',
      // The old data planted below must be judged at once, not excused as a bridge starting up.
      BRIDGE_START_GRACE_S: '2',
    });
    for (let n = 1; n <= 3; n++) await writeScanAtomically(env.ARROW_DIR!, makeScan({ scanNumber: n, time: new Date(), assets: 25 }));
    child = spawnRoles(['scheduler', 'worker', 'bridge', 'board'], env);
    url = await eventually('the board to listen', () => /board listening on (http:\/\/\S+?)\/board\//.exec(child.output())?.[1], 30_000);
    // The system's own checks, on schedule, find the bridge and its data.
    await eventually(
      'a healthy check',
      async () => {
        const body = (await (await fetch(`${url}/api/health`, { headers: AUTH })).json()) as HealthBody;
        return body.latest?.status === 'healthy' ? body : undefined;
      },
      30_000,
    );
    // launch() gives every run a fresh, throw-away user-data-dir of its own.
    browser = await launchChromium(CHROMIUM.path);
    context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1400, height: 900 } });
    // Refused, not just recorded: the test must pass on a host with no way out.
    await context.route('**/*', (route) => {
      const target = new URL(route.request().url());
      // localhost is the board too, as another site: the cross-site test needs it.
      const board = [new URL(url).origin, new URL(url.replace('127.0.0.1', 'localhost')).origin];
      if (board.includes(target.origin) || target.protocol === 'data:') return route.continue();
      external.push(route.request().url());
      return route.abort();
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
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
    await page
      .getByText(/healthy: data is [\d.]+ s old \(scan #3\): healthy/)
      .first()
      .waitFor({ timeout: 20_000 });
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
    await page
      .getByText(/data is [\d.]+ s old \(scan #3\): healthy/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/board-run-now-job.png`, fullPage: true });
  });

  it('a form posted from another site is refused', async () => {
    // localhost and 127.0.0.1 are different sites to the browser.
    const foreign = url.replace('127.0.0.1', 'localhost');
    // A page of the other site with no policy of its own on forms.
    await page.goto(`${foreign}/healthz`, { waitUntil: 'domcontentloaded' });
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

  it('the job lists show each check by status and data age, and the bridge its live stats', async () => {
    await page.goto(`${url}/board/queue/health-check?status=completed`, { waitUntil: 'domcontentloaded' });
    await page
      .getByText(/✓ healthy · data [\d.]+ s old · scan #3/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/board-health-checks.png`, fullPage: false });

    await page.goto(`${url}/board/queue/bridge`, { waitUntil: 'domcontentloaded' });
    // The name line and the Data tab, where a job opens, both carry the running bridge's stats.
    await page
      .getByText(/^bridge · run \d+ · \d+ pushed(, last #3 [\d.]+ s ago)? · newest on disk #3$/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.getByText('live', { exact: false }).first().waitFor({ timeout: 20_000 });
    await page.getByText('hazelcastConnected').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: `${ARTIFACTS}/board-bridge.png`, fullPage: false });
  });

  it('an unhealthy check stands out in the list, and shows as an incident on the status page once it is over', async () => {
    // A scanner that went silent 10 minutes ago: its newest file on disk, and so the scan in
    // Hazelcast, are #3 of 10 minutes back. Both must say so: with a file on disk newer than
    // Hazelcast's scan (in scan order, time first) the check rightly says bridge_behind and restarts.
    const old = new Date(Date.now() - 600_000);
    // The disk first: a file older than Hazelcast's scan is never pushed, and checks meanwhile stay healthy.
    for (const day of readdirSync(env.ARROW_DIR!).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d))) {
      for (const f of readdirSync(join(env.ARROW_DIR!, day))) unlinkSync(join(env.ARROW_DIR!, day, f));
    }
    const staged = join(env.ARROW_DIR!, '.silent-scanner.tmp');
    writeFileSync(staged, encodeScan(makeScan({ scanNumber: 3, time: old, assets: 25 })));
    // Written when it is stamped, as the scanner wrote it (else it is clock skew, not silence).
    utimesSync(staged, old, old);
    mkdirSync(join(env.ARROW_DIR!, dayFolder(old)), { recursive: true });
    renameSync(staged, join(env.ARROW_DIR!, scanRelPath(3, old)));
    const config = resolveConfig(env);
    const hz = await createHazelcast(config, testLog);
    try {
      await hz.waitConnected(10_000);
      const map = await hz.client.getMap<string, string>(config.hzMap);
      const latest = JSON.parse(await map.get(config.hzKey)) as { timestamp_ms: number };
      await map.set(config.hzKey, JSON.stringify({ ...latest, timestamp: old.toISOString(), timestamp_ms: old.getTime() }));
    } finally {
      await hz.shutdown();
    }
    await page.goto(`${url}/board/queue/health-check?status=completed`, { waitUntil: 'domcontentloaded' });
    await page
      .getByText(/✖ STALE \(scanner_silent\) · data 6\d\d\.\d s old · scan #3 · alert/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page
      .getByText(/✓ healthy · data/)
      .first()
      .waitFor({ timeout: 20_000 });
    // In colour too: the stale line red on a light red ground, the healthy ones as Bull Board draws them.
    const stale = page.getByText(/✖ STALE \(scanner_silent\)/).first();
    // Runs in the page; the test's types have no DOM globals.
    const colorOf = (e: unknown) => (globalThis as unknown as { getComputedStyle(el: unknown): { color: string } }).getComputedStyle(e).color;
    await expect.poll(() => stale.evaluate(colorOf)).toBe('rgb(185, 28, 28)');
    expect(
      await page
        .getByText(/✓ healthy · data/)
        .first()
        .evaluate(colorOf),
    ).not.toBe('rgb(185, 28, 28)');
    await page.screenshot({ path: `${ARTIFACTS}/board-unhealthy-check.png`, fullPage: false });

    // The scanner speaks again; the incident ends.
    await writeScanAtomically(env.ARROW_DIR!, makeScan({ scanNumber: 4, time: new Date(), assets: 25 }));
    await eventually(
      'a healthy check of scan #4',
      async () => {
        const body = (await (await fetch(`${url}/api/health`, { headers: AUTH })).json()) as { latest: { status: string; scanNumber: number } | null };
        return body.latest?.status === 'healthy' && body.latest.scanNumber === 4 ? true : undefined;
      },
      30_000,
    );
  });

  it('the board links to the status page, which shows status, facts, availability, chart and incidents', async () => {
    await page.goto(`${url}/board/`, { waitUntil: 'domcontentloaded' });
    await page.locator('#scan-bridge-status-link').click();
    await page.waitForURL(`${url}/status`);
    await page.locator('#current .big').waitFor();
    expect(await page.locator('#current .big').innerText()).toBe('HEALTHY');
    await page.screenshot({ path: `${ARTIFACTS}/status-top.png`, fullPage: false });
    const facts = await page.locator('#facts').innerText();
    expect(facts).toMatch(/DATA AGE\s+[\d.]+ s/i);
    expect(facts).toMatch(/LAST SCAN\s+#4/i);
    expect(facts).toMatch(/ACTIVE BRIDGE\s+\S+:\d+\s+up /i);
    // A silent scanner is not the bridge's fault: nothing was restarted for it.
    expect(facts).toMatch(/RESTARTS\s+0\b/i);
    expect(await page.locator('#slo-24h .value').innerText()).toMatch(/^\d{1,3}\.\d\d %$/);
    expect(await page.locator('#slo-7d .value').innerText()).toMatch(/^\d{1,3}\.\d\d %$/);
    expect(await page.locator('svg#plot circle.point.healthy').count()).toBeGreaterThan(0);
    expect(await page.locator('svg#plot path.age-line').count()).toBe(1);
    // A system up for a minute or two: the axis spans its checks, not 24 hours.
    const from = Number(await page.locator('svg#plot').getAttribute('data-from'));
    const to = Number(await page.locator('svg#plot').getAttribute('data-to'));
    expect(to - from).toBeLessThanOrEqual(10 * 60_000);
    const xs = await page
      .locator('svg#plot circle.point')
      .evaluateAll((els) => els.map((e) => Number((e as { getAttribute(name: string): string | null }).getAttribute('cx'))));
    expect(Math.min(...xs)).toBeLessThan(200);
    expect(await page.locator('svg#plot circle.point.stale').count()).toBeGreaterThan(0);
    // The stale spell is over: an incident with its cause, start, end and duration.
    const incident = page.locator('#incidents tr.incident', { hasText: 'scanner_silent' });
    expect(await incident.count()).toBe(1);
    expect(await incident.first().innerText()).toMatch(
      /^stale\s+scanner_silent\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ s\s+\d+$/,
    );
    await page.screenshot({ path: `${ARTIFACTS}/status.png`, fullPage: true });
  });

  it('nothing was fetched from outside, and no content security policy was broken', () => {
    expect(external).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
