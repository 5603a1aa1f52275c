/**
 * The public L2 book as clients have been told it: built only from released `book` events, so a snapshot
 * served from here is never ahead of output commit, and the next released delta applies cleanly to it.
 * Seeded from the engine at start (after recovery, when nothing is unreleased).
 */

import type { EngineApi } from '../../engine/api.js';
import type { Decimal } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import { parseUnits } from '../../engine/numeric.js';
import type { Level } from '../protocol/types.js';

export class BookMirror {
  readonly bids = new Map<Decimal, Decimal>();
  readonly asks = new Map<Decimal, Decimal>();
  /** Delta seq of the book channel: +1 per released command that changed this book. */
  seq = 0;
  tradeSeq = 0;
  tickerSeq = 0;
  lastPrice: Decimal | null = null;
  markPrice: Decimal | null = null;
  /** The ticker content last sent, so an unchanged ticker is not resent. */
  lastTicker = '';

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
    const levels = side === 'BUY' ? this.bids : this.asks;
    if (quantity === '0') levels.delete(price);
    else levels.set(price, quantity);
  }

  /** Levels best first; `depth` per side. */
  levels(side: Side, depth: number): Level[] {
    const map = side === 'BUY' ? this.bids : this.asks;
    const rows: { u: bigint; l: Level }[] = [];
    for (const [p, q] of map) rows.push({ u: parseUnits(p)!, l: [p, q] });
    if (side === 'BUY') rows.sort((a, b) => (a.u > b.u ? -1 : a.u < b.u ? 1 : 0));
    else rows.sort((a, b) => (a.u < b.u ? -1 : a.u > b.u ? 1 : 0));
    const n = Math.min(depth, rows.length);
    const out: Level[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = rows[i]!.l;
    return out;
  }

  best(side: Side): Decimal | null {
    const map = side === 'BUY' ? this.bids : this.asks;
    let best: bigint | null = null;
    let bestStr: Decimal | null = null;
    for (const p of map.keys()) {
      const u = parseUnits(p)!;
      if (best === null || (side === 'BUY' ? u > best : u < best)) {
        best = u;
        bestStr = p;
      }
    }
    return bestStr;
  }
}
