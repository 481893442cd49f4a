import type { DeliveryRecord } from '../alerts/delivery-record.js';
import { duration, esc } from './status-format.js';

/** How far back a given-up alert is still worth a line on the status page. */
const SHOWN_FOR_MS = 7 * 24 * 3600 * 1000;

/**
 * The status page's line per alert destination that failed lately: failing now (nothing
 * delivered since) or failed and delivered since. Empty when every alert got through.
 */
export function alertDeliveryNotes(now: number, records: DeliveryRecord[]): string {
  const lines = records.flatMap((r) => {
    const f = r.lastFailure;
    if (f === null || now - f.at > SHOWN_FOR_MS) return [];
    const failing = f.at > (r.lastDeliveredAt ?? 0);
    const since = failing ? 'nothing delivered since' : `delivered since, ${duration(now - r.lastDeliveredAt!)} ago`;
    const what = `${failing ? 'failing' : 'failed'}: ${f.alert} was not delivered ${duration(now - f.at)} ago (${f.reason}); ${since}; ${r.failed} given up in all`;
    return [`<p class="note alert-delivery${failing ? ' failing' : ''}"><b>Alerts to ${esc(r.destination)}</b> ${esc(what)}</p>`];
  });
  return lines.length === 0 ? '' : `<section id="alert-delivery">${lines.join('')}</section>`;
}
