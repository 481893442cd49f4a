/** The per-scan CPU cost of the bridge's pure steps, in this process (evidence for the bottleneck notes). */
import { registerCompression } from '../../src/bridge/arrow/compression.js';
import { readScanText } from '../../src/bridge/arrow/fast-decoder.js';
import { buildPayload } from '../../src/bridge/hazelcast/payload.js';
import { readScan, type Scan } from '../../src/bridge/arrow/reference-decoder.js';
import { encodeScan, makeScan } from '../../src/demo/scan-writer.js';
import { mono } from './harness.js';
import { P } from './settings.js';

export function microCosts() {
  registerCompression();
  const rows = Array.from({ length: 50 }, (_, i) => makeScan({ scanNumber: 100 + i, time: new Date(), assets: P.assets }));
  const bytes = rows.map((r) => encodeScan(r));
  const scans: Scan[] = [];
  for (let k = 0; k < 3; k++) for (const b of bytes) readScan(b, { relPath: 'warm' });
  let t = mono();
  const rounds = 10;
  for (let k = 0; k < rounds; k++) {
    for (const b of bytes) {
      const r = readScan(b, { relPath: '2026-01-01/scan_000100_000000.arrow' });
      if (r.kind === 'ok' && k === 0) scans.push(r.scan);
    }
  }
  const readMs = (mono() - t) / (rounds * bytes.length);
  for (const b of bytes) readScanText(b, { relPath: 'warm' });
  t = mono();
  for (let k = 0; k < rounds; k++) {
    for (const b of bytes) {
      const r = readScanText(b, { relPath: '2026-01-01/scan_000100_000000.arrow' });
      if (r.kind !== 'ok' || r.decoder !== 'fast') throw new Error('a canonical scan was not read by the fast decoder');
    }
  }
  const textMs = (mono() - t) / (rounds * bytes.length);
  let chars = 0;
  for (const s of scans) buildPayload(s, { sourceFile: 'a', bridgeId: 'b', writtenAtMs: 0 });
  t = mono();
  for (let k = 0; k < rounds; k++)
    for (const s of scans) chars = buildPayload(s, { sourceFile: '2026-01-01/scan_000100_000000.arrow', bridgeId: 'host:1', writtenAtMs: Date.now() }).length;
  const payloadMs = (mono() - t) / (rounds * scans.length);
  return {
    file_bytes: bytes[0]!.length,
    payload_chars: chars,
    read_scan_ms: Math.round(readMs * 1000) / 1000,
    read_scan_text_ms: Math.round(textMs * 1000) / 1000,
    build_payload_ms: Math.round(payloadMs * 1000) / 1000,
  };
}
