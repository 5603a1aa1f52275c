/**
 * A client-side L2 book kept from a snapshot and deltas (prices as exact decimal strings).
 *
 * With a depth, the server's snapshot holds only the best `depth` levels of each side, while deltas come for
 * every level. A side whose snapshot was full may have levels behind its last one (the horizon) that this
 * book never saw, so it keeps only the levels at or inside the horizon, which it knows exactly, and says
 * when fewer than `depth` are left (`complete()` false): its best levels might then be missing one, and the
 * client takes a fresh snapshot.
 */
import type { Decimal } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import { parseUnits } from '../../engine/numeric.js';
import type { Level } from '../protocol/types.js';

export class LocalBook {
  readonly bids = new Map<Decimal, Decimal>();
  readonly asks = new Map<Decimal, Decimal>();
  seq = 0;
  engineSeq = 0;
  /** The worst price of a side whose snapshot was cut at `depth` (units); null: the whole side is known. */
  private bidHorizon: bigint | null = null;
  private askHorizon: bigint | null = null;

  constructor(
    readonly symbol: string,
    /** The depth the book was subscribed with; undefined: the whole book. */
    readonly depth?: number,
  ) {}

  reset(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of bids) this.bids.set(p, q);
    for (const [p, q] of asks) this.asks.set(p, q);
    this.bidHorizon = this.horizonOf(bids, 'BUY');
    this.askHorizon = this.horizonOf(asks, 'SELL');
    this.seq = seq;
    this.engineSeq = engineSeq;
  }

  apply(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    for (const [p, q] of bids) {
      // Bids behind the horizon (lower) are levels this book only partly knows: not kept.
      if (this.bidHorizon !== null && parseUnits(p)! < this.bidHorizon) continue;
      q === '0' ? this.bids.delete(p) : this.bids.set(p, q);
    }
    for (const [p, q] of asks) {
      if (this.askHorizon !== null && parseUnits(p)! > this.askHorizon) continue;
      q === '0' ? this.asks.delete(p) : this.asks.set(p, q);
    }
    this.seq = seq;
    this.engineSeq = engineSeq;
  }

  /**
   * False when a side cut at `depth` has fewer than `depth` levels left inside its horizon: a level the
   * server holds behind it may now be among the best `depth`, and only a new snapshot can say.
   */
  complete(): boolean {
    const d = this.depth;
    if (d === undefined) return true;
    return (
      (this.bidHorizon === null || this.bids.size >= d) && (this.askHorizon === null || this.asks.size >= d)
    );
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

  /** A snapshot side with `depth` levels or more was cut there: its worst price is the horizon. */
  private horizonOf(levels: Level[], side: Side): bigint | null {
    if (this.depth === undefined || levels.length < this.depth || levels.length === 0) return null;
    let worst = parseUnits(levels[0]![0])!;
    for (const [p] of levels) {
      const u = parseUnits(p)!;
      if (side === 'BUY' ? u < worst : u > worst) worst = u;
    }
    return worst;
  }
}
