/**
 * The engine: applies sequenced commands to the books (and, with risk on, to accounts and positions) and
 * emits events. Single-threaded and deterministic: no clock (time is the command's `ts`), no randomness,
 * iteration only over insertion-ordered collections.
 *
 * A command's events are emitted in this order:
 *   1. what happened, in the order it happened: trades, ledger entries, rejections, liquidations...
 *   2. the final state of every order the command changed (once each, in the order first touched);
 *   3. positions and accounts the command changed (risk core);
 *   4. the book levels the command changed (once each), as L2 deltas.
 *
 * Stops trigger on the last trade price. After a command's own matching, every stop that the last price
 * triggers is taken out of the stop book and activated one after another in order of order id (oldest
 * first); their trades move the last price, and the check repeats until no stop triggers. A loop, not
 * recursion: a cascade of any length runs in constant stack.
 *
 * Decisions where the design left a choice (docs/engine.md has the full rules):
 * - A place_order whose input is malformed never becomes an order: a `rejected` event, no order id used. One
 *   refused after it became an order (duplicate client order id, post-only would take, FOK not fillable, no
 *   liquidity, risk) is an `order` event with status REJECTED. A triggered stop that meets such a refusal
 *   ends REJECTED with that reason too, although it was acknowledged PENDING_TRIGGER before.
 * - Self-trade prevention is "expire taker". A post-only order that would cross its own account's order is
 *   refused POST_ONLY_WOULD_TAKE (it would take, STP or not).
 * - Amend: the new quantity is the total and must stay above filled + cancelled (cancelled is non-zero on a
 *   live order only when the risk core clipped a reduce-only order); equal is AMEND_BELOW_FILLED: cancel
 *   instead. A stop's trigger rank is its order id; an amend does not change it.
 * - Only live orders are kept: cancelling or amending a final order, like another account's, is UNKNOWN_ORDER.
 * - L2: one `book` event per (side, price) a command changed, with the final quantity; none for a level that
 *   did not change.
 */
import type { BookLevel, BookSnapshot, EngineApi, EngineOptions } from './api.js';
import { type BookSide, type Level, OrderBook } from './book.js';
import type {
  AmendOrder,
  CancelAll,
  CancelOrder,
  CancelSource,
  Command,
  CreateInstrument,
  CreateUser,
  PlaceOrder,
  SessionEnd,
} from './commands.js';
import { OrderDirectory } from './directory.js';
import type { CancelReason, OrderType, RejectReason, Side, TimeInForce } from './enums.js';
import {
  B_INSTRUMENT,
  B_PRICE,
  B_QTY,
  B_SELL,
  EventLog,
  K_BOOK,
  K_TRADE,
  T_ID,
  T_INSTRUMENT,
  T_MAKER_ACCOUNT,
  T_MAKER_FEE,
  T_MAKER_ORDER,
  T_MAKER_PNL,
  T_PRICE,
  T_QTY,
  T_TAKER_ACCOUNT,
  T_TAKER_FEE,
  T_TAKER_ORDER,
  T_TAKER_PNL,
  T_TAKER_SELLS,
} from './event-log.js';
import type {
  AccountState,
  EngineEvent,
  InstrumentSpec,
  OrderState,
  PositionState,
  UserState,
} from './events.js';
import { hashEngine } from './hash.js';
import { IdTable } from './id-table.js';
import { type Instrument, instrumentFromCommand } from './instrument.js';
import { type MatchSink, match, reachableLots, wouldTake } from './matcher.js';
import { F_DIRTY, F_REGISTERED, Order, type OrderOrigin } from './order.js';
import { createRisk, type RiskCore } from './risk/index.js';
import type { FillMoney } from './risk-port.js';
import { StopBook } from './stops.js';
import { isClientOrderId, isPositiveId, validatePlace } from './validate.js';

/** One instrument's book and stops. */
export interface Market {
  readonly instrument: Instrument;
  readonly book: OrderBook;
  readonly stops: StopBook;
}

/**
 * An account's live orders, as the matching core sees them (risk keeps balances elsewhere): an intrusive
 * doubly linked list through Order.ownerPrev/ownerNext in registration order (a Set entry cost more bytes
 * per order and a hash operation per add and delete), and the client order ids in use.
 */
export class Owner {
  head: Order | null;
  tail: Order | null;
  size: number;
  readonly byClientId: Map<string, Order>;

  constructor() {
    this.head = null;
    this.tail = null;
    this.size = 0;
    this.byClientId = new Map();
  }

  /** Appends an order at the end (the most recently registered). */
  append(o: Order): void {
    const tail = this.tail;
    o.ownerPrev = tail;
    o.ownerNext = null;
    if (tail === null) this.head = o;
    else tail.ownerNext = o;
    this.tail = o;
    this.size++;
  }

  unlink(o: Order): void {
    const prev = o.ownerPrev;
    const next = o.ownerNext;
    if (prev === null) this.head = next;
    else prev.ownerNext = next;
    if (next === null) this.tail = prev;
    else next.ownerPrev = prev;
    o.ownerPrev = null;
    o.ownerNext = null;
    this.size--;
  }

  /** The live orders in registration order (a copy). */
  get live(): Order[] {
    const result: Order[] = [];
    for (let o = this.head; o !== null; o = o.ownerNext) result.push(o);
    return result;
  }
}

/**
 * The cancelReason a trader-side cancel records: the trader's own (`byTrader`: USER for one order,
 * CANCEL_ALL for all) or the gateway's on the trader's behalf. null: not a source (the command is refused).
 */
function cancelReasonOf(source: CancelSource | undefined, byTrader: CancelReason): CancelReason | null {
  switch (source) {
    case undefined:
    case 'TRADER':
      return byTrader;
    case 'DISCONNECT':
    case 'CANCEL_ALL_AFTER':
      return source;
    default:
      return null;
  }
}

/** Spare Order objects kept at most: beyond that (a cancel_all of thousands), the collector takes them. */
const MAX_SPARE_ORDERS = 4096;

const ZERO_MONEY: FillMoney = { makerFee: 0, takerFee: 0, makerRealizedPnl: 0, takerRealizedPnl: 0 };

export class Engine implements EngineApi, MatchSink {
  private seq = 0;
  private ts = 0;
  /** Where the command being applied writes its events. */
  private log: EventLog;
  /** False while `replay` applies a command: events are not built (state changes are unaffected). */
  private emitting = true;
  /** `apply`'s log (its records are read back as event objects), and `replay`'s (always empty). */
  private readonly ownLog = new EventLog();
  private readonly discardLog = new EventLog(64);
  /** Every instrument by id: how records' prices and quantities are formatted (EventLog.instruments). */
  private readonly instrumentsById: Instrument[] = [];

  readonly markets = new Map<string, Market>();
  readonly users = new Map<number, UserState>();
  /** Every live order by id. */
  readonly orders = new OrderDirectory();
  readonly owners = new IdTable<Owner>();
  /** Live DAY orders, expired by session_end. */
  readonly dayOrders = new Set<Order>();
  readonly risk: RiskCore | null;

  /** Id counters: part of the state (hashed, snapshotted), so replay assigns the same ids. */
  nextUserId = 1;
  nextInstrumentId = 1;
  nextOrderId = 1;
  nextTradeId = 1;

  // per-command change tracking (state events are coalesced per command)
  // Filled up to a count and cleared slot by slot: truncating an array (`length = 0`) is a runtime call.
  private readonly dirtyOrders: Array<Order | null> = [];
  private dirtyOrderCount = 0;
  private readonly dirtyLevels: Array<Level | null> = [];
  private readonly dirtyLevelSides: Array<BookSide | null> = [];
  private readonly dirtyLevelMarkets: Array<Market | null> = [];
  private dirtyLevelCount = 0;
  /** Markets by instrument id (addMarket). */
  private readonly marketById: Array<Market | undefined> = [];
  /**
   * The (side, price) pairs already reported empty in this command, flat: a command empties a few levels
   * at most, so a scan beats a Set (whose clear() reallocates its table on every command that used it).
   */
  private readonly goneSides: Array<BookSide | null> = [];
  private readonly gonePrices: number[] = [];
  private goneCount = 0;
  private readonly money: FillMoney = { ...ZERO_MONEY };
  /** Final orders' objects, kept for reuse (newOrder, recycle). */
  private readonly spareOrders: Order[] = [];
  /** The market the matcher is working on (the MatchSink callbacks need it). */
  private matching: Market | null = null;

  constructor(options: EngineOptions = {}) {
    this.risk = options.risk === false ? null : createRisk(this);
    this.log = this.ownLog;
  }

  /** The log the current command writes to (for the risk core). */
  get events(): EventLog {
    return this.log;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The `ts` of the command being applied (for the risk core). */
  get now(): number {
    return this.ts;
  }

  /** The seq of the command being applied (for the risk core). */
  get currentSeq(): number {
    return this.seq;
  }

  /** False while `replay` runs: the risk core skips building event payloads too. */
  get building(): boolean {
    return this.emitting;
  }

  replay(cmd: Command): void {
    this.emitting = false;
    try {
      this.applyInto(cmd, this.discardLog);
    } finally {
      this.emitting = true;
      this.discardLog.clear();
    }
  }

  apply(cmd: Command, out: EngineEvent[]): void {
    const log = this.ownLog;
    log.clear();
    try {
      this.applyInto(cmd, log);
    } finally {
      log.toEvents(out);
    }
  }

  applyInto(cmd: Command, log: EventLog): void {
    if (cmd.seq !== this.seq + 1) {
      throw new Error(`engine expected seq ${this.seq + 1}, got ${cmd.seq}: a command was lost or repeated`);
    }
    this.seq = cmd.seq;
    this.ts = cmd.ts;
    this.log = log;
    log.instruments = this.instrumentsById;
    log.stamp(cmd.seq, cmd.ts);
    switch (cmd.type) {
      case 'place_order':
        this.place(cmd);
        break;
      case 'cancel_order':
        this.cancel(cmd);
        break;
      case 'amend_order':
        this.amend(cmd);
        break;
      case 'cancel_all':
        this.cancelAll(cmd);
        break;
      case 'create_instrument':
        this.createInstrument(cmd);
        break;
      case 'create_user':
        this.createUser(cmd);
        break;
      case 'session_end':
        this.sessionEnd(cmd);
        break;
      case 'checkpoint':
        if (this.emitting)
          log.object({ type: 'state_hash', seq: this.seq, ts: this.ts, hash: this.stateHash() });
        break;
      default:
        if (this.risk === null || !this.risk.handle(cmd)) this.reject(cmd, 'INVALID_COMMAND', null, null);
    }
    this.flushCommand();
  }

  // ---- queries ---------------------------------------------------------------------------------------------

  user(userId: number): UserState | undefined {
    return this.users.get(userId);
  }

  instrument(symbol: string): InstrumentSpec | undefined {
    return this.markets.get(symbol)?.instrument.spec;
  }

  instruments(): InstrumentSpec[] {
    return [...this.markets.values()].map((m) => m.instrument.spec);
  }

  account(accountId: number): AccountState | undefined {
    return (
      this.risk as unknown as { accountState?(id: number): AccountState | undefined } | null
    )?.accountState?.(accountId);
  }

  accountOwner(accountId: number): number | undefined {
    return this.risk?.accounts.get(accountId)?.userId;
  }

  accountsOfUser(userId: number): AccountState[] {
    return (
      (this.risk as unknown as { accountsOfUser?(id: number): AccountState[] } | null)?.accountsOfUser?.(
        userId,
      ) ?? []
    );
  }

  positions(accountId: number): PositionState[] {
    return (
      (this.risk as unknown as { positionStates?(id: number): PositionState[] } | null)?.positionStates?.(
        accountId,
      ) ?? []
    );
  }

  order(orderId: number): OrderState | undefined {
    return this.orders.get(orderId)?.toState();
  }

  orderByClientId(accountId: number, clientOrderId: string): OrderState | undefined {
    return this.owners.get(accountId)?.byClientId.get(clientOrderId)?.toState();
  }

  openOrders(accountId: number, symbol?: string): OrderState[] {
    const owner = this.owners.get(accountId);
    if (owner === undefined) return [];
    const result: OrderState[] = [];
    for (let o = owner.head; o !== null; o = o.ownerNext)
      if (symbol === undefined || o.instrument.symbol === symbol) result.push(o.toState());
    return result;
  }

  book(symbol: string, depth: number): BookSnapshot | undefined {
    const m = this.markets.get(symbol);
    if (m === undefined) return undefined;
    const levels = (side: BookSide): BookLevel[] => {
      const result: BookLevel[] = [];
      const ls = side.levels;
      for (let i = ls.length - 1; i >= 0 && result.length < depth; i--) {
        const l = ls[i];
        result.push({
          price: m.instrument.priceString(l.priceTicks),
          quantity: m.instrument.qtyString(l.totalLots),
          orders: l.count,
        });
      }
      return result;
    };
    return { symbol, seq: this.seq, bids: levels(m.book.bids), asks: levels(m.book.asks) };
  }

  bestPrice(symbol: string, side: Side): string | undefined {
    const m = this.markets.get(symbol);
    const best = m?.book.sideOf(side).best();
    return best === undefined ? undefined : m!.instrument.priceString(best.priceTicks);
  }

  lastTradePrice(symbol: string): string | undefined {
    const m = this.markets.get(symbol);
    return m === undefined || m.instrument.lastTradeTicks === 0
      ? undefined
      : m.instrument.priceString(m.instrument.lastTradeTicks);
  }

  stateHash(): string {
    return hashEngine(this);
  }

  // ---- operator commands -----------------------------------------------------------------------------------

  private createUser(cmd: CreateUser & { seq: number; ts: number }): void {
    // NUL is refused: PostgreSQL text cannot store it, and a row the workers cannot write stops persistence.
    if (
      typeof cmd.name !== 'string' ||
      cmd.name.length === 0 ||
      cmd.name.length > 200 ||
      cmd.name.includes('\u0000')
    ) {
      this.reject(cmd, 'INVALID_COMMAND', null, null);
      return;
    }
    const email = cmd.email ?? null;
    if (email !== null && (typeof email !== 'string' || email.length > 320 || email.includes('\u0000'))) {
      this.reject(cmd, 'INVALID_COMMAND', null, null);
      return;
    }
    const user: UserState = { userId: this.nextUserId++, name: cmd.name, email, createdAt: this.ts };
    this.users.set(user.userId, user);
    this.emit({ type: 'user_created', seq: this.seq, ts: this.ts, ...user });
  }

  private createInstrument(cmd: CreateInstrument & { seq: number; ts: number }): void {
    if (typeof cmd.symbol === 'string' && this.markets.has(cmd.symbol)) {
      this.reject(cmd, 'DUPLICATE_INSTRUMENT', null, null);
      return;
    }
    const ins = instrumentFromCommand(this.nextInstrumentId, cmd);
    if (typeof ins === 'string') {
      this.reject(cmd, ins, null, null);
      return;
    }
    this.nextInstrumentId++;
    this.addMarket({ instrument: ins, book: new OrderBook(), stops: new StopBook() });
    this.emit({ type: 'instrument_created', seq: this.seq, ts: this.ts, ...ins.spec });
  }

  /** Lists a new market (a created instrument, or one a snapshot restores). */
  addMarket(market: Market): void {
    const ins = market.instrument;
    this.markets.set(ins.symbol, market);
    this.marketById[ins.id] = market;
    this.instrumentsById[ins.id] = ins;
  }

  private sessionEnd(_cmd: SessionEnd): void {
    const expiring = [...this.dayOrders].sort((a, b) => a.id - b.id);
    for (const o of expiring) {
      this.takeOut(o);
      o.cancel('SESSION_END', 'EXPIRED');
      o.expiredAt = this.ts;
      this.finish(o);
    }
    this.emit({ type: 'session_end', seq: this.seq, ts: this.ts, expiredOrders: expiring.length });
  }

  // ---- trader commands -------------------------------------------------------------------------------------

  private place(cmd: PlaceOrder): void {
    if (!isPositiveId(cmd.accountId)) return this.reject(cmd, 'INVALID_COMMAND', null, null);
    const coid = cmd.clientOrderId === undefined ? null : cmd.clientOrderId;
    const market = this.markets.get(cmd.symbol);
    if (market === undefined) return this.reject(cmd, 'UNKNOWN_INSTRUMENT', null, coid);
    const risk = this.risk;
    if (risk !== null && !risk.hasAccount(cmd.accountId))
      return this.reject(cmd, 'UNKNOWN_ACCOUNT', null, coid);
    const f = validatePlace(cmd, market.instrument);
    if (typeof f === 'string') return this.reject(cmd, f, null, typeof coid === 'string' ? coid : null);

    const ins = market.instrument;
    const order = this.newOrder().init(
      this.nextOrderId++,
      cmd.accountId,
      coid,
      ins,
      cmd.side,
      cmd.orderType,
      cmd.timeInForce,
      f.priceTicks,
      f.stopTicks,
      f.quantityLots,
      cmd.postOnly === true,
      cmd.reduceOnly === true,
      f.leverage === 0 && risk === null ? 1 : f.leverage,
      ins.takerFeeRate,
      'USER',
      this.ts,
    );
    this.touch(order);
    if (coid !== null && this.owners.get(cmd.accountId)?.byClientId.has(coid)) {
      return this.refuse(order, 'DUPLICATE_CLIENT_ORDER_ID');
    }
    if (risk !== null) {
      const reason = risk.admit(order);
      if (reason !== null) return this.refuse(order, reason);
    }
    this.submit(market, order);
  }

  /**
   * Enters an admitted order: a stop waits for its trigger (or triggers at once if the last price already
   * crossed it), anything else executes. Then triggered stops run. Also used by the risk core for the
   * orders it generates (stop-loss, take-profit, liquidation).
   */
  submit(market: Market, order: Order): void {
    if (order.stopTicks > 0) {
      const last = market.instrument.lastTradeTicks;
      const triggered =
        last > 0 && (order.side === 'BUY' ? last >= order.stopTicks : last <= order.stopTicks);
      if (!triggered) {
        market.stops.add(order);
        this.register(order);
        return;
      }
      order.status = 'NEW';
    }
    this.execute(market, order);
    this.runStops(market);
  }

  private cancel(cmd: CancelOrder): void {
    const reason = cancelReasonOf(cmd.source, 'USER');
    if (reason === null) return this.reject(cmd, 'INVALID_COMMAND', null, null);
    const order = this.findOwned(cmd);
    if (order === undefined) return;
    this.cancelLive(order, reason);
  }

  private cancelAll(cmd: CancelAll): void {
    if (!isPositiveId(cmd.accountId)) return this.reject(cmd, 'INVALID_COMMAND', null, null);
    const reason = cancelReasonOf(cmd.source, 'CANCEL_ALL');
    if (reason === null) return this.reject(cmd, 'INVALID_COMMAND', null, null);
    if (cmd.symbol !== undefined && !this.markets.has(cmd.symbol)) {
      return this.reject(cmd, 'UNKNOWN_INSTRUMENT', null, null);
    }
    this.cancelOrders(cmd.accountId, cmd.symbol, reason);
  }

  /** Cancels an account's live orders (optionally on one instrument), oldest first. Returns how many. */
  cancelOrders(accountId: number, symbol: string | undefined, reason: CancelReason): number {
    const owner = this.owners.get(accountId);
    if (owner === undefined) return 0;
    const victims: Order[] = [];
    for (let o = owner.head; o !== null; o = o.ownerNext)
      if (symbol === undefined || o.instrument.symbol === symbol) victims.push(o);
    // By id, not by `live` order: an amend re-registers an order at the end of `live`, and a restored
    // snapshot would not reproduce that insertion order.
    victims.sort((a, b) => a.id - b.id);
    for (const o of victims) this.cancelLive(o, reason);
    return victims.length;
  }

  /**
   * Moves `lots` of a live order's remaining quantity to cancelled (the risk core's clip of an order its
   * position no longer backs), keeping its book level's total; with nothing left the order is cancelled.
   */
  clipOrder(order: Order, lots: number, reason: CancelReason): void {
    if (lots >= order.remainingLots) return this.cancelLive(order, reason);
    this.touch(order);
    order.updatedAt = this.ts;
    order.cancelPart(lots);
    const level = order.level;
    if (level !== null) {
      level.totalLots -= lots;
      const market = this.marketOf(order.instrument);
      this.touchLevel(market.book.sideOf(order.side), level, market);
    }
    this.risk?.reserve(order);
  }

  private amend(cmd: AmendOrder): void {
    const order = this.findOwned(cmd);
    if (order === undefined) return;
    const ins = order.instrument;
    const market = this.marketOf(ins);
    let priceTicks = order.priceTicks;
    if (cmd.price !== undefined) {
      if (order.priceTicks === 0) return this.reject(cmd, 'UNEXPECTED_PRICE', order.id, order.clientOrderId);
      const p = ins.priceToTicks(cmd.price);
      if (typeof p === 'string') return this.reject(cmd, p, order.id, order.clientOrderId);
      priceTicks = p;
    }
    let quantityLots = order.quantityLots;
    if (cmd.quantity !== undefined) {
      const q = ins.qtyToLots(cmd.quantity);
      if (typeof q === 'string') return this.reject(cmd, q, order.id, order.clientOrderId);
      quantityLots = q;
    }
    if (priceTicks === order.priceTicks && quantityLots === order.quantityLots) {
      return this.reject(cmd, 'AMEND_NO_CHANGE', order.id, order.clientOrderId);
    }
    // Quantity is the new total: what is already filled or cancelled (a reduce-only clip) stays counted in it.
    if (quantityLots <= order.filledLots + order.cancelledLots)
      return this.reject(cmd, 'AMEND_BELOW_FILLED', order.id, order.clientOrderId);
    const resting = order.level !== null;
    const repriced = priceTicks !== order.priceTicks;
    if (resting && repriced && order.postOnly) {
      const best = market.book.opposite(order.side).best();
      const takes =
        best !== undefined &&
        (order.side === 'BUY' ? best.priceTicks <= priceTicks : best.priceTicks >= priceTicks);
      if (takes) return this.reject(cmd, 'POST_ONLY_WOULD_TAKE', order.id, order.clientOrderId);
    }
    if (this.risk !== null) {
      const reason = this.risk.admitAmend(order, priceTicks, quantityLots);
      if (reason !== null) return this.reject(cmd, reason, order.id, order.clientOrderId);
    }
    this.touch(order);
    order.updatedAt = this.ts;
    const newRemaining = quantityLots - order.filledLots - order.cancelledLots;
    if (resting && !repriced && quantityLots < order.quantityLots) {
      // A pure decrease keeps the order's place in the queue.
      const level = order.level!;
      level.totalLots -= order.remainingLots - newRemaining;
      order.quantityLots = quantityLots;
      order.remainingLots = newRemaining;
      this.touchLevel(market.book.sideOf(order.side), level, market);
      this.risk?.reserve(order);
      return;
    }
    // Anything else is a cancel-replace under the same id: it loses priority and may trade at once.
    if (resting) {
      const side = market.book.sideOf(order.side);
      const level = side.remove(order);
      this.touchLevel(side, level, market);
      this.unregister(order);
    } else {
      market.stops.remove(order);
      this.unregister(order);
    }
    order.priceTicks = priceTicks;
    order.quantityLots = quantityLots;
    order.remainingLots = newRemaining;
    this.risk?.reserve(order);
    if (order.status === 'PENDING_TRIGGER') {
      market.stops.add(order);
      this.register(order);
      return;
    }
    this.execute(market, order);
    this.runStops(market);
  }

  // ---- the order life cycle --------------------------------------------------------------------------------

  /** Runs `order` as a taker, then rests, cancels or refuses what is left according to its type and TIF. */
  private execute(market: Market, order: Order): void {
    if (this.risk !== null) {
      const unbacked = this.risk.unbackedLots(order);
      if (unbacked > 0) {
        this.clipOrder(order, unbacked, 'REDUCE_ONLY_CLIPPED');
        if (order.remainingLots === 0) return;
      }
    }
    const book = market.book;
    if (order.postOnly && wouldTake(book, order)) return this.refuse(order, 'POST_ONLY_WOULD_TAKE');
    if (order.tif === 'FOK' && reachableLots(book, order, order.remainingLots, this) < order.remainingLots) {
      return this.refuse(order, 'FOK_NOT_FILLABLE');
    }
    const isMarket = order.priceTicks === 0;
    if (isMarket && book.opposite(order.side).best() === undefined) return this.refuse(order, 'NO_LIQUIDITY');

    this.matching = market;
    const stp = match(book, order, this);
    if (order.remainingLots === 0) {
      this.finish(order);
      return;
    }
    if (stp || isMarket || order.tif === 'IOC' || order.tif === 'FOK') {
      order.cancel(stp ? 'SELF_TRADE_PREVENTED' : isMarket ? 'MARKET_REMAINDER' : 'IOC_REMAINDER');
      this.finish(order);
      return;
    }
    const side = book.sideOf(order.side);
    const level = side.add(order);
    this.touchLevel(side, level, market);
    this.register(order);
    this.risk?.reserve(order);
  }

  private runStops(market: Market): void {
    const stops = market.stops;
    const ins = market.instrument;
    while (stops.size > 0 && ins.lastTradeTicks > 0) {
      const triggered = stops.takeTriggered(ins.lastTradeTicks);
      if (triggered.length === 0) return;
      for (const o of triggered) {
        this.unregister(o);
        this.touch(o);
        o.status = 'NEW';
        o.updatedAt = this.ts;
        this.execute(market, o);
      }
    }
  }

  // MatchSink: called by the matcher for each fill and changed level.
  onFill(taker: Order, maker: Order, priceTicks: number, lots: number): void {
    const ins = taker.instrument;
    ins.lastTradeTicks = priceTicks;
    this.touch(maker);
    maker.updatedAt = this.ts;
    taker.updatedAt = this.ts;
    const tradeId = this.nextTradeId++;
    const money = this.risk === null ? ZERO_MONEY : this.money;
    this.risk?.settle(taker, maker, priceTicks, lots, tradeId, money);
    if (!this.emitting) return;
    const log = this.log;
    const o = log.begin(K_TRADE);
    const f = log.f;
    f[o + T_ID] = tradeId;
    f[o + T_INSTRUMENT] = ins.id;
    f[o + T_PRICE] = priceTicks;
    f[o + T_QTY] = lots;
    f[o + T_TAKER_SELLS] = taker.isBuy ? 0 : 1;
    f[o + T_MAKER_ORDER] = maker.id;
    f[o + T_TAKER_ORDER] = taker.id;
    f[o + T_MAKER_ACCOUNT] = maker.accountId;
    f[o + T_TAKER_ACCOUNT] = taker.accountId;
    log.amount(o + T_MAKER_FEE, money.makerFee);
    log.amount(o + T_TAKER_FEE, money.takerFee);
    log.amount(o + T_MAKER_PNL, money.makerRealizedPnl);
    log.amount(o + T_TAKER_PNL, money.takerRealizedPnl);
  }

  onMakerDone(maker: Order): void {
    this.finish(maker);
  }

  unbackedLots(maker: Order): number {
    return this.risk === null ? 0 : this.risk.unbackedLots(maker);
  }

  promises(maker: Order): boolean {
    return this.risk?.promises(maker) === true;
  }

  onMakerClipped(maker: Order, lots: number, all: boolean): void {
    this.touch(maker);
    maker.updatedAt = this.ts;
    if (all) {
      maker.cancel('REDUCE_ONLY_CLIPPED');
      this.finish(maker);
      return;
    }
    maker.cancelPart(lots);
    this.risk?.reserve(maker);
  }

  onLevelChanged(side: BookSide, level: Level): void {
    this.touchLevel(side, level, this.matching!);
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  /** Refuses a constructed order: it is recorded with status REJECTED and its reason. */
  private refuse(order: Order, reason: RejectReason): void {
    this.touch(order);
    order.reject(reason);
    if (this.risk !== null && order.reserved !== 0) this.risk.reserve(order);
  }

  /** Refuses a command that names no valid order to record. */
  reject(
    cmd: Command | PlaceOrder | CancelOrder | AmendOrder | CancelAll | CreateUser | CreateInstrument,
    reason: RejectReason,
    orderId: number | null,
    clientOrderId: string | null,
  ): void {
    const accountId = (cmd as { accountId?: unknown }).accountId;
    this.emit({
      type: 'rejected',
      seq: this.seq,
      ts: this.ts,
      command: typeof cmd.type === 'string' ? cmd.type : 'place_order',
      reason,
      accountId: isPositiveId(accountId) ? accountId : null,
      orderId,
      clientOrderId: isClientOrderId(clientOrderId) ? clientOrderId : null,
    } as EngineEvent);
  }

  /** Looks up the live order a cancel/amend names, owned by the command's account; rejects otherwise. */
  private findOwned(cmd: CancelOrder | AmendOrder): Order | undefined {
    if (!isPositiveId(cmd.accountId)) {
      this.reject(cmd, 'INVALID_COMMAND', null, null);
      return undefined;
    }
    let order: Order | undefined;
    if (cmd.orderId !== undefined) {
      if (!isPositiveId(cmd.orderId) || cmd.clientOrderId !== undefined) {
        this.reject(cmd, 'INVALID_COMMAND', null, null);
        return undefined;
      }
      order = this.orders.get(cmd.orderId);
    } else if (isClientOrderId(cmd.clientOrderId)) {
      order = this.owners.get(cmd.accountId)?.byClientId.get(cmd.clientOrderId);
    } else {
      this.reject(cmd, 'INVALID_COMMAND', null, null);
      return undefined;
    }
    // Another account's order is reported as unknown: its existence is not the caller's business.
    if (order === undefined || order.accountId !== cmd.accountId) {
      this.reject(cmd, 'UNKNOWN_ORDER', cmd.orderId ?? null, cmd.clientOrderId ?? null);
      return undefined;
    }
    return order;
  }

  /** Cancels a live order wherever it waits: out of the book or the stop book, then final. */
  private cancelLive(order: Order, reason: CancelReason): void {
    this.touch(order);
    this.takeOut(order);
    order.cancel(reason);
    this.finish(order);
  }

  /** Removes a live order from wherever it waits (book or stop book). */
  private takeOut(order: Order): void {
    const market = this.marketOf(order.instrument);
    if (order.level !== null) {
      const side = market.book.sideOf(order.side);
      const level = side.remove(order);
      this.touchLevel(side, level, market);
    } else if (order.status === 'PENDING_TRIGGER') {
      market.stops.remove(order);
    }
    order.updatedAt = this.ts;
  }

  /** Bookkeeping when an order reaches a final state. */
  private finish(order: Order): void {
    this.touch(order);
    order.updatedAt = this.ts;
    this.unregister(order);
    if (this.risk !== null) this.risk.reserve(order);
  }

  // The F_REGISTERED flag answers "is it in the registry?" without a hash lookup (most finished orders,
  // takers filled at once, never were).
  private register(order: Order): void {
    if ((order.flags & F_REGISTERED) !== 0) return;
    order.flags |= F_REGISTERED;
    this.orders.set(order.id, order);
    let owner = this.owners.get(order.accountId);
    if (owner === undefined) {
      owner = new Owner();
      this.owners.set(order.accountId, owner);
    }
    owner.append(order);
    const coid = order.clientOrderId;
    if (coid !== null) owner.byClientId.set(coid, order);
    if (order.tif === 'DAY') this.dayOrders.add(order);
  }

  private unregister(order: Order): void {
    if ((order.flags & F_REGISTERED) === 0) return;
    order.flags &= ~F_REGISTERED;
    this.orders.delete(order.id);
    const owner = this.owners.get(order.accountId)!;
    owner.unlink(order);
    const coid = order.clientOrderId;
    if (coid !== null && owner.byClientId.get(coid) === order) owner.byClientId.delete(coid);
    if (order.tif === 'DAY') this.dayOrders.delete(order);
  }

  private marketOf(ins: Instrument): Market {
    const m = this.marketById[ins.id];
    return m !== undefined ? m : this.markets.get(ins.symbol)!;
  }

  /** Lists an order for a state event at the end of this command (F_DIRTY is cleared when it is emitted). */
  touch(order: Order): void {
    if ((order.flags & F_DIRTY) === 0) {
      order.flags |= F_DIRTY;
      this.dirtyOrders[this.dirtyOrderCount++] = order;
    }
  }

  private touchLevel(side: BookSide, level: Level, market: Market): void {
    if (level.dirtySeq !== this.seq) {
      level.dirtySeq = this.seq;
      const n = this.dirtyLevelCount++;
      this.dirtyLevels[n] = level;
      this.dirtyLevelSides[n] = side;
      this.dirtyLevelMarkets[n] = market;
    }
  }

  private flushCommand(): void {
    const log = this.log;
    if (this.risk !== null) this.risk.endCommand();
    const nOrders = this.dirtyOrderCount;
    if (nOrders > 0) {
      const orders = this.dirtyOrders;
      for (let i = 0; i < nOrders; i++) {
        const o = orders[i]!;
        orders[i] = null;
        o.flags &= ~F_DIRTY;
        if (this.emitting) o.record(log);
        if (!o.isLive) this.recycle(o);
      }
      this.dirtyOrderCount = 0;
    }
    if (this.risk !== null) this.risk.emitState(log);
    const nLevels = this.dirtyLevelCount;
    if (nLevels > 0) {
      const levels = this.dirtyLevels;
      const sides = this.dirtyLevelSides;
      const markets = this.dirtyLevelMarkets;
      if (!this.emitting) {
        levels.fill(null, 0, nLevels);
        sides.fill(null, 0, nLevels);
        markets.fill(null, 0, nLevels);
        this.dirtyLevelCount = 0;
        return;
      }
      for (let i = 0; i < nLevels; i++) {
        const level = levels[i]!;
        const side = sides[i]!;
        const market = markets[i]!;
        levels[i] = null;
        sides[i] = null;
        markets[i] = null;
        if (level.count === 0) {
          // The level emptied. If its price was re-created by this command (a Level is a new object then),
          // that level reports the price; if it emptied more than once, report "0" once.
          if (side.byPrice.has(level.priceTicks)) continue;
          if (this.reportedGone(side, level.priceTicks)) continue;
        }
        const o = log.begin(K_BOOK);
        const f = log.f;
        f[o + B_INSTRUMENT] = market.instrument.id;
        f[o + B_SELL] = side.side === 'BUY' ? 0 : 1;
        f[o + B_PRICE] = level.priceTicks;
        f[o + B_QTY] = level.totalLots;
      }
      for (let i = 0; i < this.goneCount; i++) this.goneSides[i] = null;
      this.goneCount = 0;
      this.dirtyLevelCount = 0;
    }
  }

  /**
   * An Order object for a new order: a recycled one when there is one. Most orders live for a few commands
   * (a taker fills at once, most resting orders are cancelled soon), and a fresh object per order was most
   * of the matching core's garbage: it outlives young-generation collections while it rests, so each one
   * was copied and promoted before it died.
   */
  private newOrder(): Order {
    const spare = this.spareOrders;
    return spare.length > 0 ? spare.pop()! : new Order();
  }

  /**
   * Keeps a final order's object for reuse. Called at the end of the command, after its last event: by
   * then it is in no book, stop book, registry or list of the engine's, and the risk core forgets it.
   */
  private recycle(o: Order): void {
    this.risk?.forget(o);
    if (this.spareOrders.length < MAX_SPARE_ORDERS) this.spareOrders.push(o);
  }

  /** Whether this command already reported the level at (side, price) empty; notes it if not. */
  private reportedGone(side: BookSide, priceTicks: number): boolean {
    const sides = this.goneSides;
    const prices = this.gonePrices;
    const n = this.goneCount;
    for (let i = 0; i < n; i++) if (prices[i] === priceTicks && sides[i] === side) return true;
    sides[n] = side;
    prices[n] = priceTicks;
    this.goneCount = n + 1;
    return false;
  }

  /** Builds an engine-generated order (stop-loss, take-profit, liquidation) for the risk core. */
  internalOrder(
    market: Market,
    accountId: number,
    side: Side,
    type: OrderType,
    tif: TimeInForce,
    priceTicks: number,
    quantityLots: number,
    leverage: number,
    origin: OrderOrigin,
  ): Order {
    const order = this.newOrder().init(
      this.nextOrderId++,
      accountId,
      null,
      market.instrument,
      side,
      type,
      tif,
      priceTicks,
      0,
      quantityLots,
      false,
      true,
      leverage,
      market.instrument.takerFeeRate,
      origin,
      this.ts,
    );
    this.touch(order);
    return order;
  }

  /** Emits an event from the risk core with this command's stamp. */
  emit(event: EngineEvent): void {
    if (this.emitting) this.log.object(event);
  }
}
