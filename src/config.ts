import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { splitHost } from './server/hosts.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is: one server by URL, a master found through Sentinel, or a Redis Cluster. */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; master: string; sentinelPassword: string | undefined; password: string | undefined }
  | { kind: 'cluster'; nodes: HostPort[]; password: string | undefined };

export interface Config {
  /**
   * Redis for BullMQ, the bridge lease and its heartbeat: `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`,
   * else `REDIS_CLUSTER_NODES`, else `REDIS_URL`. @defaultValue `redis://127.0.0.1:6379`
   */
  redis: RedisTarget;
  /** Hazelcast members, `host:port`. @defaultValue `['127.0.0.1:5701']` */
  hzMembers: string[];
  /** @defaultValue `dev` */
  hzClusterName: string;
  /** Map the trading programs read. @defaultValue `DOLPHIN_FEATURES` */
  hzMap: string;
  /** Key of the newest scan in {@link hzMap}. @defaultValue `latest_eigen_scan` */
  hzKey: string;
  /** Every scan by zero-padded number. @defaultValue `DOLPHIN_SCAN_HISTORY` */
  hzHistoryMap: string;
  /** Time-to-live of history entries, seconds. @defaultValue `86400` */
  hzHistoryTtlS: number;
  /** Folder the scanner writes `<day>/scan_*.arrow` into, made absolute. @defaultValue `./data/arrow_scans` */
  arrowDir: string;
  /** BullMQ prefix of every queue and of the bridge's keys. @defaultValue `scan-bridge` */
  queuePrefix: string;
  /** @defaultValue `30000` */
  healthIntervalMs: number;
  /** Data older than this is `warning`. @defaultValue `30` */
  dataWarningS: number;
  /** Data older than this is `stale`. @defaultValue `60` */
  dataStaleS: number;
  /** @defaultValue `3` */
  restartAttempts: number;
  /** Fixed delay between restart attempts. @defaultValue `5000` */
  restartBackoffMs: number;
  /** @defaultValue `127.0.0.1` */
  boardHost: string;
  /** @defaultValue `3000` */
  boardPort: number;
  boardUser: string | undefined;
  boardPassword: string | undefined;
  /** Refuse every state-changing route of the board and the API. @defaultValue `false` */
  boardReadOnly: boolean;
  /**
   * `Host` names (optionally `:port`; without one, the board's port) the board answers without a
   * login; other hosts get 421. Stops DNS rebinding. @defaultValue `['localhost', '127.0.0.1', '[::1]']`
   */
  boardAllowedHosts: string[];
  /** Failed logins an address may make per {@link boardLoginWindowS} before it gets 429. @defaultValue `10` */
  boardLoginLimit: number;
  /** The login throttle's window: past the limit, an address's logins are checked one per window / limit. @defaultValue `60` */
  boardLoginWindowS: number;
  /**
   * Express's `trust proxy`: which reverse proxies' `X-Forwarded-For` names the client (for the
   * login throttle and logs). `true` (any), a hop count, or addresses/subnets/`loopback`,
   * `linklocal`, `uniquelocal`. @defaultValue `false` (the socket's peer is the client)
   */
  boardTrustProxy: boolean | number | string[];
  /** ALERT_WEBHOOK_URL, comma-separated: Slack/Discord-compatible webhooks; each gets every chat alert. @defaultValue none */
  alertWebhookUrls: string[];
  /** The mildest status that reaches chat; a recovery from such a status is sent too. @defaultValue `warning` */
  alertMinStatus: 'warning' | 'stale' | 'down' | 'error';
  /** PagerDuty Events API v2 integration key: stale, down and error open an incident. @defaultValue none */
  pagerdutyRoutingKey: string | undefined;
  /** @defaultValue `https://events.pagerduty.com/v2/enqueue` (the EU endpoint or a test receiver goes here) */
  pagerdutyEventsUrl: string;
  /** Pinged with GET after each completed scheduled health check (Healthchecks.io, Cronitor, Better Stack). @defaultValue none */
  heartbeatUrl: string | undefined;
  /** @defaultValue `info` */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How often the bridge writes its heartbeat. @defaultValue `2000` */
  bridgeHeartbeatMs: number;
  /** A heartbeat older than this means no live bridge. @defaultValue `10000` */
  bridgeHeartbeatTtlMs: number;
  /** Lock duration of the bridge job: how soon a standby takes over a dead bridge. @defaultValue `5000` */
  bridgeLockMs: number;
  /** Log a summary every this many scans. @defaultValue `100` */
  bridgeSummaryEvery: number;
  /**
   * A bridge run younger than this whose data is missing or old is reported as `warning`
   * (`starting`) and neither restarted nor alerted about: it is catching up. @defaultValue `60`
   */
  bridgeStartGraceS: number;
  /** How often `start` logs a one-line summary: status, data age, bridge, the board's address. @defaultValue `300000` */
  logSummaryIntervalMs: number;
  /** On SIGTERM/SIGINT, how long `start` waits for its parts to stop before it exits without them. @defaultValue `20000` */
  stopTimeoutMs: number;
  /** How long a restart attempt waits for a new bridge run to show up. @defaultValue `20000` */
  restartConfirmMs: number;
  /** Health results kept in the history (24 h at one per 30 s). @defaultValue `2880` */
  healthHistoryMax: number;
  /**
   * How the bridge learns of new scan files: `events` (inotify), `poll` (listing the folder,
   * for network and FUSE folders where inotify sees nothing), `auto` (`poll` when `ARROW_DIR`
   * is on a network or FUSE filesystem, else `events`). @defaultValue `auto`
   */
  watchMode: 'auto' | 'events' | 'poll';
  /** `poll` mode: how often the newest day folder and the root are listed. @defaultValue `1000` */
  watchPollMs: number;
  /** `events` mode: how often the newest day folder is listed for files whose events were lost. @defaultValue `5000` */
  watchRescanMs: number;
  /** A scan stamped further ahead of this machine's clock, or further before its file's mtime, is refused. @defaultValue `300` */
  maxClockSkewS: number;
  /**
   * Checks kept for the status page's incidents and availability, as small points: also never
   * older than 7 days. Room for 7 days at one scheduled and one manual check per 30 s (~3 MB).
   * @defaultValue `40320`
   */
  healthTimelineMax: number;
  /** Longest a scan file may take to decode; past it the decoder thread is replaced and the file quarantined. @defaultValue `2000` */
  decodeTimeoutMs: number;
  /** Most bytes one scan may decode to (LZ4/ZSTD output and the JS values built from it), checked before allocating. @defaultValue 256 MiB */
  maxScanBytes: number;
  /** Larger scan files are refused unread. @defaultValue 256 MiB */
  maxScanFileBytes: number;
}

export const DEFAULTS: Readonly<Record<string, string>> = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  HZ_MEMBERS: '127.0.0.1:5701',
  HZ_CLUSTER_NAME: 'dev',
  HZ_MAP: 'DOLPHIN_FEATURES',
  HZ_KEY: 'latest_eigen_scan',
  HZ_HISTORY_MAP: 'DOLPHIN_SCAN_HISTORY',
  HZ_HISTORY_TTL_S: '86400',
  ARROW_DIR: './data/arrow_scans',
  QUEUE_PREFIX: 'scan-bridge',
  HEALTH_INTERVAL_MS: '30000',
  DATA_WARNING_S: '30',
  DATA_STALE_S: '60',
  RESTART_ATTEMPTS: '3',
  RESTART_BACKOFF_MS: '5000',
  BOARD_HOST: '127.0.0.1',
  BOARD_PORT: '3000',
  BOARD_READ_ONLY: 'false',
  BOARD_ALLOWED_HOSTS: 'localhost,127.0.0.1,[::1]',
  BOARD_LOGIN_LIMIT: '10',
  BOARD_LOGIN_WINDOW_S: '60',
  BOARD_TRUST_PROXY: 'false',
  LOG_LEVEL: 'info',
  ALERT_MIN_STATUS: 'warning',
  PAGERDUTY_EVENTS_URL: 'https://events.pagerduty.com/v2/enqueue',
  BRIDGE_HEARTBEAT_MS: '2000',
  BRIDGE_HEARTBEAT_TTL_MS: '10000',
  BRIDGE_LOCK_MS: '5000',
  BRIDGE_SUMMARY_EVERY: '100',
  BRIDGE_START_GRACE_S: '60',
  LOG_SUMMARY_INTERVAL_MS: '300000',
  STOP_TIMEOUT_MS: '20000',
  RESTART_CONFIRM_MS: '20000',
  HEALTH_HISTORY_MAX: '2880',
  WATCH_MODE: 'auto',
  WATCH_POLL_MS: '1000',
  WATCH_RESCAN_MS: '5000',
  MAX_CLOCK_SKEW_S: '300',
  HEALTH_TIMELINE_MAX: '40320',
  DECODE_TIMEOUT_MS: '2000',
  MAX_SCAN_BYTES: String(256 * 1024 * 1024),
  MAX_SCAN_FILE_BYTES: String(256 * 1024 * 1024),
};

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? (DEFAULTS[name] ?? '') : v.trim();
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function int(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = raw(env, name);
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, v, `a whole number from ${min} to ${max}`);
  }
  return n;
}

function bool(env: Env, name: string): boolean {
  const v = raw(env, name).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, v, 'true or false');
}

function redisUrl(env: Env): string {
  const v = raw(env, 'REDIS_URL');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError('REDIS_URL', v, 'a URL like redis://host:6379');
  }
  if (!['redis:', 'rediss:'].includes(u.protocol) || !u.hostname || (u.port && !validPort(u.port))) {
    throw new ConfigError('REDIS_URL', v, 'a URL like redis://host:6379');
  }
  return v;
}

/** `host:port` items; a missing port is `defaultPort`, or an error when there is none. */
function hostPorts(env: Env, variable: string, defaultPort?: number): HostPort[] | undefined {
  const v = optional(env, variable);
  if (v === undefined) return undefined;
  const list = v.split(',').map((item) => {
    const m = /^(?:\[([0-9a-fA-F:]+)\]|([A-Za-z0-9._-]+))(?::(\d+))?$/.exec(item.trim());
    if (!m || (m[3] === undefined ? defaultPort === undefined : !validPort(m[3]))) return undefined;
    return { host: (m[1] ?? m[2])!, port: m[3] === undefined ? defaultPort! : Number(m[3]) };
  });
  if (list.some((hp) => hp === undefined)) {
    throw new ConfigError(variable, v, `comma-separated host:port, like 10.0.0.1:${defaultPort ?? 7000},10.0.0.2:${defaultPort ?? 7000}`);
  }
  return list as HostPort[];
}

function redisTarget(env: Env): RedisTarget {
  const sentinels = hostPorts(env, 'REDIS_SENTINELS', 26379);
  const master = optional(env, 'REDIS_SENTINEL_MASTER');
  const nodes = hostPorts(env, 'REDIS_CLUSTER_NODES');
  const password = optional(env, 'REDIS_PASSWORD');
  if (nodes && (sentinels || master)) {
    throw new ConfigError('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES ?? '', 'to be unset when REDIS_SENTINELS is set: Sentinel or Cluster, not both');
  }
  if (sentinels && master === undefined) throw new ConfigError('REDIS_SENTINEL_MASTER', '', 'the master name the sentinels monitor, with REDIS_SENTINELS');
  if (master !== undefined && !sentinels) throw new ConfigError('REDIS_SENTINELS', '', 'comma-separated sentinel host:port, with REDIS_SENTINEL_MASTER');
  if (sentinels) {
    return { kind: 'sentinel', sentinels, master: name(env, 'REDIS_SENTINEL_MASTER'), sentinelPassword: optional(env, 'REDIS_SENTINEL_PASSWORD'), password };
  }
  if (nodes) return { kind: 'cluster', nodes, password };
  return { kind: 'url', url: redisUrl(env) };
}

/** BullMQ on a Redis Cluster needs every key of a queue in one slot: a `{hash tag}` prefix. */
function queuePrefix(env: Env, redis: RedisTarget): string {
  const given = raw(env, 'QUEUE_PREFIX');
  if (/^\{[A-Za-z0-9_.:-]+\}$/.test(given)) return given;
  const prefix = name(env, 'QUEUE_PREFIX');
  return redis.kind === 'cluster' ? `{${prefix}}` : prefix;
}

function validPort(p: string): boolean {
  const n = Number(p);
  return /^\d+$/.test(p) && n >= 1 && n <= 65535;
}

function hzMembers(env: Env): string[] {
  const v = raw(env, 'HZ_MEMBERS');
  const members = v.split(',').map((m) => m.trim());
  const ok = members.every((m) => {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$/.exec(m);
    return match !== null && (match[2] === undefined || validPort(match[2]));
  });
  if (!ok || members.length === 0) {
    throw new ConfigError('HZ_MEMBERS', v, 'comma-separated host:port, like 127.0.0.1:5701');
  }
  return members;
}

function allowedHosts(env: Env): string[] {
  const v = raw(env, 'BOARD_ALLOWED_HOSTS');
  const hosts = v
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0 || !hosts.every((h) => splitHost(h) !== undefined)) {
    throw new ConfigError('BOARD_ALLOWED_HOSTS', v, 'comma-separated host names or addresses, each optionally with :port, like localhost,127.0.0.1,[::1]');
  }
  return hosts;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One `trust proxy` entry as Express (proxy-addr) takes it: a name, an address, address/prefix or IPv4 address/netmask. */
function proxyEntry(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [addr = '', range, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

function trustProxy(env: Env): Config['boardTrustProxy'] {
  const v = raw(env, 'BOARD_TRUST_PROXY');
  if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(',').map((e) => e.trim());
  if (!entries.every(proxyEntry)) {
    throw new ConfigError(
      'BOARD_TRUST_PROXY',
      v,
      'false, true, a number of proxy hops, or comma-separated proxy addresses or subnets (10.0.0.0/8, loopback, linklocal, uniquelocal)',
    );
  }
  return entries;
}

function name(env: Env, variable: string): string {
  const v = raw(env, variable);
  if (!/^[A-Za-z0-9_.:-]+$/.test(v)) {
    throw new ConfigError(variable, v, 'a name of letters, digits, "_", "-", "." or ":"');
  }
  return v;
}

const HTTP_URL = /^https?:\/\/[^\s,]+$/;
const ALERT_STATUSES = ['warning', 'stale', 'down', 'error'] as const;
const WATCH_MODES = ['auto', 'events', 'poll'] as const;

function watchMode(env: Env): Config['watchMode'] {
  const v = raw(env, 'WATCH_MODE').toLowerCase();
  if (!(WATCH_MODES as readonly string[]).includes(v)) throw new ConfigError('WATCH_MODE', v, WATCH_MODES.join(', '));
  return v as Config['watchMode'];
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Resolves every setting once, failing on the first bad one with its name. Pure: reads only `env`. */
export function resolveConfig(env: Env): Config {
  const logLevel = raw(env, 'LOG_LEVEL').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', logLevel, LOG_LEVELS.join(', '));
  }
  const alertUrls = (optional(env, 'ALERT_WEBHOOK_URL') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const u of alertUrls) if (!HTTP_URL.test(u)) throw new ConfigError('ALERT_WEBHOOK_URL', u, 'comma-separated http(s) URLs');
  const alertMinStatus = raw(env, 'ALERT_MIN_STATUS').toLowerCase();
  if (!(ALERT_STATUSES as readonly string[]).includes(alertMinStatus)) throw new ConfigError('ALERT_MIN_STATUS', alertMinStatus, ALERT_STATUSES.join(', '));
  const pagerdutyEventsUrl = raw(env, 'PAGERDUTY_EVENTS_URL');
  if (!HTTP_URL.test(pagerdutyEventsUrl)) throw new ConfigError('PAGERDUTY_EVENTS_URL', pagerdutyEventsUrl, 'an http(s) URL');
  const heartbeatUrl = optional(env, 'HEARTBEAT_URL');
  if (heartbeatUrl !== undefined && !HTTP_URL.test(heartbeatUrl)) throw new ConfigError('HEARTBEAT_URL', heartbeatUrl, 'an http(s) URL');
  const boardUser = optional(env, 'BOARD_USER');
  const boardPassword = optional(env, 'BOARD_PASSWORD');
  if ((boardUser === undefined) !== (boardPassword === undefined)) {
    const missing = boardUser === undefined ? 'BOARD_USER' : 'BOARD_PASSWORD';
    throw new ConfigError(missing, '', 'to be set together with ' + (missing === 'BOARD_USER' ? 'BOARD_PASSWORD' : 'BOARD_USER'));
  }
  const redis = redisTarget(env);
  const config: Config = {
    redis,
    hzMembers: hzMembers(env),
    hzClusterName: name(env, 'HZ_CLUSTER_NAME'),
    hzMap: name(env, 'HZ_MAP'),
    hzKey: name(env, 'HZ_KEY'),
    hzHistoryMap: name(env, 'HZ_HISTORY_MAP'),
    hzHistoryTtlS: int(env, 'HZ_HISTORY_TTL_S', 1),
    // Absolute, so file events, relative names in payloads and child processes all agree.
    arrowDir: resolve(raw(env, 'ARROW_DIR')),
    queuePrefix: queuePrefix(env, redis),
    healthIntervalMs: int(env, 'HEALTH_INTERVAL_MS', 100),
    dataWarningS: int(env, 'DATA_WARNING_S', 1),
    dataStaleS: int(env, 'DATA_STALE_S', 1),
    restartAttempts: int(env, 'RESTART_ATTEMPTS', 1, 100),
    restartBackoffMs: int(env, 'RESTART_BACKOFF_MS', 0),
    boardHost: raw(env, 'BOARD_HOST'),
    boardPort: int(env, 'BOARD_PORT', 0, 65535),
    boardUser,
    boardPassword,
    boardReadOnly: bool(env, 'BOARD_READ_ONLY'),
    boardAllowedHosts: allowedHosts(env),
    boardLoginLimit: int(env, 'BOARD_LOGIN_LIMIT', 1, 1_000_000),
    boardLoginWindowS: int(env, 'BOARD_LOGIN_WINDOW_S', 1, 86_400),
    boardTrustProxy: trustProxy(env),
    alertWebhookUrls: alertUrls,
    alertMinStatus: alertMinStatus as Config['alertMinStatus'],
    pagerdutyRoutingKey: optional(env, 'PAGERDUTY_ROUTING_KEY'),
    pagerdutyEventsUrl,
    heartbeatUrl,
    logLevel: logLevel as Config['logLevel'],
    bridgeHeartbeatMs: int(env, 'BRIDGE_HEARTBEAT_MS', 50),
    bridgeHeartbeatTtlMs: int(env, 'BRIDGE_HEARTBEAT_TTL_MS', 200),
    bridgeLockMs: int(env, 'BRIDGE_LOCK_MS', 500),
    bridgeSummaryEvery: int(env, 'BRIDGE_SUMMARY_EVERY', 1),
    bridgeStartGraceS: int(env, 'BRIDGE_START_GRACE_S', 0),
    logSummaryIntervalMs: int(env, 'LOG_SUMMARY_INTERVAL_MS', 100),
    stopTimeoutMs: int(env, 'STOP_TIMEOUT_MS', 100, 600_000),
    restartConfirmMs: int(env, 'RESTART_CONFIRM_MS', 100),
    healthHistoryMax: int(env, 'HEALTH_HISTORY_MAX', 1, 1_000_000),
    watchMode: watchMode(env),
    watchPollMs: int(env, 'WATCH_POLL_MS', 50, 3_600_000),
    watchRescanMs: int(env, 'WATCH_RESCAN_MS', 100, 3_600_000),
    maxClockSkewS: int(env, 'MAX_CLOCK_SKEW_S', 1),
    healthTimelineMax: int(env, 'HEALTH_TIMELINE_MAX', 1, 1_000_000),
    decodeTimeoutMs: int(env, 'DECODE_TIMEOUT_MS', 50, 600_000),
    // Up to 4 GiB: Arrow's buffers and V8's typed arrays are sized in 32 bits here.
    maxScanBytes: int(env, 'MAX_SCAN_BYTES', 1024, 4 * 1024 ** 3),
    maxScanFileBytes: int(env, 'MAX_SCAN_FILE_BYTES', 1024, 4 * 1024 ** 3),
  };
  if (config.dataStaleS <= config.dataWarningS) {
    throw new ConfigError('DATA_STALE_S', String(config.dataStaleS), `a number of seconds above DATA_WARNING_S (${config.dataWarningS})`);
  }
  if (config.bridgeHeartbeatTtlMs <= config.bridgeHeartbeatMs) {
    throw new ConfigError('BRIDGE_HEARTBEAT_TTL_MS', String(config.bridgeHeartbeatTtlMs), `more than BRIDGE_HEARTBEAT_MS (${config.bridgeHeartbeatMs})`);
  }
  return config;
}
