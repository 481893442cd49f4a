import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { chooseWatchMode, decideWatchMode } from '../src/bridge/watch/watch-mode.js';
import { tempDir } from './helpers.js';

// f_type values as the Linux kernel reports them (linux/magic.h and the filesystems' sources).
const NETWORK = {
  nfs: 0x6969,
  smb: 0x517b,
  cifs: 0xff534d42,
  smb2: 0xfe534d42,
  fuse: 0x65735546,
  '9p': 0x01021997,
  ceph: 0x00c36400,
  afs: 0x5346414f,
  lustre: 0x0bd00bd0,
  gpfs: 0x47504653,
  vboxsf: 0x786f4256,
};
const LOCAL = { ext4: 0xef53, overlayfs: 0x794c7630, tmpfs: 0x01021994, xfs: 0x58465342 };

describe('WATCH_MODE=auto: the decision from the statfs type', () => {
  it.each(Object.entries(NETWORK))('polls on %s', (name, type) => {
    const c = decideWatchMode('auto', type);
    expect(c).toMatchObject({ mode: 'poll', filesystem: name });
    expect(c.reason).toContain(name);
  });

  it.each(Object.entries(LOCAL))('uses inotify events on %s', (name, type) => {
    expect(decideWatchMode('auto', type)).toMatchObject({ mode: 'events', filesystem: name });
  });

  it('reads a type given as a negative 32-bit number the same way (CIFS)', () => {
    expect(decideWatchMode('auto', 0xff534d42 | 0)).toMatchObject({ mode: 'poll', filesystem: 'cifs' });
  });

  it('uses events on an unknown type and when the type cannot be read, and says so', () => {
    expect(decideWatchMode('auto', 0x12345678)).toMatchObject({ mode: 'events', filesystem: '0x12345678' });
    const c = decideWatchMode('auto', null, 'EACCES');
    expect(c).toMatchObject({ mode: 'events', filesystem: null });
    expect(c.reason).toContain('EACCES');
  });

  it('obeys an explicit setting whatever the filesystem', () => {
    expect(decideWatchMode('events', NETWORK.nfs)).toMatchObject({ mode: 'events', reason: 'WATCH_MODE=events' });
    expect(decideWatchMode('poll', LOCAL.ext4)).toMatchObject({ mode: 'poll', reason: 'WATCH_MODE=poll' });
  });

  it('reads the real filesystem of a folder with fs.statfs', async () => {
    const dir = tempDir('watch-mode-');
    const c = await chooseWatchMode('auto', dir);
    // The test folder is on a local disk here; whichever, the reason names it.
    expect(c.filesystem).not.toBeNull();
    expect(c.reason).toContain(c.filesystem!);
    expect((await chooseWatchMode('auto', join(dir, 'missing'))).mode).toBe('events');
  });
});
