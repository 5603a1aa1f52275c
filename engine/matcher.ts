/**
 * Price-time matching of one incoming (taker) order against one book.
 *
 * Rules, in the order they apply:
 * - fills happen at the resting (maker) order's price, best level first, oldest order first in a level;
 * - a limit order trades only at prices at or better than its limit; a market order at any price;
 * - self-trade prevention, mode "expire taker": when the next maker in priority belongs to the taker's own
 *   account, matching stops and the taker's remainder is cancelled (SELF_TRADE_PREVENTED). Fills already
 *   made stand; the resting order is untouched;
 * - FOK is checked before any fill: the liquidity the taker could reach (up to its limit and up to the first
 *   order of its own account, where STP would stop it) must cover its whole quantity, or it is refused.
 */
import type { BookSide, Level, OrderBook } from './book.js';
import { F_MAY_BE_UNBACKED, type Order } from './order.js';

/** What the matcher reports per fill, and per level it changed. */
export interface MatchSink {
  onFill(taker: Order, maker: Order, priceTicks: number, lots: number): void;
  /** The maker left the book (filled). */
  onMakerDone(maker: Order): void;
  /** Lots of a maker its account's position no longer backs (0 for most), checked before it fills. */
  unbackedLots(maker: Order): number;
  /** Whether a maker's size is a promise of its position (reduce-only, or a cash account's sell). */
  promises(maker: Order): boolean;
  /** The matcher took `lots` of the maker off the book as unbacked (all of them: it left the book). */
  onMakerClipped(maker: Order, lots: number, all: boolean): void;
  onLevelChanged(side: BookSide, level: Level): void;
}

/** Whether a taker at `limitTicks` (0 = market) may trade at `levelTicks`. */
export function crosses(taker: Order, levelTicks: number): boolean {
  if (taker.priceTicks === 0) return true;
  return taker.side === 'BUY' ? levelTicks <= taker.priceTicks : levelTicks >= taker.priceTicks;
}

/** True if the order would take liquidity if it arrived now. */
export function wouldTake(book: OrderBook, order: Order): boolean {
  const best = book.opposite(order.side).best();
  return best !== undefined && crosses(order, best.priceTicks);
}

/**
 * Lots available to `taker` before its limit or its own first resting order, capped at `need` (the FOK check).
 * A maker whose size its position promises counts only its backed part, and nothing when an earlier maker of
 * the same account stands before it (that fill may shrink the position backing it): an FOK is refused rather
 * than filled in part.
 */
export function reachableLots(book: OrderBook, taker: Order, need: number, sink: MatchSink): number {
  const levels = book.opposite(taker.side).levels;
  let sum = 0;
  let seen: Set<number> | null = null;
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i];
    if (!crosses(taker, level.priceTicks)) break;
    for (let o = level.head; o !== null; o = o.next) {
      if (o.accountId === taker.accountId) return sum;
      let lots = o.remainingLots;
      if ((o.flags & F_MAY_BE_UNBACKED) !== 0 && sink.promises(o)) {
        lots = seen?.has(o.accountId) ? 0 : lots - sink.unbackedLots(o);
      }
      if (seen === null) seen = new Set();
      seen.add(o.accountId);
      sum += lots;
      if (sum >= need) return sum;
    }
  }
  return sum;
}

/**
 * Matches `taker` against the book until it is filled, no level crosses, or STP stops it.
 * Returns true if STP stopped it.
 */
export function match(book: OrderBook, taker: Order, sink: MatchSink): boolean {
  const opp = book.opposite(taker.side);
  let level = opp.best();
  while (level !== undefined && taker.remainingLots > 0) {
    const price = level.priceTicks;
    if (!crosses(taker, price)) return false;
    const lotsBefore = level.totalLots;
    let maker = level.head;
    while (maker !== null && taker.remainingLots > 0) {
      if (maker.accountId === taker.accountId) {
        // Report the level only if this taker filled something on it.
        if (level.totalLots !== lotsBefore) sink.onLevelChanged(opp, level);
        return true;
      }
      if ((maker.flags & F_MAY_BE_UNBACKED) !== 0) {
        // A reduce-only maker (or a cash account's sell) whose position an earlier fill of this same sweep
        // shrank: clipped first, so it never fills what the position no longer backs (engine/risk/reclip.ts).
        const cut = sink.unbackedLots(maker);
        if (cut > 0) {
          if (cut >= maker.remainingLots) {
            const next = maker.next;
            opp.remove(maker); // may drop the level when it empties
            sink.onMakerClipped(maker, cut, true);
            maker = next;
            continue;
          }
          level.totalLots -= cut;
          sink.onMakerClipped(maker, cut, false);
        }
      }
      const lots = Math.min(maker.remainingLots, taker.remainingLots);
      level.totalLots -= lots;
      maker.fill(lots, price);
      taker.fill(lots, price);
      sink.onFill(taker, maker, price, lots);
      const next = maker.next;
      if (maker.remainingLots === 0) {
        opp.remove(maker); // may drop the level when it empties
        sink.onMakerDone(maker);
      }
      maker = next;
    }
    sink.onLevelChanged(opp, level);
    level = opp.best();
  }
  return false;
}
