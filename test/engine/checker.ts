/**
 * An independent checker of the matching engine's invariants, fed one command and its events at a time.
 *
 * It keeps its own model of the book: for every price level, the queue of resting order ids in the order
 * they should fill, built only from the commands and events (never read back from the engine), and checks
 * after every command that:
 * - events carry the command's seq/ts and come in the documented order (happenings, orders, book levels);
 * - every order event has filled + remaining + cancelled = quantity, a status consistent with those, an
 *   averagePrice (half-even) and filledNotional that match the trades of that order;
 * - every trade is at the maker's price, crosses the taker's limit, is between two accounts, has a maker at
 *   the best price and at the head of its level's queue (price-time priority), and no post-only order takes;
 * - FOK orders fill all or nothing; IOC, FOK, market and stop-market orders never rest;
 * - the engine's book equals the model (same orders in the same queue order, same totals): so amends keep
 *   priority exactly when they are pure decreases, and lose it otherwise;
 * - the book is never crossed; no pending stop is left that the last trade price triggers;
 * - L2 events, applied in order, reproduce the engine's book() snapshot, with one event per level per command;
 * - live orders, as the engine reports them, are exactly the model's, with equal states; client order ids
 *   are unique per account among them; no DAY order outlives a session end.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AmendOrder, Command } from '../../engine/commands.js';
import type { Engine } from '../../engine/engine.js';
import type { EngineEvent, OrderEvent, OrderState } from '../../engine/events.js';
import { divRound, formatUnits, parseUnits } from '../../engine/numeric.js';

const u = (s: string): bigint => {
  const v = parseUnits(s);
  if (v === undefined) throw new Error(`not a decimal: ${s}`);
  return v;
};

/** Plain assertions: vitest's expect is too slow to run tens of times per command over long streams. */
function ok(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
function same(actual: unknown, expected: unknown, msg: string): void {
  if (!isDeepStrictEqual(actual, expected))
    throw new Error(`${msg}: got ${show(actual)}, expected ${show(expected)}`);
}

const LIVE = new Set(['NEW', 'PARTIALLY_FILLED', 'PENDING_TRIGGER']);
const RESTING = new Set(['NEW', 'PARTIALLY_FILLED']);
const rank = (e: EngineEvent): number =>
  e.type === 'order' ? 1 : e.type === 'position' || e.type === 'account' ? 2 : e.type === 'book' ? 3 : 0;

type Queue = number[];

export class Checker {
  /** The latest state of every live order (PENDING_TRIGGER, NEW, PARTIALLY_FILLED). */
  readonly live = new Map<number, OrderState>();
  /** `${side}|${price}` -> resting order ids in priority order. */
  private readonly queues = new Map<string, Queue>();
  /** L2 as rebuilt from book events. */
  private readonly l2 = new Map<string, string>();
  /** Per order: sum of fill quantities (1e-8 units) and of price * quantity (1e-16 units). */
  private readonly fills = new Map<number, { qty: bigint; notional: bigint }>();
  /** Counters, so a run can show it exercised what it meant to. */
  readonly stats = { commands: 0, trades: 0, rests: 0, amendsKept: 0, amendsLost: 0, expired: 0, stp: 0 };

  constructor(private readonly symbol: string) {}

  private queue(side: string, price: string): Queue {
    const key = `${side}|${price}`;
    let q = this.queues.get(key);
    if (q === undefined) {
      q = [];
      this.queues.set(key, q);
    }
    return q;
  }

  private unqueue(o: OrderState): void {
    if (o.price === null) return;
    const q = this.queues.get(`${o.side}|${o.price}`);
    if (q === undefined) return;
    const i = q.indexOf(o.orderId);
    if (i >= 0) q.splice(i, 1);
  }

  private queued(o: OrderState): boolean {
    return o.price !== null && (this.queues.get(`${o.side}|${o.price}`)?.includes(o.orderId) ?? false);
  }

  check(cmd: Command, events: EngineEvent[], engine: Engine): void {
    this.stats.commands++;
    const where = `seq ${cmd.seq} ${cmd.type}`;
    // ---- stamps and order of events
    let last = 0;
    for (const e of events) {
      ok(e.seq === cmd.seq && e.ts === cmd.ts, `${where}: event stamped ${e.seq}/${e.ts}`);
      const r = rank(e);
      ok(r >= last, `${where}: ${e.type} event out of order`);
      last = r;
    }
    const orderEvents = events.filter((e): e is OrderEvent => e.type === 'order');
    const byId = new Map<number, OrderEvent>();
    for (const e of orderEvents) {
      ok(!byId.has(e.orderId), `${where}: two state events for order ${e.orderId}`);
      byId.set(e.orderId, e);
    }
    const stateOf = (id: number): OrderState => {
      const s = byId.get(id) ?? this.live.get(id);
      if (s === undefined) throw new Error(`${where}: trade names unknown order ${id}`);
      return s;
    };

    // ---- an accepted amend takes the order out of its queue unless it is a pure quantity decrease
    if (cmd.type === 'amend_order') this.preAmend(cmd, byId);

    // ---- a reduce-only order (or a cash account's sell) its position stopped backing is clipped off the book
    // when its turn to fill comes, or at the end of the command (engine/risk/reclip.ts): one cancelled that way
    // without a fill in this command left the queue before the trades that follow it
    const makers = new Set<number>();
    for (const t of events) if (t.type === 'trade') makers.add(t.makerOrderId);
    for (const e of orderEvents) {
      if (e.cancelReason === 'REDUCE_ONLY_CLIPPED' && e.status === 'CANCELLED' && !makers.has(e.orderId)) {
        const prev = this.live.get(e.orderId);
        if (prev !== undefined) this.unqueue(prev);
      }
    }

    // ---- trades, in order, against the model queues
    for (const t of events) {
      if (t.type !== 'trade') continue;
      this.stats.trades++;
      const maker = stateOf(t.makerOrderId);
      const taker = stateOf(t.takerOrderId);
      ok(t.symbol === this.symbol, `${where}: trade symbol`);
      ok(t.makerAccountId !== t.takerAccountId, `${where}: self-trade ${t.tradeId}`);
      ok(maker.accountId === t.makerAccountId && taker.accountId === t.takerAccountId, `${where}: accounts`);
      ok(taker.side === t.takerSide && maker.side !== t.takerSide, `${where}: sides`);
      ok(
        t.price === maker.price,
        `${where}: trade at ${t.price}, maker ${maker.orderId} rests at ${maker.price}`,
      );
      ok(!taker.postOnly, `${where}: post-only order ${taker.orderId} took`);
      const p = u(t.price);
      if (taker.price !== null) {
        const inside = taker.side === 'BUY' ? p <= u(taker.price) : p >= u(taker.price);
        ok(inside, `${where}: trade at ${t.price} beyond the taker's limit ${taker.price}`);
      }
      // price priority: no better non-empty level on the maker's side in the model
      for (const [key, q] of this.queues) {
        if (q.length === 0) continue;
        const [side, price] = key.split('|');
        if (side !== maker.side) continue;
        const better = side === 'BUY' ? u(price) > p : u(price) < p;
        ok(!better, `${where}: trade at ${t.price} while ${side} ${price} rests`);
      }
      // time priority: the maker is the head of its queue (or joined it during this command, behind nobody)
      const q = this.queue(maker.side, maker.price!);
      if (q.includes(maker.orderId))
        ok(q[0] === maker.orderId, `${where}: maker ${maker.orderId} jumped ${show(q)}`);
      else {
        ok(q.length === 0, `${where}: maker ${maker.orderId} filled ahead of ${show(q)}`);
        q.push(maker.orderId);
      }
      const qty = u(t.quantity);
      for (const o of [maker, taker]) {
        const f = this.fills.get(o.orderId) ?? { qty: 0n, notional: 0n };
        f.qty += qty;
        f.notional += qty * p;
        this.fills.set(o.orderId, f);
      }
      // What a resting order has left is its quantity less its fills so far and less what was cancelled (the
      // risk core clips reduce-only orders on arrival, and when their position shrinks).
      if (u(maker.quantity) - u(maker.cancelledQuantity) === this.fills.get(maker.orderId)!.qty) q.shift();
    }

    // ---- order states
    for (const e of orderEvents) {
      this.checkOrder(where, e);
      const prev = this.live.get(e.orderId);
      if (e.cancelReason === 'SELF_TRADE_PREVENTED') this.stats.stp++;
      if (e.status === 'EXPIRED') this.stats.expired++;
      if (RESTING.has(e.status)) {
        if (prev !== undefined && prev.price !== e.price) this.unqueue(prev);
        if (!this.queued(e)) {
          this.queue(e.side, e.price!).push(e.orderId);
          this.stats.rests++;
        }
      } else {
        if (prev !== undefined) this.unqueue(prev);
        this.unqueue(e);
      }
      const { type: _t, seq: _s, ts: _ts, ...state } = e;
      if (LIVE.has(e.status)) this.live.set(e.orderId, state);
      else {
        this.live.delete(e.orderId);
        this.fills.delete(e.orderId);
      }
    }

    // ---- the engine's book equals the model, order by order
    const market = engine.markets.get(this.symbol)!;
    const ins = market.instrument;
    const seen = new Set<string>();
    let bestBid: bigint | null = null;
    let bestAsk: bigint | null = null;
    for (const side of [market.book.bids, market.book.asks]) {
      for (let i = side.levels.length - 1; i >= 0; i--) {
        const level = side.levels[i];
        const price = ins.priceString(level.priceTicks);
        const key = `${side.side}|${price}`;
        seen.add(key);
        const ids: number[] = [];
        let lots = 0;
        for (let o = level.head; o !== null; o = o.next) {
          ids.push(o.id);
          lots += o.remainingLots;
        }
        same(ids, this.queues.get(key) ?? [], `${where}: queue ${key}`);
        ok(level.totalLots === lots && level.count === ids.length, `${where}: level ${key} totals`);
        let sum = 0n;
        for (const id of ids) {
          const s = this.live.get(id)!;
          ok(RESTING.has(s.status), `${where}: ${id} rests with status ${s.status}`);
          ok(
            s.timeInForce !== 'IOC' && s.timeInForce !== 'FOK',
            `${where}: ${s.timeInForce} order ${id} rests`,
          );
          ok(
            s.orderType !== 'MARKET' && s.orderType !== 'STOP',
            `${where}: ${s.orderType} order ${id} rests`,
          );
          sum += u(s.remainingQuantity);
        }
        ok(formatUnits(sum) === ins.qtyString(level.totalLots), `${where}: level ${key} vs order states`);
        if (i === side.levels.length - 1) {
          if (side.side === 'BUY') bestBid = u(price);
          else bestAsk = u(price);
        }
      }
    }
    for (const [key, q] of this.queues) if (!seen.has(key)) same(q, [], `${where}: model queue ${key}`);
    if (bestBid !== null && bestAsk !== null)
      ok(bestBid < bestAsk, `${where}: crossed book ${bestBid}/${bestAsk}`);

    // ---- stops left pending are not triggered by the last price
    const lastTicks = ins.lastTradeTicks;
    if (lastTicks > 0) {
      for (const o of market.stops.buys) ok(o.stopTicks > lastTicks, `${where}: buy stop ${o.id} left`);
      for (const o of market.stops.sells) ok(o.stopTicks < lastTicks, `${where}: sell stop ${o.id} left`);
    }

    // ---- L2 events reproduce the snapshot
    const keys = new Set<string>();
    for (const e of events) {
      if (e.type !== 'book') continue;
      const key = `${e.side}|${e.price}`;
      ok(!keys.has(key), `${where}: two book events for ${key}`);
      keys.add(key);
      if (e.quantity === '0') this.l2.delete(key);
      else this.l2.set(key, e.quantity);
    }
    const snap = engine.book(this.symbol, 1_000_000)!;
    const fromSnap = new Map<string, string>();
    for (const l of snap.bids) fromSnap.set(`BUY|${l.price}`, l.quantity);
    for (const l of snap.asks) fromSnap.set(`SELL|${l.price}`, l.quantity);
    same(new Map([...this.l2].sort()), new Map([...fromSnap].sort()), `${where}: L2`);

    // ---- live orders: the engine's view equals the model's
    const coids = new Set<string>();
    for (const s of this.live.values()) {
      same(engine.order(s.orderId), s, `${where}: live order ${s.orderId}`);
      if (cmd.type === 'session_end')
        ok(s.timeInForce !== 'DAY', `${where}: DAY order ${s.orderId} survived`);
      if (s.clientOrderId !== null) {
        const k = `${s.accountId}|${s.clientOrderId}`;
        ok(!coids.has(k), `${where}: duplicate live client order id ${k}`);
        coids.add(k);
      }
    }
    ok(
      engine.orders.size === this.live.size,
      `${where}: ${engine.orders.size} live orders, model ${this.live.size}`,
    );
  }

  private preAmend(cmd: AmendOrder, byId: Map<number, OrderEvent>): void {
    let prev: OrderState | undefined;
    if (cmd.orderId !== undefined) prev = this.live.get(cmd.orderId);
    else {
      for (const s of this.live.values())
        if (s.accountId === cmd.accountId && s.clientOrderId === cmd.clientOrderId) prev = s;
    }
    if (prev === undefined || !byId.has(prev.orderId)) return; // refused: nothing changed
    if (!RESTING.has(prev.status)) return;
    const samePrice = cmd.price === undefined || u(cmd.price) === u(prev.price!);
    const decrease = cmd.quantity !== undefined && u(cmd.quantity) < u(prev.quantity);
    if (samePrice && decrease) {
      this.stats.amendsKept++;
      return;
    }
    this.stats.amendsLost++;
    this.unqueue(prev);
  }

  private checkOrder(where: string, e: OrderEvent): void {
    const id = `${where}: order ${e.orderId} (${e.status})`;
    const q = u(e.quantity);
    const filled = u(e.filledQuantity);
    const remaining = u(e.remainingQuantity);
    const cancelled = u(e.cancelledQuantity);
    ok(filled + remaining + cancelled === q, `${id}: filled + remaining + cancelled != quantity`);
    switch (e.status) {
      case 'FILLED':
        // (a reduce-only order the risk core clipped on arrival keeps its clipped part as cancelled)
        ok(remaining === 0n && filled > 0n && (cancelled === 0n || e.reduceOnly), id);
        break;
      case 'PARTIALLY_FILLED':
        ok(filled > 0n && remaining > 0n, id);
        break;
      case 'NEW':
      case 'PENDING_TRIGGER':
        ok(filled === 0n && remaining > 0n, id);
        if (!e.reduceOnly) ok(cancelled === 0n, `${id}: cancelled part on a live order`);
        break;
      case 'REJECTED':
        ok(filled === 0n && remaining === 0n && e.rejectionReason !== null && e.cancelReason === null, id);
        break;
      case 'CANCELLED':
      case 'EXPIRED':
        ok(remaining === 0n && cancelled > 0n && e.cancelReason !== null && e.rejectionReason === null, id);
        break;
    }
    ok(e.status === 'EXPIRED' ? e.expiredAt === e.updatedAt : e.expiredAt === null, `${id}: expiredAt`);
    if (e.timeInForce === 'FOK') {
      // all or nothing of what it asked for (for a clipped reduce-only order: of what was left after the clip)
      const all = e.reduceOnly ? filled + cancelled === q : filled === q;
      ok(filled === 0n || all, `${id}: FOK partially filled`);
    }
    if (
      e.timeInForce === 'IOC' ||
      e.timeInForce === 'FOK' ||
      e.orderType === 'MARKET' ||
      e.orderType === 'STOP'
    ) {
      ok(!RESTING.has(e.status), `${id}: ${e.timeInForce} ${e.orderType} left in the book`);
    }
    const f = this.fills.get(e.orderId) ?? { qty: 0n, notional: 0n };
    ok(f.qty === filled, `${id}: filled ${filled} but trades say ${f.qty}`);
    // the trades' notional is in 1e-16 units, the event's in 1e-8
    const notional = formatUnits(divRound(f.notional, 100_000_000n, 'half_even'));
    ok(e.filledNotional === notional, `${id}: notional ${e.filledNotional}, trades say ${notional}`);
    const avg = filled === 0n ? null : formatUnits(divRound(f.notional, filled, 'half_even'));
    ok(e.averagePrice === avg, `${id}: average ${e.averagePrice}, trades say ${avg}`);
  }
}
