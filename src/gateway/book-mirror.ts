/**
 * The public L2 book as clients have been told it: built only from released `book` events, so a snapshot
 * served from here is never ahead of output commit, and the next released delta applies cleanly to it.
 * Seeded from the engine at start (after recovery, when nothing is unreleased).
 */

import type { EngineApi } from '../../engine/api.js';
import type { Decimal } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import { BookLevels } from '../protocol/book-levels.js';
import { bookChecksum, CHECKSUM_LEVELS } from '../protocol/checksum.js';
import type { Level } from '../protocol/types.js';

export class BookMirror {
  readonly bids = new BookLevels(true);
  readonly asks = new BookLevels(false);
  /** Delta seq of the book channel: +1 per released command that changed this book. */
  seq = 0;
  tradeSeq = 0;
  tickerSeq = 0;
  lastPrice: Decimal | null = null;
  markPrice: Decimal | null = null;
  /** The ticker content last sent, so an unchanged ticker is not resent. */
  lastTicker = '';
  /** The checksum of the top levels; recomputed only after a change among them (null: stale). */
  private sum: number | null = null;

  constructor(readonly symbol: string) {}

  static seed(engine: EngineApi, symbol: string): BookMirror {
    const m = new BookMirror(symbol);
    const snap = engine.book(symbol, Number.MAX_SAFE_INTEGER);
    if (snap !== undefined) {
      for (const l of snap.bids) m.bids.set(l.price, l.quantity);
      for (const l of snap.asks) m.asks.set(l.price, l.quantity);
    }
    m.lastPrice = engine.lastTradePrice(symbol) ?? null;
    return m;
  }

  apply(side: Side, price: Decimal, quantity: Decimal): void {
    const rank = (side === 'BUY' ? this.bids : this.asks).set(price, quantity);
    // A change behind the top levels leaves the checksum as it was.
    if (rank >= 0 && rank < CHECKSUM_LEVELS) this.sum = null;
  }

  /** Levels best first; `depth` per side. */
  levels(side: Side, depth: number): Level[] {
    return (side === 'BUY' ? this.bids : this.asks).top(depth);
  }

  best(side: Side): Decimal | null {
    return (side === 'BUY' ? this.bids : this.asks).best();
  }

  /** The book checksum (src/protocol/checksum.ts) of the book as it stands. */
  checksum(): number {
    if (this.sum === null)
      this.sum = bookChecksum(this.bids.top(CHECKSUM_LEVELS), this.asks.top(CHECKSUM_LEVELS));
    return this.sum;
  }
}
