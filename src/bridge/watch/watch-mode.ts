/**
 * Which way the bridge learns of new scan files. inotify (and so `fs.watch`) reports only what
 * the local kernel writes: on a network or FUSE filesystem, files written by another machine
 * raise no event at all. `auto` therefore reads the filesystem type of `ARROW_DIR` with
 * `fs.statfs` and polls on those.
 */
import { statfs } from 'node:fs/promises';
import { coerceError } from '../../errors.js';
import type { Config } from '../../config.js';

export type WatchMode = 'events' | 'poll';

export interface WatchModeChoice {
  mode: WatchMode;
  setting: Config['watchMode'];
  /** The filesystem type of `ARROW_DIR` by name, or its magic number in hex; null when unread. */
  filesystem: string | null;
  /** One sentence: why this mode. */
  reason: string;
}

/**
 * Filesystems where another machine (or a host outside the VM) writes the files, by the
 * `f_type` magic numbers of linux/magic.h and of the filesystems' own sources. FUSE covers
 * sshfs, rclone, s3fs, gcsfuse, virtiofs (Docker Desktop) and vmhgfs; 9p covers WSL2's `/mnt/c`.
 */
export const NETWORK_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x65735546, 'fuse'],
  [0x01021997, '9p'],
  [0x00c36400, 'ceph'],
  [0x5346414f, 'afs'],
  [0x6b414653, 'kafs'],
  [0x73757245, 'coda'],
  [0x564c, 'ncp'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0x01161970, 'gfs2'],
  [0x7461636f, 'ocfs2'],
  [0xaad7aaea, 'panfs'],
  [0x786f4256, 'vboxsf'],
]);

/** Local filesystems, by name, only to say in the log which one was found. */
const LOCAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlayfs'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
]);

function fsName(type: number): string {
  const t = type >>> 0;
  return NETWORK_FILESYSTEMS.get(t) ?? LOCAL_FILESYSTEMS.get(t) ?? `0x${t.toString(16)}`;
}

/**
 * The decision, pure: `setting` wins unless it is `auto`; then `poll` on a network or FUSE
 * filesystem type, `events` otherwise (and when the type could not be read: `error`).
 */
export function decideWatchMode(setting: Config['watchMode'], fsType: number | null, error?: string): WatchModeChoice {
  const filesystem = fsType === null ? null : fsName(fsType);
  if (setting !== 'auto') {
    return { mode: setting, setting, filesystem, reason: `WATCH_MODE=${setting}` };
  }
  if (fsType === null) {
    return {
      mode: 'events',
      setting,
      filesystem,
      reason: `WATCH_MODE=auto and the filesystem type could not be read (${error ?? 'unknown'}): assuming a local disk`,
    };
  }
  if (NETWORK_FILESYSTEMS.has(fsType >>> 0)) {
    return {
      mode: 'poll',
      setting,
      filesystem,
      reason: `WATCH_MODE=auto and the scan folder is on ${filesystem}, a network or FUSE filesystem where inotify misses files written elsewhere`,
    };
  }
  return { mode: 'events', setting, filesystem, reason: `WATCH_MODE=auto and the scan folder is on ${filesystem}, a local filesystem` };
}

/** Reads the filesystem type of `dir` and decides. Never throws. */
export async function chooseWatchMode(setting: Config['watchMode'], dir: string): Promise<WatchModeChoice> {
  try {
    return decideWatchMode(setting, (await statfs(dir)).type);
  } catch (err) {
    return decideWatchMode(setting, null, coerceError(err).message);
  }
}
