/**
 * A client-side L2 book kept from a snapshot and deltas (prices as exact decimal strings), best first.
 *
 * With a depth, the server's snapshot holds only the best `depth` levels of each side, while deltas come for
 * every level. A side whose snapshot was full may have levels behind its last one (the horizon) that this
 * book never saw, so it keeps only the levels at or inside the horizon, which it knows exactly, and says
 * when fewer than `depth` are left (`complete()` false): its best levels might then be missing one, and the
 * client takes a fresh snapshot.
 */
import type { Decimal } from '../../engine/commands.js';
import type { Side } from '../../engine/enums.js';
import { BookLevels } from '../protocol/book-levels.js';
import { bookChecksum, CHECKSUM_LEVELS } from '../protocol/checksum.js';
import type { Level } from '../protocol/types.js';

export class LocalBook {
  readonly bids = new BookLevels(true);
  readonly asks = new BookLevels(false);
  seq = 0;
  engineSeq = 0;
  /** The worst price of a side whose snapshot was cut at `depth`; null: the whole side is known. */
  private bidHorizon: Decimal | null = null;
  private askHorizon: Decimal | null = null;

  constructor(
    readonly symbol: string,
    /**
     * The depth the book is subscribed with; undefined: the whole book. The client widens it when another
     * subscription to the symbol asks for more (a fresh snapshot follows).
     */
    public depth?: number,
  ) {}

  reset(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of bids) this.bids.set(p, q);
    for (const [p, q] of asks) this.asks.set(p, q);
    this.bidHorizon = this.horizonOf(bids, this.bids);
    this.askHorizon = this.horizonOf(asks, this.asks);
    this.seq = seq;
    this.engineSeq = engineSeq;
  }

  apply(bids: Level[], asks: Level[], seq: number, engineSeq: number): void {
    for (const [p, q] of bids) {
      // Bids behind the horizon (lower) are levels this book only partly knows: not kept.
      if (this.bidHorizon === null || !this.bids.worse(p, this.bidHorizon)) this.bids.set(p, q);
    }
    for (const [p, q] of asks) {
      if (this.askHorizon === null || !this.asks.worse(p, this.askHorizon)) this.asks.set(p, q);
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

  /**
   * Whether this book knows the levels the server's checksum covers: subscribed without a depth, or with one
   * of at least CHECKSUM_LEVELS, and complete.
   */
  verifiable(): boolean {
    return (this.depth === undefined || this.depth >= CHECKSUM_LEVELS) && this.complete();
  }

  /** The checksum of this book's best levels (src/protocol/checksum.ts), to compare with a message's. */
  checksum(): number {
    return bookChecksum(this.bids.top(CHECKSUM_LEVELS), this.asks.top(CHECKSUM_LEVELS));
  }

  /** Levels best first. */
  levels(side: Side, depth = Number.MAX_SAFE_INTEGER): Level[] {
    return (side === 'BUY' ? this.bids : this.asks).top(depth);
  }

  best(side: Side): Decimal | undefined {
    return (side === 'BUY' ? this.bids : this.asks).best() ?? undefined;
  }

  /** A snapshot side with `depth` levels or more was cut there: its worst price is the horizon. */
  private horizonOf(levels: Level[], side: BookLevels): Decimal | null {
    if (this.depth === undefined || levels.length < this.depth || levels.length === 0) return null;
    // The side holds exactly the snapshot's levels now: its worst is the horizon.
    return side.worst();
  }
}
