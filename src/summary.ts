import { hostname } from 'node:os';
import type { Config } from './config.js';
import type { RedisConnection } from './connections.js';
import type { Logger } from './log.js';
import { coerceError } from './errors.js';
import { reasonInWords } from './reachability.js';
import { keys } from './keys.js';
import { withTimeout } from './time.js';
import { readBridgeFacts } from './bridge/facts.js';
import type { HealthResult } from './health.js';
import { BOARD_PATH } from './server/board.js';
import { STATUS_PATH } from './server/board-page.js';

/** What a board role says about itself in Redis, for `status` and other processes' summaries. */
export interface BoardAnnouncement {
  board: string;
  statusPage: string;
  host: string;
  pid: number;
  at: number;
}

/** How long a stop waits for Redis to remove this board's announcement. */
const TIDY_MS = 1000;
/** An announcement outlives this many refreshes, so a stopped board is soon no longer named. */
const ANNOUNCE_TTL_FACTOR = 3;
const ANNOUNCE_EVERY_MS = 30_000;

export interface SummaryOptions {
  config: Config;
  redis: RedisConnection;
  log: Logger;
  /** The board's base URL when this process serves it. */
  boardUrl?: string;
}

export interface Summary {
  stop(): Promise<void>;
}

function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(0)} min`;
}

/** The one summary line, from what Redis holds now. */
async function summaryLine(o: SummaryOptions, own: BoardAnnouncement | null): Promise<string> {
  const k = keys(o.config.queuePrefix);
  const [[health, boardJson], facts] = await Promise.all([o.redis.mget(k.healthLatest, k.board), readBridgeFacts(o.redis, o.config.queuePrefix)]);
  const now = Date.now();
  const parts: string[] = [];
  if (health) {
    const r = JSON.parse(health) as HealthResult;
    const data = r.dataAgeS === null ? 'data age unknown' : `data ${r.dataAgeS} s old${r.scanNumber === null ? '' : ` (scan #${r.scanNumber})`}`;
    parts.push(`${r.status}${'cause' in r ? ` (${r.cause})` : ''} at the last check ${ago(now - r.checkedAt)} ago, ${data}`);
  } else {
    parts.push('no health check yet');
  }
  const hb = facts.heartbeat;
  parts.push(hb ? `bridge ${hb.id} up ${ago(now - hb.startedAt)}` : 'no live bridge');
  const board = own ?? (boardJson ? (JSON.parse(boardJson) as BoardAnnouncement) : null);
  parts.push(board ? `board at ${board.board}, status page at ${board.statusPage}` : 'no board running');
  return `summary: ${parts.join('; ')}`;
}

/**
 * Logs a summary line every LOG_SUMMARY_INTERVAL_MS, so a person who opens the terminal late
 * still finds the board's address; a board in this process also announces it in Redis.
 */
export function startSummary(o: SummaryOptions): Summary {
  const k = keys(o.config.queuePrefix);
  const own: BoardAnnouncement | null = o.boardUrl
    ? { board: `${o.boardUrl}${BOARD_PATH}/`, statusPage: `${o.boardUrl}${STATUS_PATH}`, host: hostname(), pid: process.pid, at: Date.now() }
    : null;
  let failing = false;
  const announce = async () => {
    if (!own) return;
    try {
      await o.redis.set(k.board, JSON.stringify({ ...own, at: Date.now() }), 'PX', ANNOUNCE_EVERY_MS * ANNOUNCE_TTL_FACTOR);
    } catch (err) {
      // The summary below says the same outage; the board itself keeps serving.
      o.log.debug(`cannot announce the board in Redis: ${coerceError(err).message}`);
    }
  };
  const summarise = async () => {
    try {
      o.log.info(await summaryLine(o, own));
      failing = false;
    } catch (err) {
      // The outage is the process's one warning (reachability.ts); the board's address is still worth a line.
      if (!failing) o.log.info(`summary: cannot read Redis (${reasonInWords(err)})${own ? `; board at ${own.board}` : ''}`);
      failing = true;
    }
  };
  void announce();
  const announcer = setInterval(() => void announce(), Math.min(ANNOUNCE_EVERY_MS, o.config.logSummaryIntervalMs));
  const timer = setInterval(() => void summarise(), o.config.logSummaryIntervalMs);
  announcer.unref();
  timer.unref();
  return {
    async stop() {
      clearInterval(announcer);
      clearInterval(timer);
      if (!own) return;
      // Only our own announcement: another board may have announced itself since. Redis may be
      // down: the announcement expires by itself, so the stop waits no longer than this for it.
      const tidy = async () => {
        const current = await o.redis.get(k.board);
        const a = current ? (JSON.parse(current) as BoardAnnouncement) : null;
        if (a && a.pid === own.pid && a.host === own.host) await o.redis.del(k.board);
      };
      await withTimeout(tidy(), TIDY_MS, 'Redis').catch(() => undefined);
    },
  };
}
