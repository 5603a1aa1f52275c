/**
 * A plain reference order book the flow generator runs while it generates, in integer ticks and lots.
 * It knows, at every step, which orders are live (so cancels only target live orders) and which resting
 * orders an incoming order would hit (so the generator can give the taker a different account and the
 * flow never self-trades: engine and peer then match identically whatever their self-trade rules).
 *
 * Price-time priority, fills at the maker's price, market remainders dropped: the rules both books under
 * test follow. It is not tuned for speed (generation is outside every measurement); it is kept obvious.
 */
export const BUY = 0;
export const SELL = 1;

interface Level {
  /** Order ids in arrival order; cancelled ones stay until they reach the head (lazy removal). */
  queue: number[];
  head: number;
  /** Live orders at this level. */
  count: number;
  /** Their remaining quantity. */
  qty: number;
}

export interface Depth {
  /** [tick, total lots], best first. */
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

export class RefBook {
  private readonly side: Uint8Array;
  private readonly price: Int32Array;
  private readonly remaining: Int32Array;
  private readonly owner: Int32Array;
  private readonly live: Int32Array;
  private readonly livePos: Int32Array;
  private liveCount = 0;
  private readonly levels: [Level[], Level[]];
  /** Index of the best bid (highest non-empty) and best ask (lowest non-empty); -1 / size when none. */
  private bestBid = -1;
  private bestAsk: number;

  /**
   * @param minTick lowest price a limit order may have; prices index levels from here
   * @param maxTick highest price
   * @param capacity most order ids the book will see (ids are 1..capacity)
   */
  constructor(
    private readonly minTick: number,
    maxTick: number,
    capacity: number,
  ) {
    const size = maxTick - minTick + 1;
    this.bestAsk = size;
    this.side = new Uint8Array(capacity + 1);
    this.price = new Int32Array(capacity + 1);
    this.remaining = new Int32Array(capacity + 1);
    this.owner = new Int32Array(capacity + 1);
    this.live = new Int32Array(capacity + 1);
    this.livePos = new Int32Array(capacity + 1).fill(-1);
    const mk = () => Array.from({ length: size }, (): Level => ({ queue: [], head: 0, count: 0, qty: 0 }));
    this.levels = [mk(), mk()];
  }

  get liveOrders(): number {
    return this.liveCount;
  }

  isLive(id: number): boolean {
    return this.livePos[id] >= 0;
  }

  ownerOf(id: number): number {
    return this.owner[id];
  }

  remainingOf(id: number): number {
    return this.remaining[id];
  }

  /** A uniformly chosen live order id, or 0 when the book is empty. */
  randomLive(pick: (n: number) => number): number {
    return this.liveCount === 0 ? 0 : this.live[pick(this.liveCount)];
  }

  /**
   * Adds to `accounts` the owners of the resting orders an order (side, limit, qty) would fill against,
   * without changing the book. `limitTick` null means a market order.
   */
  peekMakers(side: number, limitTick: number | null, qty: number, accounts: Set<number>): void {
    const opp = this.levels[1 - side];
    let left = qty;
    let i = side === BUY ? this.bestAsk : this.bestBid;
    while (left > 0 && this.crosses(side, i, limitTick)) {
      const level = opp[i];
      for (let k = level.head; k < level.queue.length && left > 0; k++) {
        const id = level.queue[k];
        const rem = this.remaining[id];
        if (rem === 0) continue;
        accounts.add(this.owner[id]);
        left -= Math.min(left, rem);
      }
      i = side === BUY ? this.nextAsk(i + 1) : this.nextBid(i - 1);
    }
  }

  /** Fills an incoming order against the book; returns the number of fills (maker orders touched). */
  take(
    side: number,
    limitTick: number | null,
    qty: number,
    onFill?: (makerId: number, lots: number) => void,
  ): {
    fills: number;
    filled: number;
  } {
    const opp = this.levels[1 - side];
    let left = qty;
    let fills = 0;
    while (left > 0 && this.crosses(side, side === BUY ? this.bestAsk : this.bestBid, limitTick)) {
      const i = side === BUY ? this.bestAsk : this.bestBid;
      const level = opp[i];
      while (left > 0 && level.count > 0) {
        const id = level.queue[level.head];
        const rem = this.remaining[id];
        if (rem === 0) {
          level.head++;
          continue;
        }
        const lots = Math.min(left, rem);
        left -= lots;
        fills++;
        this.remaining[id] = rem - lots;
        level.qty -= lots;
        onFill?.(id, lots);
        if (rem === lots) {
          level.head++;
          level.count--;
          this.unlive(id);
        }
      }
      if (level.count === 0) this.clearLevel(level, 1 - side, i);
    }
    return { fills, filled: qty - left };
  }

  /** Rests a (non-crossing) limit order. */
  rest(id: number, side: number, tick: number, qty: number, account: number): void {
    const i = tick - this.minTick;
    const level = this.levels[side][i];
    level.queue.push(id);
    level.count++;
    level.qty += qty;
    this.side[id] = side;
    this.price[id] = i;
    this.remaining[id] = qty;
    this.owner[id] = account;
    this.livePos[id] = this.liveCount;
    this.live[this.liveCount++] = id;
    if (side === BUY ? i > this.bestBid : i < this.bestAsk) {
      if (side === BUY) this.bestBid = i;
      else this.bestAsk = i;
    }
  }

  cancel(id: number): void {
    const side = this.side[id];
    const i = this.price[id];
    const level = this.levels[side][i];
    level.qty -= this.remaining[id];
    level.count--;
    this.remaining[id] = 0;
    this.unlive(id);
    if (level.count === 0) this.clearLevel(level, side, i);
  }

  depth(): Depth {
    const out: Depth = { bids: [], asks: [] };
    for (let i = this.bestBid; i >= 0; i--) {
      const l = this.levels[BUY][i];
      if (l.count > 0) out.bids.push([i + this.minTick, l.qty]);
    }
    const asks = this.levels[SELL];
    for (let i = this.bestAsk; i < asks.length; i++) {
      if (asks[i].count > 0) out.asks.push([i + this.minTick, asks[i].qty]);
    }
    return out;
  }

  private crosses(side: number, i: number, limitTick: number | null): boolean {
    if (side === BUY)
      return i < this.levels[SELL].length && (limitTick === null || i + this.minTick <= limitTick);
    return i >= 0 && (limitTick === null || i + this.minTick >= limitTick);
  }

  private unlive(id: number): void {
    const pos = this.livePos[id];
    const last = this.live[--this.liveCount];
    this.live[pos] = last;
    this.livePos[last] = pos;
    this.livePos[id] = -1;
  }

  private clearLevel(level: Level, side: number, i: number): void {
    level.queue = [];
    level.head = 0;
    level.qty = 0;
    if (side === BUY && i === this.bestBid) this.bestBid = this.nextBid(i - 1);
    if (side === SELL && i === this.bestAsk) this.bestAsk = this.nextAsk(i + 1);
  }

  private nextBid(from: number): number {
    const bids = this.levels[BUY];
    let i = from;
    while (i >= 0 && bids[i].count === 0) i--;
    return i;
  }

  private nextAsk(from: number): number {
    const asks = this.levels[SELL];
    let i = from;
    while (i < asks.length && asks[i].count === 0) i++;
    return i;
  }
}
