import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { splitHost } from './server/hosts.js';
import { SETTINGS, type Setting, type SettingName } from './settings.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is: one server by URL, a master found through Sentinel, or a Redis Cluster. */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; master: string; sentinelPassword: string | undefined; password: string | undefined }
  | { kind: 'cluster'; nodes: HostPort[]; password: string | undefined };

/** The settings, resolved. Each one's default, bounds and doc are in settings.ts, under the variable named here. */
export interface Config {
  /** `REDIS_URL`, `REDIS_SENTINELS`, `REDIS_CLUSTER_NODES` */
  redis: RedisTarget;
  /** `HZ_MEMBERS` */
  hzMembers: string[];
  /** `HZ_CLUSTER_NAME` */
  hzClusterName: string;
  /** `HZ_MAP` */
  hzMap: string;
  /** `HZ_KEY` */
  hzKey: string;
  /** `HZ_HEALTH_KEY`: with the default `HZ_KEY` it is `scan_bridge_health`, with any other `scan_bridge_health:<HZ_KEY>`. */
  hzHealthKey: string;
  /** `HZ_HISTORY_MAP` */
  hzHistoryMap: string;
  /** `HZ_HISTORY_TTL_S` */
  hzHistoryTtlS: number;
  /** `ARROW_DIR` */
  arrowDir: string;
  /** `QUEUE_PREFIX` */
  queuePrefix: string;
  /** `HEALTH_INTERVAL_MS` */
  healthIntervalMs: number;
  /** `DATA_WARNING_S` */
  dataWarningS: number;
  /** `DATA_STALE_S` */
  dataStaleS: number;
  /** `RESTART_ATTEMPTS` */
  restartAttempts: number;
  /** `RESTART_BACKOFF_MS` */
  restartBackoffMs: number;
  /** `BOARD_HOST` */
  boardHost: string;
  /** `BOARD_PORT` */
  boardPort: number;
  /** `BOARD_USER` */
  boardUser: string | undefined;
  /** `BOARD_PASSWORD` */
  boardPassword: string | undefined;
  /** `BOARD_READ_ONLY` */
  boardReadOnly: boolean;
  /** `BOARD_ALLOWED_HOSTS` */
  boardAllowedHosts: string[];
  /** `BOARD_LOGIN_LIMIT` */
  boardLoginLimit: number;
  /** `BOARD_LOGIN_WINDOW_S` */
  boardLoginWindowS: number;
  /** `BOARD_TRUST_PROXY`: `true` (any), a hop count, or addresses/subnets. */
  boardTrustProxy: boolean | number | string[];
  /** `ALERT_WEBHOOK_URL` */
  alertWebhookUrls: string[];
  /** `ALERT_MIN_STATUS` */
  alertMinStatus: 'warning' | 'stale' | 'down' | 'error';
  /** `PAGERDUTY_ROUTING_KEY` */
  pagerdutyRoutingKey: string | undefined;
  /** `PAGERDUTY_EVENTS_URL` */
  pagerdutyEventsUrl: string;
  /** `HEARTBEAT_URL` */
  heartbeatUrl: string | undefined;
  /** `LOG_LEVEL` */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `LOG_PRETTY` */
  logPretty: 'auto' | '1' | '0';
  /** `BRIDGE_HEARTBEAT_MS` */
  bridgeHeartbeatMs: number;
  /** `BRIDGE_HEARTBEAT_TTL_MS` */
  bridgeHeartbeatTtlMs: number;
  /** `BRIDGE_LOCK_MS` */
  bridgeLockMs: number;
  /** `BRIDGE_SUMMARY_EVERY` */
  bridgeSummaryEvery: number;
  /** `BRIDGE_START_GRACE_S` */
  bridgeStartGraceS: number;
  /** `LOG_SUMMARY_INTERVAL_MS` */
  logSummaryIntervalMs: number;
  /** `OUTAGE_REMINDER_MS` */
  outageReminderMs: number;
  /** `STOP_TIMEOUT_MS` */
  stopTimeoutMs: number;
  /** `RESTART_CONFIRM_MS` */
  restartConfirmMs: number;
  /** `HEALTH_HISTORY_MAX` */
  healthHistoryMax: number;
  /** `WATCH_MODE` */
  watchMode: 'auto' | 'events' | 'poll';
  /** `WATCH_POLL_MS` */
  watchPollMs: number;
  /** `WATCH_RESCAN_MS` */
  watchRescanMs: number;
  /** `MAX_CLOCK_SKEW_S` */
  maxClockSkewS: number;
  /** `HEALTH_TIMELINE_MAX` */
  healthTimelineMax: number;
  /** `DECODE_TIMEOUT_MS` */
  decodeTimeoutMs: number;
  /** `DECODE_TIMEOUT_MS_PER_MB` */
  decodeTimeoutMsPerMb: number;
  /** `MAX_SCAN_BYTES` */
  maxScanBytes: number;
  /** `MAX_SCAN_FILE_BYTES` */
  maxScanFileBytes: number;
  /** `SCAN_BRIDGE_ENV_FILE` */
  envFile: string | undefined;

  /** `CONTENT_WINDOW` */
  contentWindow: number;
  /** `CONTENT_FROZEN_SCANS` */
  contentFrozenScans: number;
  /** `CONTENT_ASSET_BAND_PCT` */
  contentAssetBandPct: number;
  /** `CONTENT_SCHEMA_CHECK` */
  contentSchemaCheck: boolean;
  /** `CONTENT_NULL_SHARE_PCT` */
  contentNullSharePct: number;
}

type Env = Record<string, string | undefined>;

/** The value, else the default declared in settings.ts, else ''. */
function raw(env: Env, name: SettingName): string {
  const v = env[name];
  const declared: Setting = SETTINGS[name];
  return v === undefined || v.trim() === '' ? (declared.default ?? '') : v.trim();
}

function optional(env: Env, name: SettingName): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** A whole number within the bounds declared in settings.ts. */
function int(env: Env, name: SettingName): number {
  const declared: Setting = SETTINGS[name];
  const min = declared.min ?? 0;
  const max = declared.max ?? Number.MAX_SAFE_INTEGER;
  const v = raw(env, name);
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, v, `a whole number from ${min} to ${max}`);
  }
  return n;
}

function bool(env: Env, name: SettingName): boolean {
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
function hostPorts(env: Env, variable: SettingName, defaultPort?: number): HostPort[] | undefined {
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

function name(env: Env, variable: SettingName): string {
  const v = raw(env, variable);
  if (!/^[A-Za-z0-9_.:-]+$/.test(v)) {
    throw new ConfigError(variable, v, 'a name of letters, digits, "_", "-", "." or ":"');
  }
  return v;
}

/** HZ_HEALTH_KEY, or the deployment's own default (Config.hzHealthKey). */
function healthKey(env: Env, hzKey: string): string {
  const base = SETTINGS.HZ_HEALTH_KEY.default;
  const key = optional(env, 'HZ_HEALTH_KEY') === undefined ? (hzKey === SETTINGS.HZ_KEY.default ? base : `${base}:${hzKey}`) : name(env, 'HZ_HEALTH_KEY');
  if (key === hzKey) throw new ConfigError('HZ_HEALTH_KEY', key, `a key other than HZ_KEY (the health entry would overwrite the latest scan)`);
  return key;
}

const HTTP_URL = /^https?:\/\/[^\s,]+$/;
/** An http(s) URL a request can be made to: `https://[x` has the shape but is no URL, and the alerts would fail at start. */
const isHttpUrl = (u: string) => HTTP_URL.test(u) && URL.canParse(u);

type EnumName = { [K in SettingName]: (typeof SETTINGS)[K] extends { values: readonly string[] } ? K : never }[SettingName];

/** One of the values declared in settings.ts, case-insensitive. */
function oneOf<N extends EnumName>(env: Env, name: N): (typeof SETTINGS)[N]['values'][number] {
  const v = raw(env, name).toLowerCase();
  const values: readonly string[] = SETTINGS[name].values;
  if (!values.includes(v)) throw new ConfigError(name, v, values.join(', '));
  return v as (typeof SETTINGS)[N]['values'][number];
}

/**
 * SCAN_BRIDGE_ENV_FILE, read before the other settings: it names the file they come from
 * (src/env-file.ts). Pure: reads only `env`.
 */
export function envFileOf(env: Env): string | undefined {
  return optional(env, 'SCAN_BRIDGE_ENV_FILE');
}

/** Resolves every setting once, failing on the first bad one with its name. Pure: reads only `env`. */
export function resolveConfig(env: Env): Config {
  const alertUrls = (optional(env, 'ALERT_WEBHOOK_URL') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const u of alertUrls) if (!isHttpUrl(u)) throw new ConfigError('ALERT_WEBHOOK_URL', u, 'comma-separated http(s) URLs');
  const pagerdutyEventsUrl = raw(env, 'PAGERDUTY_EVENTS_URL');
  if (!isHttpUrl(pagerdutyEventsUrl)) throw new ConfigError('PAGERDUTY_EVENTS_URL', pagerdutyEventsUrl, 'an http(s) URL');
  const heartbeatUrl = optional(env, 'HEARTBEAT_URL');
  if (heartbeatUrl !== undefined && !isHttpUrl(heartbeatUrl)) throw new ConfigError('HEARTBEAT_URL', heartbeatUrl, 'an http(s) URL');
  const boardUser = optional(env, 'BOARD_USER');
  const boardPassword = optional(env, 'BOARD_PASSWORD');
  if ((boardUser === undefined) !== (boardPassword === undefined)) {
    const missing = boardUser === undefined ? 'BOARD_USER' : 'BOARD_PASSWORD';
    throw new ConfigError(missing, '', 'to be set together with ' + (missing === 'BOARD_USER' ? 'BOARD_PASSWORD' : 'BOARD_USER'));
  }
  const redis = redisTarget(env);
  const hzKey = name(env, 'HZ_KEY');
  const config: Config = {
    redis,
    hzMembers: hzMembers(env),
    hzClusterName: name(env, 'HZ_CLUSTER_NAME'),
    hzMap: name(env, 'HZ_MAP'),
    hzKey,
    hzHealthKey: healthKey(env, hzKey),
    hzHistoryMap: name(env, 'HZ_HISTORY_MAP'),
    hzHistoryTtlS: int(env, 'HZ_HISTORY_TTL_S'),
    // Absolute, so file events, relative names in payloads and child processes all agree.
    arrowDir: resolve(raw(env, 'ARROW_DIR')),
    queuePrefix: queuePrefix(env, redis),
    healthIntervalMs: int(env, 'HEALTH_INTERVAL_MS'),
    dataWarningS: int(env, 'DATA_WARNING_S'),
    dataStaleS: int(env, 'DATA_STALE_S'),
    restartAttempts: int(env, 'RESTART_ATTEMPTS'),
    restartBackoffMs: int(env, 'RESTART_BACKOFF_MS'),
    boardHost: raw(env, 'BOARD_HOST'),
    boardPort: int(env, 'BOARD_PORT'),
    boardUser,
    boardPassword,
    boardReadOnly: bool(env, 'BOARD_READ_ONLY'),
    boardAllowedHosts: allowedHosts(env),
    boardLoginLimit: int(env, 'BOARD_LOGIN_LIMIT'),
    boardLoginWindowS: int(env, 'BOARD_LOGIN_WINDOW_S'),
    boardTrustProxy: trustProxy(env),
    alertWebhookUrls: alertUrls,
    alertMinStatus: oneOf(env, 'ALERT_MIN_STATUS'),
    pagerdutyRoutingKey: optional(env, 'PAGERDUTY_ROUTING_KEY'),
    pagerdutyEventsUrl,
    heartbeatUrl,
    logLevel: oneOf(env, 'LOG_LEVEL'),
    logPretty: oneOf(env, 'LOG_PRETTY'),
    bridgeHeartbeatMs: int(env, 'BRIDGE_HEARTBEAT_MS'),
    bridgeHeartbeatTtlMs: int(env, 'BRIDGE_HEARTBEAT_TTL_MS'),
    bridgeLockMs: int(env, 'BRIDGE_LOCK_MS'),
    bridgeSummaryEvery: int(env, 'BRIDGE_SUMMARY_EVERY'),
    bridgeStartGraceS: int(env, 'BRIDGE_START_GRACE_S'),
    logSummaryIntervalMs: int(env, 'LOG_SUMMARY_INTERVAL_MS'),
    stopTimeoutMs: int(env, 'STOP_TIMEOUT_MS'),
    restartConfirmMs: int(env, 'RESTART_CONFIRM_MS'),
    healthHistoryMax: int(env, 'HEALTH_HISTORY_MAX'),
    watchMode: oneOf(env, 'WATCH_MODE'),
    watchPollMs: int(env, 'WATCH_POLL_MS'),
    watchRescanMs: int(env, 'WATCH_RESCAN_MS'),
    maxClockSkewS: int(env, 'MAX_CLOCK_SKEW_S'),
    healthTimelineMax: int(env, 'HEALTH_TIMELINE_MAX'),
    decodeTimeoutMs: int(env, 'DECODE_TIMEOUT_MS'),
    decodeTimeoutMsPerMb: int(env, 'DECODE_TIMEOUT_MS_PER_MB'),
    outageReminderMs: int(env, 'OUTAGE_REMINDER_MS'),
    // Up to 4 GiB: Arrow's buffers and V8's typed arrays are sized in 32 bits here.
    maxScanBytes: int(env, 'MAX_SCAN_BYTES'),
    maxScanFileBytes: int(env, 'MAX_SCAN_FILE_BYTES'),
    envFile: envFileOf(env),
    contentWindow: int(env, 'CONTENT_WINDOW'),
    contentFrozenScans: int(env, 'CONTENT_FROZEN_SCANS'),
    contentAssetBandPct: int(env, 'CONTENT_ASSET_BAND_PCT'),
    contentSchemaCheck: bool(env, 'CONTENT_SCHEMA_CHECK'),
    contentNullSharePct: int(env, 'CONTENT_NULL_SHARE_PCT'),
  };
  if (config.contentFrozenScans === 1) {
    throw new ConfigError('CONTENT_FROZEN_SCANS', '1', '0 (off) or a number of scans from 2 to 50: one scan alone is always "the same as itself"');
  }
  if (config.dataStaleS <= config.dataWarningS) {
    throw new ConfigError('DATA_STALE_S', String(config.dataStaleS), `a number of seconds above DATA_WARNING_S (${config.dataWarningS})`);
  }
  if (config.bridgeHeartbeatTtlMs <= config.bridgeHeartbeatMs) {
    throw new ConfigError('BRIDGE_HEARTBEAT_TTL_MS', String(config.bridgeHeartbeatTtlMs), `more than BRIDGE_HEARTBEAT_MS (${config.bridgeHeartbeatMs})`);
  }
  return config;
}
