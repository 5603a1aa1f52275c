/**
 * Live orders by id. Ids are dense and increasing (the engine's counter), so most live orders sit in pages
 * of a direct-mapped table: a lookup is two indexed loads, where a Map of a few hundred thousand entries
 * costs a hash and two or three cache misses, and rehashes the whole table as it grows and shrinks.
 *
 * A page is released when its last order leaves. So that a few long-lived orders cannot pin a page each
 * (8 KiB apiece), a page that drops to SPARSE live orders, once newer pages exist, moves its survivors to
 * an overflow Map and is released: memory stays bounded by the live orders, as with a Map.
 */
import type { Order } from './order.js';

const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;
/** A page with this many live orders or fewer, not the newest, is folded into the overflow Map. */
const SPARSE = PAGE_SIZE >> 6;

type Page = Array<Order | undefined>;

export class OrderDirectory {
  private readonly pages: Array<Page | undefined> = [];
  /** Live orders per page (index as in `pages`). */
  private readonly counts: number[] = [];
  /** Orders whose page was folded (sparse) or whose id is not a small positive integer. */
  private readonly overflow = new Map<number, Order>();
  private newestPage = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): Order | undefined {
    const page = this.pages[id >>> PAGE_BITS];
    if (page !== undefined) {
      const o = page[id & PAGE_MASK];
      // The id check rejects ids beyond 2^32, whose shifted page index wraps around.
      if (o !== undefined && o.id === id) return o;
    }
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Adds an order under its id (the caller guarantees it is not present). */
  set(id: number, order: Order): this {
    const p = id >>> PAGE_BITS;
    // Ids far behind the newest page go straight to the overflow (a snapshot may restore old survivors).
    if (id !== (id | 0) || id <= 0 || p + 1 < this.newestPage) {
      this.overflow.set(id, order);
      this.count++;
      return this;
    }
    let page = this.pages[p];
    if (page === undefined) {
      page = new Array<Order | undefined>(PAGE_SIZE).fill(undefined);
      while (this.counts.length <= p) this.counts.push(0);
      this.pages[p] = page;
      if (p > this.newestPage) this.newestPage = p;
    }
    page[id & PAGE_MASK] = order;
    this.counts[p]++;
    this.count++;
    return this;
  }

  delete(id: number): boolean {
    const p = id >>> PAGE_BITS;
    const page = this.pages[p];
    if (page !== undefined && page[id & PAGE_MASK]?.id === id) {
      page[id & PAGE_MASK] = undefined;
      this.count--;
      const left = --this.counts[p];
      if (left === 0) this.pages[p] = undefined;
      else if (left <= SPARSE && p + 1 < this.newestPage) this.fold(p, page);
      return true;
    }
    if (this.overflow.delete(id)) {
      this.count--;
      return true;
    }
    return false;
  }

  /** Every live order, by id. */
  values(): Order[] {
    const result: Order[] = [...this.overflow.values()];
    for (const page of this.pages) {
      if (page === undefined) continue;
      for (const o of page) if (o !== undefined) result.push(o);
    }
    return result.sort((a, b) => a.id - b.id);
  }

  /** Every live order's id, ascending. */
  keys(): number[] {
    return this.values().map((o) => o.id);
  }

  private fold(p: number, page: Page): void {
    for (const o of page) if (o !== undefined) this.overflow.set(o.id, o);
    this.pages[p] = undefined;
    this.counts[p] = 0;
  }
}
