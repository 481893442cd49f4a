/**
 * Every setting, declared once: its name, type, default, bounds and one line of doc.
 * `resolveConfig` (config.ts) takes defaults and bounds from here; `docs/configuration.md` and
 * `.env.example` are generated from here (`npm run docs:settings`), and a test fails when they
 * differ from what this table would write.
 */

export type SettingGroup =
  | 'Redis'
  | 'Hazelcast'
  | 'Scan folder and bridge'
  | 'Health and restarts'
  | 'Content checks'
  | 'Decoding limits'
  | 'Board, API and metrics'
  | 'Alerts'
  | 'Logs and process';

export interface Setting {
  group: SettingGroup;
  /** How the value is read: `int` within `min`..`max`, `bool`, one of `values`, or text checked by config.ts. */
  type: 'int' | 'bool' | 'enum' | 'text' | 'url' | 'list' | 'secret';
  /** Absent: no default (the feature is off, or another setting is used instead). */
  default?: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc: string;
  /** Shown uncommented in `.env.example`: the settings a new deployment most often sets. */
  example?: string;
}

const GIB = 1024 ** 3;

export const SETTINGS = {
  REDIS_URL: {
    group: 'Redis',
    type: 'url',
    default: 'redis://127.0.0.1:6379',
    example: 'redis://127.0.0.1:6379',
    doc: 'Redis for BullMQ, the bridge lease, heartbeat and health history',
  },
  REDIS_SENTINELS: {
    group: 'Redis',
    type: 'list',
    doc: 'Redis under Sentinel, instead of `REDIS_URL`: comma-separated sentinel `host:port` (port 26379 if left out)',
  },
  REDIS_SENTINEL_MASTER: { group: 'Redis', type: 'text', doc: 'the master name the sentinels monitor; with `REDIS_SENTINELS`' },
  REDIS_SENTINEL_PASSWORD: { group: 'Redis', type: 'secret', doc: "the sentinels' own password, if they have one" },
  REDIS_PASSWORD: { group: 'Redis', type: 'secret', doc: "the Redis servers' password with Sentinel or Cluster (with `REDIS_URL`, put it in the URL)" },
  REDIS_CLUSTER_NODES: {
    group: 'Redis',
    type: 'list',
    doc: 'Redis Cluster seed nodes, comma-separated `host:port`, instead of `REDIS_URL`; `QUEUE_PREFIX` is then hash-tagged (`{scan-bridge}`), as BullMQ requires',
  },
  QUEUE_PREFIX: { group: 'Redis', type: 'text', default: 'scan-bridge', doc: 'BullMQ prefix; every Redis key of scan-bridge lives under it' },

  HZ_MEMBERS: { group: 'Hazelcast', type: 'list', default: '127.0.0.1:5701', example: '127.0.0.1:5701', doc: 'Hazelcast members, comma-separated `host:port`' },
  HZ_CLUSTER_NAME: { group: 'Hazelcast', type: 'text', default: 'dev', example: 'dev', doc: "the Hazelcast cluster's name" },
  HZ_MAP: { group: 'Hazelcast', type: 'text', default: 'DOLPHIN_FEATURES', doc: 'the map the trading programs read' },
  HZ_KEY: { group: 'Hazelcast', type: 'text', default: 'latest_eigen_scan', doc: 'the key of the newest scan in `HZ_MAP`' },
  HZ_HEALTH_KEY: {
    group: 'Hazelcast',
    type: 'text',
    default: 'scan_bridge_health',
    doc: "key in `HZ_MAP` of the health entry that `wait`, `/api/ready` and the Python client read; with a `HZ_KEY` other than the default, `scan_bridge_health:<HZ_KEY>` unless set, so two deployments on one cluster never read each other's health",
  },
  HZ_HISTORY_MAP: { group: 'Hazelcast', type: 'text', default: 'DOLPHIN_SCAN_HISTORY', doc: 'every scan, by zero-padded scan number' },
  HZ_HISTORY_TTL_S: { group: 'Hazelcast', type: 'int', default: '86400', min: 1, doc: 'time-to-live of history entries, seconds' },

  ARROW_DIR: {
    group: 'Scan folder and bridge',
    type: 'text',
    default: './data/arrow_scans',
    example: './data/arrow_scans',
    doc: "the scanner's folder (`<day>/scan_*.arrow`), made absolute",
  },
  WATCH_MODE: {
    group: 'Scan folder and bridge',
    type: 'enum',
    default: 'auto',
    values: ['auto', 'events', 'poll'],
    doc: 'how the bridge sees new scan files: `events` (inotify plus a rescan), `poll` (listing only, for network and FUSE folders), `auto` (`poll` on network and FUSE filesystems)',
  },
  WATCH_POLL_MS: {
    group: 'Scan folder and bridge',
    type: 'int',
    default: '1000',
    min: 50,
    max: 3_600_000,
    doc: '`poll` mode: how often the newest day folder and the root are listed',
  },
  WATCH_RESCAN_MS: {
    group: 'Scan folder and bridge',
    type: 'int',
    default: '5000',
    min: 100,
    max: 3_600_000,
    doc: '`events` mode: how often the newest day folder is listed for events inotify lost',
  },
  MAX_CLOCK_SKEW_S: {
    group: 'Scan folder and bridge',
    type: 'int',
    default: '300',
    min: 1,
    doc: "a scan stamped further ahead of the bridge's clock is refused and reported (`clock_skew`)",
  },
  BRIDGE_LOCK_MS: {
    group: 'Scan folder and bridge',
    type: 'int',
    default: '5000',
    min: 500,
    doc: 'the bridge lease and the bridge job lock: a standby takes the lease of a dead bridge within 1.25 × this',
  },
  BRIDGE_HEARTBEAT_MS: { group: 'Scan folder and bridge', type: 'int', default: '2000', min: 50, doc: 'how often the bridge writes its heartbeat' },
  BRIDGE_HEARTBEAT_TTL_MS: {
    group: 'Scan folder and bridge',
    type: 'int',
    default: '10000',
    min: 200,
    doc: 'a heartbeat older than this means no live bridge (`down`); more than `BRIDGE_HEARTBEAT_MS`',
  },
  BRIDGE_SUMMARY_EVERY: { group: 'Scan folder and bridge', type: 'int', default: '100', min: 1, doc: 'the bridge logs a summary line every this many scans' },

  // The window's upper bound is the number of scans the bridge keeps facts of (CONTENT_KEPT in src/content/window.ts).
  CONTENT_WINDOW: {
    group: 'Content checks',
    type: 'int',
    default: '20',
    min: 3,
    max: 50,
    doc: 'the scans the content rules look back over (the asset median; how long a schema change or a null column stays reported)',
  },
  CONTENT_FROZEN_SCANS: {
    group: 'Content checks',
    type: 'int',
    default: '5',
    min: 0,
    max: 50,
    doc: 'this many scans in a row with the same values is a frozen feed (`content_frozen`); 0 turns the rule off, 1 is refused',
  },
  CONTENT_ASSET_BAND_PCT: {
    group: 'Content checks',
    type: 'int',
    default: '30',
    min: 0,
    max: 1000,
    doc: 'an asset count this many percent below or above the median of the window is out of band (`content_asset_count`); 0 turns the rule off',
  },
  CONTENT_SCHEMA_CHECK: {
    group: 'Content checks',
    type: 'bool',
    default: 'true',
    doc: 'a schema (column names and types) that changed within the window is reported (`content_schema`)',
  },
  CONTENT_NULL_SHARE_PCT: {
    group: 'Content checks',
    type: 'int',
    default: '50',
    min: 0,
    max: 100,
    doc: 'a numeric column at least this many percent null or NaN in 3 scans in a row, that was not before, is reported (`content_nulls`); 0 turns the rule off',
  },
  DECODE_TIMEOUT_MS: {
    group: 'Decoding limits',
    type: 'int',
    default: '2000',
    min: 50,
    max: 600_000,
    doc: 'longest a scan file of up to 1 MiB may take to read and decode in its thread (see `DECODE_TIMEOUT_MS_PER_MB` for larger ones); past it the thread is replaced and the file quarantined',
  },
  DECODE_TIMEOUT_MS_PER_MB: {
    group: 'Decoding limits',
    type: 'int',
    default: '1000',
    min: 0,
    max: 600_000,
    doc: 'added to `DECODE_TIMEOUT_MS` for each MiB of the file beyond the first, so a large legitimate scan is not taken for one that hangs the decoder; 0: one limit for every size',
  },
  MAX_SCAN_BYTES: {
    group: 'Decoding limits',
    type: 'int',
    default: String(256 * 1024 ** 2),
    min: 1024,
    max: 4 * GIB,
    doc: 'most bytes one scan may decode to (LZ4/ZSTD output and the JS values built from it), checked before allocating',
  },
  MAX_SCAN_FILE_BYTES: {
    group: 'Decoding limits',
    type: 'int',
    default: String(256 * 1024 ** 2),
    min: 1024,
    max: 4 * GIB,
    doc: 'larger scan files are refused unread',
  },

  HEALTH_INTERVAL_MS: { group: 'Health and restarts', type: 'int', default: '30000', min: 100, doc: 'how often the scheduled health check runs' },
  DATA_WARNING_S: { group: 'Health and restarts', type: 'int', default: '30', min: 1, doc: 'data older than this is `warning`' },
  DATA_STALE_S: { group: 'Health and restarts', type: 'int', default: '60', min: 1, doc: 'data older than this is `stale`; more than `DATA_WARNING_S`' },
  BRIDGE_START_GRACE_S: {
    group: 'Health and restarts',
    type: 'int',
    default: '60',
    min: 0,
    doc: 'a bridge run younger than this whose data is missing or old is `warning` (`starting`): no restart, no alert',
  },
  RESTART_ATTEMPTS: {
    group: 'Health and restarts',
    type: 'int',
    default: '3',
    min: 1,
    max: 100,
    doc: 'attempts of a restart job, and crash restarts inside a bridge worker',
  },
  RESTART_BACKOFF_MS: { group: 'Health and restarts', type: 'int', default: '5000', min: 0, doc: 'fixed delay between restart attempts' },
  RESTART_CONFIRM_MS: {
    group: 'Health and restarts',
    type: 'int',
    default: '20000',
    min: 100,
    doc: 'how long one restart attempt waits for the new bridge run to show up',
  },
  HEALTH_HISTORY_MAX: {
    group: 'Health and restarts',
    type: 'int',
    default: '2880',
    min: 1,
    max: 1_000_000,
    doc: 'full health results kept for `GET /api/health` (24 h at one per 30 s)',
  },
  HEALTH_TIMELINE_MAX: {
    group: 'Health and restarts',
    type: 'int',
    default: '40320',
    min: 1,
    max: 1_000_000,
    doc: 'checks kept, as small points, for the status page; also never older than 7 days',
  },

  BOARD_HOST: { group: 'Board, API and metrics', type: 'text', default: '127.0.0.1', doc: 'address of Bull Board, the API, the status page and metrics' },
  BOARD_PORT: { group: 'Board, API and metrics', type: 'int', default: '3000', min: 0, max: 65535, doc: 'their port (0: one the system picks)' },
  BOARD_USER: { group: 'Board, API and metrics', type: 'text', doc: 'login user; a login is required to listen on anything but loopback' },
  BOARD_PASSWORD: { group: 'Board, API and metrics', type: 'secret', doc: 'login password, with `BOARD_USER`' },
  BOARD_READ_ONLY: { group: 'Board, API and metrics', type: 'bool', default: 'false', doc: 'refuse every state-changing action of the board and the API' },
  BOARD_ALLOWED_HOSTS: {
    group: 'Board, API and metrics',
    type: 'list',
    default: 'localhost,127.0.0.1,[::1]',
    doc: "without a login, the `Host` names the board answers (421 for others; stops DNS rebinding); an entry without `:port` means the board's port",
  },
  BOARD_LOGIN_LIMIT: {
    group: 'Board, API and metrics',
    type: 'int',
    default: '10',
    min: 1,
    max: 1_000_000,
    doc: 'logins an address may have checked at once; past them, one per `BOARD_LOGIN_WINDOW_S` / this, in turn (a right password gives its turn back), and more than a window of waiting gets 429',
  },
  BOARD_LOGIN_WINDOW_S: {
    group: 'Board, API and metrics',
    type: 'int',
    default: '60',
    min: 1,
    max: 86_400,
    doc: "the login throttle's window: past the limit, an address's logins are checked one per window / limit",
  },

  BOARD_TRUST_PROXY: {
    group: 'Board, API and metrics',
    type: 'text',
    default: 'false',
    doc: "Express's `trust proxy`: which reverse proxies' `X-Forwarded-For` names the client (for the login throttle and logs): `false` (the socket's peer is the client), `true` (any), a number of hops, or comma-separated addresses or subnets (`loopback`, `linklocal`, `uniquelocal`, `10.0.0.0/8`)",
  },
  ALERT_WEBHOOK_URL: {
    group: 'Alerts',
    type: 'list',
    doc: 'Slack/Discord-compatible webhooks for status changes, comma-separated http(s) URLs; each gets every chat alert',
  },
  ALERT_MIN_STATUS: {
    group: 'Alerts',
    type: 'enum',
    default: 'warning',
    values: ['warning', 'stale', 'down', 'error'],
    doc: 'the mildest status that reaches chat; the recovery from such a status is sent too',
  },
  PAGERDUTY_ROUTING_KEY: { group: 'Alerts', type: 'secret', doc: 'PagerDuty Events API v2 integration key: stale, down and error open an incident' },
  PAGERDUTY_EVENTS_URL: {
    group: 'Alerts',
    type: 'url',
    default: 'https://events.pagerduty.com/v2/enqueue',
    doc: 'the EU endpoint (`https://events.eu.pagerduty.com/v2/enqueue`) or a test receiver',
  },
  HEARTBEAT_URL: {
    group: 'Alerts',
    type: 'url',
    doc: 'pinged with GET after each completed scheduled check (Healthchecks.io, Cronitor, Better Stack): when the pings stop, that service alerts',
  },

  SCAN_BRIDGE_ENV_FILE: {
    group: 'Logs and process',
    type: 'text',
    doc: 'the settings file the CLI reads under the environment, as `--settings FILE` does, instead of `./.env` (the systemd install sets it to `/etc/scan-bridge/scan-bridge.env`)',
  },
  LOG_LEVEL: {
    group: 'Logs and process',
    type: 'enum',
    default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    example: 'info',
    doc: 'pino log level',
  },
  LOG_PRETTY: {
    group: 'Logs and process',
    type: 'enum',
    default: 'auto',
    values: ['auto', '1', '0'],
    doc: 'pretty one-line logs (`1`), JSON (`0`), or pretty only when stdout is a terminal (`auto`)',
  },
  LOG_SUMMARY_INTERVAL_MS: {
    group: 'Logs and process',
    type: 'int',
    default: '300000',
    min: 100,
    doc: "`start` logs one summary line this often: status, data age, bridge, the board's address",
  },
  OUTAGE_REMINDER_MS: {
    group: 'Logs and process',
    type: 'int',
    default: '60000',
    min: 1000,
    doc: 'while Redis or Hazelcast stays unreachable, `start` reminds of it in the log this often (one line when it goes, one when it is back, with how long it was gone)',
  },
  STOP_TIMEOUT_MS: {
    group: 'Logs and process',
    type: 'int',
    default: '20000',
    min: 100,
    max: 600_000,
    doc: 'on SIGTERM or Ctrl-C, how long `start` waits for its parts to stop before it exits without them, naming them; under the 30 s systemd and Compose give it',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

export const SETTING_GROUPS: readonly SettingGroup[] = [
  'Redis',
  'Hazelcast',
  'Scan folder and bridge',
  'Health and restarts',
  'Content checks',
  'Decoding limits',
  'Board, API and metrics',
  'Alerts',
  'Logs and process',
];

/** The setting's declaration; `name` is a known setting (the type system checks it). */
export function setting(name: SettingName): Setting {
  return SETTINGS[name];
}
