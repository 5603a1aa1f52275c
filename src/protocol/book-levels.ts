/**
 * One side of an L2 book as the protocol carries it: price -> quantity, both exact decimal strings, kept
 * sorted best first so the best level, the top N and a snapshot are slices rather than sorts. Shared by the
 * gateway's book mirror and the typed client's LocalBook, so both order levels, and so checksum them, the
 * same way.
 */
import type { Level } from './types.js';

/**
 * Compares two canonical positive decimal strings ("99.5", "100", "0.00000001": no sign, no exponent, no
 * leading zeros, no trailing fractional zeros, as the engine writes them) by value, without parsing: a
 * longer integer part is larger; with equal integer parts the strings compare character by character.
 */
export function comparePrices(a: string, b: string): number {
  const ad = a.indexOf('.');
  const bd = b.indexOf('.');
  const al = ad < 0 ? a.length : ad;
  const bl = bd < 0 ? b.length : bd;
  if (al !== bl) return al - bl;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class BookLevels {
  private readonly qty = new Map<string, string>();
  /** Prices best first: descending for bids, ascending for asks. */
  private readonly prices: string[] = [];

  constructor(readonly bids: boolean) {}

  get size(): number {
    return this.prices.length;
  }

  /**
   * Sets a level's quantity ("0" removes it). Returns the level's rank (0 = best) before the change, or
   * where it went in; -1 when nothing changed (a removal of an unknown level).
   */
  set(price: string, quantity: string): number {
    if (quantity === '0') {
      if (!this.qty.delete(price)) return -1;
      const i = this.rank(price);
      this.prices.splice(i, 1);
      return i;
    }
    const known = this.qty.has(price);
    this.qty.set(price, quantity);
    const i = this.rank(price);
    if (!known) this.prices.splice(i, 0, price);
    return i;
  }

  get(price: string): string | undefined {
    return this.qty.get(price);
  }

  has(price: string): boolean {
    return this.qty.has(price);
  }

  clear(): void {
    this.qty.clear();
    this.prices.length = 0;
  }

  best(): string | null {
    return this.prices.length > 0 ? this.prices[0]! : null;
  }

  worst(): string | null {
    return this.prices.length > 0 ? this.prices[this.prices.length - 1]! : null;
  }

  /** The best `depth` levels, best first. */
  top(depth: number): Level[] {
    const n = Math.min(depth, this.prices.length);
    const out: Level[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = this.prices[i]!;
      out[i] = [p, this.qty.get(p)!];
    }
    return out;
  }

  /** Whether `a` is a worse price than `b` on this side. */
  worse(a: string, b: string): boolean {
    const c = comparePrices(a, b);
    return this.bids ? c < 0 : c > 0;
  }

  /** The index of `price` in `prices`, or where it would go (binary search). */
  private rank(price: string): number {
    const prices = this.prices;
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePrices(prices[mid]!, price);
      // Best first: for bids a higher price comes earlier.
      if (this.bids ? c > 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
