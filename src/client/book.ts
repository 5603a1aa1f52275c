/** A client-side L2 book kept from a snapshot and deltas (prices as exact decimal strings). */
import type { Decimal } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import { parseUnits } from '../../engine/numeric.js';
import type { Level } from '../protocol/types.js';

export class LocalBook {
  readonly bids = new Map<Decimal, Decimal>();
  readonly asks = new Map<Decimal, Decimal>();
  seq = 0;
  engineSeq = 0;

  constructor(readonly symbol: string) {}

  reset(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of bids) this.bids.set(p, q);
    for (const [p, q] of asks) this.asks.set(p, q);
    this.seq = seq;
    this.engineSeq = engineSeq;
  }

  apply(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    for (const [p, q] of bids) q === '0' ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of asks) q === '0' ? this.asks.delete(p) : this.asks.set(p, q);
    this.seq = seq;
    this.engineSeq = engineSeq;
  }

  /** Levels best first. */
  levels(side: Side, depth = Number.MAX_SAFE_INTEGER): Level[] {
    const map = side === 'BUY' ? this.bids : this.asks;
    const rows = [...map].map(([p, q]) => ({ u: parseUnits(p)!, l: [p, q] as Level }));
    rows.sort((a, b) => {
      const c = a.u < b.u ? -1 : a.u > b.u ? 1 : 0;
      return side === 'BUY' ? -c : c;
    });
    return rows.slice(0, depth).map((r) => r.l);
  }

  best(side: Side): Decimal | undefined {
    return this.levels(side, 1)[0]?.[0];
  }
}
