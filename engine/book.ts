/**
 * One instrument's limit order book: price levels in priority order, each a FIFO of resting orders.
 *
 * Layout, chosen for the flows exchanges see (most activity within a few ticks of the touch):
 * - each side keeps its levels in a sorted array with the BEST level LAST, so inserting or removing near
 *   the touch shifts only the few elements after it, and the best level is `levels[levels.length - 1]`;
 * - a Map from price (ticks) to level finds a level in O(1) for adds and cancels;
 * - orders on a level form an intrusive doubly linked list (Order.prev/next): cancel is O(1).
 */
import type { Side } from './enums.js';
import type { Order } from './order.js';

export class Level {
  readonly priceTicks: number;
  totalLots = 0;
  count = 0;
  head: Order | null = null;
  tail: Order | null = null;
  /** Marks this level as already listed in the current command's changed-levels list. */
  dirtySeq = 0;

  constructor(priceTicks: number) {
    this.priceTicks = priceTicks;
  }
}

export class BookSide {
  readonly side: Side;
  /** Sorted so the best price is last: bids ascending, asks descending. */
  readonly levels: Level[] = [];
  readonly byPrice = new Map<number, Level>();

  constructor(side: Side) {
    this.side = side;
  }

  best(): Level | undefined {
    const n = this.levels.length;
    return n === 0 ? undefined : this.levels[n - 1];
  }

  /** True if `a` has better priority than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.side === 'BUY' ? a > b : a < b;
  }

  /** Appends `order` at the back of its price level, creating the level if needed. */
  add(order: Order): Level {
    let level = this.byPrice.get(order.priceTicks);
    if (level === undefined) {
      level = new Level(order.priceTicks);
      this.byPrice.set(order.priceTicks, level);
      this.insertLevel(level);
    }
    order.level = level;
    order.prev = level.tail;
    order.next = null;
    if (level.tail === null) level.head = order;
    else level.tail.next = order;
    level.tail = order;
    level.totalLots += order.remainingLots;
    level.count++;
    return level;
  }

  /** Unlinks a resting order; drops its level when empty. Returns the level it was on. */
  remove(order: Order): Level {
    const level = order.level!;
    if (order.prev === null) level.head = order.next;
    else order.prev.next = order.next;
    if (order.next === null) level.tail = order.prev;
    else order.next.prev = order.prev;
    level.totalLots -= order.remainingLots;
    level.count--;
    order.prev = order.next = null;
    order.level = null;
    if (level.count === 0) this.dropLevel(level);
    return level;
  }

  /** Drops an empty level. */
  dropLevel(level: Level): void {
    this.byPrice.delete(level.priceTicks);
    const levels = this.levels;
    const n = levels.length;
    // Most removals are at or near the touch: look from the end first.
    if (levels[n - 1] === level) {
      levels.pop();
      return;
    }
    const i = this.indexOf(level.priceTicks);
    levels.splice(i, 1);
  }

  private insertLevel(level: Level): void {
    const levels = this.levels;
    const n = levels.length;
    const p = level.priceTicks;
    if (n === 0 || this.better(p, levels[n - 1].priceTicks)) {
      levels.push(level);
      return;
    }
    // First index whose level is better than p: p goes just before it.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(levels[mid].priceTicks, p)) hi = mid;
      else lo = mid + 1;
    }
    levels.splice(lo, 0, level);
  }

  private indexOf(priceTicks: number): number {
    const levels = this.levels;
    let lo = 0;
    let hi = levels.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const q = levels[mid].priceTicks;
      if (q === priceTicks) return mid;
      if (this.better(q, priceTicks)) hi = mid - 1;
      else lo = mid + 1;
    }
    throw new Error(`level ${priceTicks} not found`);
  }
}

export class OrderBook {
  readonly bids = new BookSide('BUY');
  readonly asks = new BookSide('SELL');

  sideOf(side: Side): BookSide {
    return side === 'BUY' ? this.bids : this.asks;
  }

  /** The side an order of `side` trades against. */
  opposite(side: Side): BookSide {
    return side === 'BUY' ? this.asks : this.bids;
  }
}
