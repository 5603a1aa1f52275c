/**
 * Stop and stop-limit orders waiting for their trigger, per instrument.
 *
 * A buy stop triggers when the last trade price rises to or above its stop price; a sell stop when it
 * falls to or below. Each side is an array sorted so the next stop to trigger is LAST (pop is O(1)):
 * buy stops by descending stop price, sell stops by ascending stop price, ties broken so the older order
 * (lower id) is nearer the end.
 */
import type { Order } from './order.js';

export class StopBook {
  /** Sorted by (stopTicks desc, id desc): the lowest stop, then the oldest, is last. */
  readonly buys: Order[] = [];
  /** Sorted by (stopTicks asc, id desc): the highest stop, then the oldest, is last. */
  readonly sells: Order[] = [];

  get size(): number {
    return this.buys.length + this.sells.length;
  }

  add(order: Order): void {
    const arr = order.side === 'BUY' ? this.buys : this.sells;
    const i = this.insertionIndex(arr, order);
    if (i === arr.length) arr.push(order);
    else arr.splice(i, 0, order);
  }

  remove(order: Order): void {
    const arr = order.side === 'BUY' ? this.buys : this.sells;
    const i = arr.indexOf(order);
    if (i >= 0) arr.splice(i, 1);
  }

  /** Removes and returns every stop that `lastTicks` triggers, oldest first (lowest id). */
  takeTriggered(lastTicks: number): Order[] {
    const out: Order[] = [];
    const buys = this.buys;
    while (buys.length > 0 && buys[buys.length - 1].stopTicks <= lastTicks) out.push(buys.pop()!);
    const sells = this.sells;
    while (sells.length > 0 && sells[sells.length - 1].stopTicks >= lastTicks) out.push(sells.pop()!);
    if (out.length > 1) out.sort((a, b) => a.id - b.id);
    return out;
  }

  /** Sort key comparison: negative if `a` sorts before `b` in its side's array. */
  private before(a: Order, b: Order): boolean {
    if (a.stopTicks !== b.stopTicks) {
      return a.side === 'BUY' ? a.stopTicks > b.stopTicks : a.stopTicks < b.stopTicks;
    }
    return a.id > b.id;
  }

  private insertionIndex(arr: Order[], order: Order): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(arr[mid], order)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
