/** `scan-bridge quarantine [list|release PATH] [--json]`: the files every bridge skips after they broke a decoding limit. */
import type { Config } from '../config.js';
import { connectRedisOnce } from '../connections.js';
import { quarantineField, readQuarantine, releaseQuarantine } from '../bridge/guards/quarantine.js';

type Ctx = { config: Config; values: Record<string, unknown>; positionals: string[] };

export async function quarantineCommand({ config, values, positionals }: Ctx): Promise<number> {
  const [action = 'list', path, ...extra] = positionals;
  if (!['list', 'release'].includes(action) || (action === 'release') !== (path !== undefined) || extra.length > 0) {
    console.error('usage: scan-bridge quarantine [list|release PATH] [--json]');
    return 64;
  }
  const redis = await connectRedisOnce(config);
  try {
    if (action === 'release') {
      const field = quarantineField(config.arrowDir, path!);
      const released = await releaseQuarantine(redis, config.queuePrefix, field);
      if (values.json) console.log(JSON.stringify({ released, relPath: field }));
      else console.log(released ? `released ${field}: a running bridge reads it again within seconds` : `${field} is not quarantined`);
      return released ? 0 : 1;
    }
    const entries = await readQuarantine(redis, config.queuePrefix);
    if (values.json) console.log(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) console.log('no file is quarantined');
    else
      for (const e of entries)
        console.log(
          `${e.relPath}  ${e.size} bytes, mtime ${new Date(e.mtimeMs).toISOString()}, quarantined ${new Date(e.at).toISOString()} by ${e.bridgeId}: ${e.reason}`,
        );
    return 0;
  } finally {
    redis.disconnect();
  }
}
