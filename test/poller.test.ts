import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFolderPoller, type FolderPoller } from '../src/bridge/watch/poller.js';

const pollers: FolderPoller[] = [];
afterEach(() => {
  while (pollers.length) pollers.pop()!.close();
});

/** A poller on a fresh folder, ticked by hand (the interval is an hour). */
async function poller(prepare: (root: string) => void = () => undefined) {
  const root = mkdtempSync(join(tmpdir(), 'poller-'));
  prepare(root);
  const found: string[] = [];
  const problems: string[] = [];
  const p = await startFolderPoller({ root, intervalMs: 3_600_000, file: (path) => found.push(path.slice(root.length + 1)), problem: (m) => problems.push(m) });
  pollers.push(p);
  const tick = async () => {
    found.length = 0;
    await p.tick();
    return [...found];
  };
  return { root, tick, problems };
}

describe('folder poller (WATCH_MODE=poll and the events-mode rescan)', () => {
  it('reports new files newest first, not those there at start, nor dotfiles and temp files', async () => {
    const { root, tick } = await poller((r) => {
      mkdirSync(join(r, '2026-11-28'));
      writeFileSync(join(r, '2026-11-28', 'scan_000100_120000.arrow'), 'x');
    });
    expect(await tick()).toEqual([]);
    const day = join(root, '2026-11-28');
    // A scanner restart: #1 and #2 are newer than #101 by time.
    for (const n of ['scan_000101_120005.arrow', 'scan_000001_120010.arrow', 'scan_000002_120015.arrow', '.scan_000003_120020.arrow.tmp', '.hidden.arrow'])
      writeFileSync(join(day, n), 'x');
    expect(await tick()).toEqual(['2026-11-28/scan_000002_120015.arrow', '2026-11-28/scan_000001_120010.arrow', '2026-11-28/scan_000101_120005.arrow']);
    expect(await tick()).toEqual([]);
  });

  it('reports a file that grows after it was seen, and a file renamed in again', async () => {
    const { root, tick } = await poller((r) => mkdirSync(join(r, '2026-11-28')));
    const file = join(root, '2026-11-28', 'scan_000001_120000.arrow');
    writeFileSync(file, 'x');
    expect(await tick()).toEqual(['2026-11-28/scan_000001_120000.arrow']);
    expect(await tick()).toEqual([]); // learns its size
    appendFileSync(file, 'more');
    expect(await tick()).toEqual(['2026-11-28/scan_000001_120000.arrow']);
    renameSync(file, join(root, 'away.arrow.tmp'));
    expect(await tick()).toEqual([]);
    renameSync(join(root, 'away.arrow.tmp'), file);
    expect(await tick()).toEqual(['2026-11-28/scan_000001_120000.arrow']);
  });

  it('lists a day folder that appears, whole, and keeps listing the old day while files still arrive in it', async () => {
    const { root, tick } = await poller((r) => mkdirSync(join(r, '2026-11-28')));
    mkdirSync(join(root, '2026-11-29'));
    writeFileSync(join(root, '2026-11-29', 'scan_000010_000001.arrow'), 'x');
    expect(await tick()).toEqual(['2026-11-29/scan_000010_000001.arrow']);
    // Late file of the day before (written in place at 23:59:59, say).
    writeFileSync(join(root, '2026-11-28', 'scan_000009_235959.arrow'), 'x');
    expect(await tick()).toEqual(['2026-11-28/scan_000009_235959.arrow']);
  });

  it('reports a failed listing once, and goes on', async () => {
    const { root, tick, problems } = await poller();
    rmSync(root, { recursive: true });
    await tick();
    await tick();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(root);
    mkdirSync(join(root, '2026-11-28'), { recursive: true });
    writeFileSync(join(root, '2026-11-28', 'scan_000001_120000.arrow'), 'x');
    expect(await tick()).toEqual(['2026-11-28/scan_000001_120000.arrow']);
  });
});
