/**
 * The decode pool's queue: newest scan first, by its file's place in the scan order (first come
 * among equals). In a backlog, a burst whose events were lost, or beside the start-up catch-up,
 * the scan that becomes the latest value then does not wait behind older ones, which only go to
 * history.
 */
import { compareScans, type ScanOrderKey } from '../guards/scan-order.js';

export class NewestFirst<T> {
  private readonly items: Array<{ item: T; order: ScanOrderKey }> = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T, order: ScanOrderKey): void {
    const q = this.items;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareScans(q[mid]!.order, order) >= 0) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, { item, order });
  }

  /** The newest, left in the queue. */
  peek(): T | undefined {
    return this.items[0]?.item;
  }

  /** The newest, taken out. */
  take(): T | undefined {
    return this.items.shift()?.item;
  }

  /** Everything, taken out. */
  drain(): T[] {
    return this.items.splice(0).map((e) => e.item);
  }
}
