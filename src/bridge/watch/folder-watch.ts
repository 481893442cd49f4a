import { mkdir, stat } from 'node:fs/promises';
import type { Config } from '../../config.js';
import { coerceError } from '../../errors.js';
import { sleep } from '../../time.js';
import { checkFolderEvery } from './folder-check.js';
import { openScanSource, type ScanSource } from './scan-source.js';
import { chooseWatchMode, type WatchModeChoice } from './watch-mode.js';

/** How long a missing scan folder is left for others to make again before the bridge makes it. */
const FOLDER_GRACE_MS = 1000;

export interface FolderWatchOptions {
  settings: Pick<Config, 'arrowDir' | 'watchMode' | 'watchPollMs' | 'watchRescanMs'>;
  /** Named in the watching line. */
  bridgeId: string;
  /** A new or changed scan candidate. */
  file(path: string): void;
  /** The folder can no longer be watched; told once, and never after stop. */
  fail(err: Error): void;
  /** Watching again after the folder went away: the scans already in it are to be caught up on. */
  watchingAgain(): void;
  say(level: 'info' | 'warn', message: string, fields?: Record<string, unknown>): void;
}

/**
 * The scan folder, watched at its path (made if missing) by the watch mode chosen for it
 * (watch-mode.ts, scan-source.ts), and checked every second that the path still names that
 * folder (folder-check.ts). When it went away, or was removed and made again, the folder at the
 * path is watched again, without a restart.
 */
export class FolderWatch {
  /** How this run watches the folder and why; null before it starts watching. */
  mode: WatchModeChoice | null = null;
  watching = false;
  private source: ScanSource | undefined;
  private stopFolderCheck: () => void = () => undefined;
  private stopped = false;
  private failed = false;
  /** Set while watchAgain replaces the watches. */
  private rewatching = false;

  constructor(private readonly o: FolderWatchOptions) {}

  /** Resolves once the watches are in place. */
  start(): Promise<void> {
    return this.watchFolder('watching');
  }

  stop(): void {
    this.stopped = true;
    this.watching = false;
    this.stopFolderCheck();
    this.source?.close();
  }

  private fail(err: Error): void {
    if (this.failed || this.stopped) return;
    this.failed = true;
    this.o.fail(err);
  }

  private async watchFolder(verb: string): Promise<void> {
    const { arrowDir } = this.o.settings;
    await mkdir(arrowDir, { recursive: true });
    const choice = await chooseWatchMode(this.o.settings.watchMode, arrowDir);
    this.mode = choice;
    let listingFailed = false;
    const source = await openScanSource(
      arrowDir,
      choice,
      { pollMs: this.o.settings.watchPollMs, rescanMs: this.o.settings.watchRescanMs },
      {
        file: (p) => this.o.file(p),
        error: (err) => this.fail(err),
        problem: (message) => {
          // Once per run: the folder check reports a folder that is gone for good.
          if (!listingFailed) this.o.say('warn', `${message}; listing again on the next tick`);
          listingFailed = true;
        },
        watchProblem: (message) => this.o.say('warn', message),
      },
    );
    if (this.stopped) return source.close();
    this.source = source;
    this.stopFolderCheck = checkFolderEvery(arrowDir, 1000, (err) => void this.watchAgain(err));
    this.watching = true;
    this.o.say('info', `${verb} ${arrowDir} as bridge ${this.o.bridgeId} ${source.how} (${choice.reason})`, { watchMode: choice });
  }

  /**
   * The scan folder went away, or was removed and made again: the watches still hold the old one.
   * This run watches the folder at the path now (made again if missing, as at start) and has the
   * scans already in it caught up on: the heartbeat and the latest value's writer carry on. Only
   * when that fails (the path is a file now) does the bridge fail.
   */
  private async watchAgain(why: Error): Promise<void> {
    if (this.rewatching || this.stopped || this.failed) return;
    this.rewatching = true;
    this.stopFolderCheck();
    this.source?.close();
    this.source = undefined;
    // `watching` stays set: a heartbeat saying otherwise for this moment would read as a dead bridge.
    this.o.say('warn', `${why.message}: watching the folder at that path again`);
    try {
      // Removed to be made again (rm -r, then mkdir): whoever removed it gets a moment to make it first.
      if (
        !(await stat(this.o.settings.arrowDir).then(
          () => true,
          () => false,
        ))
      )
        await sleep(FOLDER_GRACE_MS);
      if (this.stopped) return;
      await this.watchFolder('watching again');
      if (!this.stopped) this.o.watchingAgain();
    } catch (err) {
      this.fail(new Error(`${why.message}, and watching it again failed: ${coerceError(err).message}`));
    } finally {
      this.rewatching = false;
    }
  }
}
