/**
 * A live order inside the engine, and its conversion to the public OrderState.
 * Quantities are lots and prices ticks of the order's instrument (integers); see instrument.ts.
 *
 * Layout. A book holds millions of these, so the object is kept small and its fields monomorphic:
 * - the closed vocabularies (side, type, time in force, status, origin, reasons) and the booleans are packed
 *   into one small-integer `flags` word; the string-valued properties are getters over it;
 * - fields most orders never use (client order id, stop price, expiry, a commission rate other than the
 *   instrument's, the risk core's reservation) live in a side object allocated on first use;
 * - fields are assigned in the constructor (`declare`d, not class fields), so V8 tracks their
 *   representations (small integers stay unboxed, the timestamps get one mutable double box each) instead
 *   of making every field generic, which boxes a fresh HeapNumber on every timestamp store.
 */
import type { Level } from './book.js';
import {
  CANCEL_REASONS,
  type CancelReason,
  ORDER_STATUSES,
  ORDER_TYPES,
  type OrderStatus,
  type OrderType,
  REJECT_REASONS,
  type RejectReason,
  type Side,
  TIME_IN_FORCE,
  type TimeInForce,
} from './enums.js';
import {
  type EventLog,
  K_ORDER,
  O_ACCOUNT,
  O_CANCELLED,
  O_CLIENT_ID,
  O_COMMISSION,
  O_COST,
  O_CREATED,
  O_EXPIRED,
  O_FILLED,
  O_ID,
  O_INSTRUMENT,
  O_LEVERAGE,
  O_PRICE,
  O_QTY,
  O_REMAINING,
  O_STOP,
  O_UPDATED,
  O_WORD,
  ORIGINS,
  OW_CANCEL_MASK,
  OW_CANCEL_SHIFT,
  OW_ORIGIN_SHIFT,
  OW_POST_ONLY,
  OW_REDUCE_ONLY,
  OW_REJECT_MASK,
  OW_REJECT_SHIFT,
  OW_SELL,
  OW_STATUS_MASK,
  OW_STATUS_SHIFT,
  OW_TIF_SHIFT,
  OW_TYPE_SHIFT,
  scratch,
} from './event-log.js';
import type { OrderState } from './events.js';
import type { Instrument } from './instrument.js';
import type { Units } from './units.js';

export type OrderOrigin = OrderState['origin'];

// ---- the flags word -------------------------------------------------------------------------------------------
// The order word of event-log.ts (side, type, time in force, post-only, reduce-only, status, origin, reasons),
// which a record carries as it is, plus two bits of the engine's own: 12 registered, 13 dirty.
const F_SELL = OW_SELL;
const TYPE_SHIFT = OW_TYPE_SHIFT;
const TIF_SHIFT = OW_TIF_SHIFT;
const F_POST_ONLY = OW_POST_ONLY;
const F_REDUCE_ONLY = OW_REDUCE_ONLY;
/** A maker with either flag may have to be clipped before it fills (reduce-only, or a cash account's sell). */
export const F_MAY_BE_UNBACKED = F_SELL | F_REDUCE_ONLY;
const STATUS_SHIFT = OW_STATUS_SHIFT;
const STATUS_MASK = OW_STATUS_MASK;
const ORIGIN_SHIFT = OW_ORIGIN_SHIFT;
/** The order is in the engine's live-order registry (Engine.register). */
export const F_REGISTERED = 1 << 12;
/** The order is listed in the current command's changed orders (cleared when its event is emitted). */
export const F_DIRTY = 1 << 13;
const CANCEL_SHIFT = OW_CANCEL_SHIFT;
const CANCEL_MASK = OW_CANCEL_MASK;
const REJECT_SHIFT = OW_REJECT_SHIFT;
const REJECT_MASK = OW_REJECT_MASK;

/** Status codes: indexes into ORDER_STATUSES. Live orders are the ones at or below ST_PARTIAL. */
export const ST_PENDING = 0;
export const ST_NEW = 1;
export const ST_PARTIAL = 2;
export const ST_FILLED = 3;
export const ST_CANCELLED = 4;
export const ST_REJECTED = 5;
export const ST_EXPIRED = 6;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A blank Order's instrument until `init` gives it one (never read before that). */
const NO_INSTRUMENT = null as unknown as Instrument;

/** The fields most orders never set (`declare`d: reset() assigns them all, from the constructor and on reuse). */
class OrderExtra {
  declare clientOrderId: string | null;
  declare stopTicks: number;
  declare expiredAt: number | null;
  /** Set only when it differs from the instrument's taker rate. */
  declare commissionRate: Units | null;
  /** Risk: initial margin plus worst-case fee reserved for the unfilled part (1e-8 units). */
  declare reserved: Units;
  /** Risk: the price the reservation is computed at (the limit; for market orders the worst level reached). */
  declare reserveTicks: number;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.clientOrderId = null;
    this.stopTicks = 0;
    this.expiredAt = null;
    this.commissionRate = null;
    this.reserved = 0;
    this.reserveTicks = 0;
  }
}

export class Order {
  // Set once per life by init(): an Order object is recycled for a new order once its last event is out
  // (Engine.recycle), so these are not `readonly`, but nothing changes them during an order's life.
  declare id: number;
  declare accountId: number;
  declare instrument: Instrument;
  /** Whole number. */
  declare leverage: number;
  /** Limit price in ticks; 0 for market and stop-market orders. */
  declare priceTicks: number;
  // quantities (lots): filled + remaining + cancelled = quantity
  declare quantityLots: number;
  declare filledLots: number;
  declare remainingLots: number;
  declare cancelledLots: number;
  /** Sum over fills of priceTicks * lots (tick-lot units), exact: a number while safe, a bigint beyond. */
  declare private cost: number | bigint;
  declare flags: number;
  declare createdAt: number;
  declare updatedAt: number;
  // book links: an intrusive doubly linked list per price level keeps cancel O(1)
  declare prev: Order | null;
  declare next: Order | null;
  /** The level this order rests on, when it rests. */
  declare level: Level | null;
  // the account's live orders: an intrusive doubly linked list (Engine's Owner), oldest registration first
  declare ownerPrev: Order | null;
  declare ownerNext: Order | null;
  declare private x: OrderExtra | null;

  /**
   * A blank object; `init` makes it an order. Every field is assigned here, in one order, so that V8 sizes
   * the object for all of them in-object (it estimates from the constructor's assignments) and every
   * Order shares one shape, fresh or recycled (Engine.newOrder).
   */
  constructor() {
    this.id = 0;
    this.accountId = 0;
    this.instrument = NO_INSTRUMENT;
    this.leverage = 0;
    this.priceTicks = 0;
    this.quantityLots = 0;
    this.filledLots = 0;
    this.remainingLots = 0;
    this.cancelledLots = 0;
    this.cost = 0;
    this.flags = 0;
    this.createdAt = 0;
    this.updatedAt = 0;
    this.prev = null;
    this.next = null;
    this.level = null;
    this.ownerPrev = null;
    this.ownerNext = null;
    this.x = null;
  }

  /** Makes this object a new order (a fresh object, or a recycled one: nothing of its last order stays). */
  init(
    id: number,
    accountId: number,
    clientOrderId: string | null,
    instrument: Instrument,
    side: Side,
    type: OrderType,
    tif: TimeInForce,
    priceTicks: number,
    stopTicks: number,
    quantityLots: number,
    postOnly: boolean,
    reduceOnly: boolean,
    leverage: number,
    commissionRate: Units,
    origin: OrderOrigin,
    ts: number,
  ): this {
    this.id = id;
    this.accountId = accountId;
    this.instrument = instrument;
    this.leverage = leverage;
    this.priceTicks = priceTicks;
    this.quantityLots = quantityLots;
    this.filledLots = 0;
    this.remainingLots = quantityLots;
    this.cancelledLots = 0;
    this.cost = 0;
    this.flags =
      (side === 'BUY' ? 0 : F_SELL) |
      (typeIndex(type) << TYPE_SHIFT) |
      (tifIndex(tif) << TIF_SHIFT) |
      (postOnly ? F_POST_ONLY : 0) |
      (reduceOnly ? F_REDUCE_ONLY : 0) |
      ((stopTicks > 0 ? ST_PENDING : ST_NEW) << STATUS_SHIFT) |
      (originIndex(origin) << ORIGIN_SHIFT);
    this.createdAt = ts;
    this.updatedAt = ts;
    this.prev = null;
    this.next = null;
    this.level = null;
    this.ownerPrev = null;
    this.ownerNext = null;
    const old = this.x;
    if (old !== null) old.reset();
    if (clientOrderId !== null || stopTicks !== 0 || commissionRate !== instrument.takerFeeRate) {
      const x = this.extra();
      x.clientOrderId = clientOrderId;
      x.stopTicks = stopTicks;
      if (commissionRate !== instrument.takerFeeRate) x.commissionRate = commissionRate;
    }
    return this;
  }

  private extra(): OrderExtra {
    let x = this.x;
    if (x === null) {
      x = new OrderExtra();
      this.x = x;
    }
    return x;
  }

  // ---- packed and cold fields as properties ---------------------------------------------------------------

  get clientOrderId(): string | null {
    const x = this.x;
    return x === null ? null : x.clientOrderId;
  }

  get side(): Side {
    return (this.flags & F_SELL) === 0 ? 'BUY' : 'SELL';
  }

  get isBuy(): boolean {
    return (this.flags & F_SELL) === 0;
  }

  get type(): OrderType {
    return ORDER_TYPES[(this.flags >> TYPE_SHIFT) & 3];
  }

  get tif(): TimeInForce {
    return TIME_IN_FORCE[(this.flags >> TIF_SHIFT) & 3];
  }

  get postOnly(): boolean {
    return (this.flags & F_POST_ONLY) !== 0;
  }

  get reduceOnly(): boolean {
    return (this.flags & F_REDUCE_ONLY) !== 0;
  }

  get origin(): OrderOrigin {
    return ORIGINS[(this.flags >> ORIGIN_SHIFT) & 3];
  }

  /** Stop price in ticks; 0 for non-stop orders. */
  get stopTicks(): number {
    const x = this.x;
    return x === null ? 0 : x.stopTicks;
  }

  set stopTicks(ticks: number) {
    if (ticks !== 0 || this.x !== null) this.extra().stopTicks = ticks;
  }

  /** Fee rate charged when this order takes (1e-8 units). */
  get commissionRate(): Units {
    const x = this.x;
    return x === null || x.commissionRate === null ? this.instrument.takerFeeRate : x.commissionRate;
  }

  set commissionRate(rate: Units) {
    if (rate !== this.instrument.takerFeeRate) this.extra().commissionRate = rate;
    else if (this.x !== null) this.x.commissionRate = null;
  }

  get statusCode(): number {
    return (this.flags & STATUS_MASK) >> STATUS_SHIFT;
  }

  setStatusCode(code: number): void {
    this.flags = (this.flags & ~STATUS_MASK) | (code << STATUS_SHIFT);
  }

  get status(): OrderStatus {
    return ORDER_STATUSES[(this.flags & STATUS_MASK) >> STATUS_SHIFT];
  }

  set status(status: OrderStatus) {
    this.setStatusCode(ORDER_STATUSES.indexOf(status));
  }

  get rejectionReason(): RejectReason | null {
    const i = (this.flags & REJECT_MASK) >> REJECT_SHIFT;
    return i === 0 ? null : REJECT_REASONS[i - 1];
  }

  set rejectionReason(reason: RejectReason | null) {
    const i = reason === null ? 0 : REJECT_REASONS.indexOf(reason) + 1;
    this.flags = (this.flags & ~REJECT_MASK) | (i << REJECT_SHIFT);
  }

  get cancelReason(): CancelReason | null {
    const i = (this.flags & CANCEL_MASK) >> CANCEL_SHIFT;
    return i === 0 ? null : CANCEL_REASONS[i - 1];
  }

  set cancelReason(reason: CancelReason | null) {
    const i = reason === null ? 0 : CANCEL_REASONS.indexOf(reason) + 1;
    this.flags = (this.flags & ~CANCEL_MASK) | (i << CANCEL_SHIFT);
  }

  get expiredAt(): number | null {
    const x = this.x;
    return x === null ? null : x.expiredAt;
  }

  set expiredAt(ts: number | null) {
    if (ts !== null || this.x !== null) this.extra().expiredAt = ts;
  }

  /** Sum over fills of priceTicks * lots (tick-lot units), exact. */
  get filledCost(): bigint {
    const c = this.cost;
    return typeof c === 'number' ? BigInt(c) : c;
  }

  set filledCost(cost: bigint) {
    this.cost = cost <= BigInt(MAX_SAFE) ? Number(cost) : cost;
  }

  get reserved(): Units {
    const x = this.x;
    return x === null ? 0 : x.reserved;
  }

  set reserved(units: Units) {
    if (units !== 0 || this.x !== null) this.extra().reserved = units;
  }

  get reserveTicks(): number {
    const x = this.x;
    return x === null ? 0 : x.reserveTicks;
  }

  set reserveTicks(ticks: number) {
    if (ticks !== 0 || this.x !== null) this.extra().reserveTicks = ticks;
  }

  /** In the engine's live-order registry. */
  get registered(): boolean {
    return (this.flags & F_REGISTERED) !== 0;
  }

  set registered(on: boolean) {
    this.flags = on ? this.flags | F_REGISTERED : this.flags & ~F_REGISTERED;
  }

  get isLive(): boolean {
    return (this.flags & STATUS_MASK) >> STATUS_SHIFT <= ST_PARTIAL;
  }

  // ---- life cycle -----------------------------------------------------------------------------------------

  /** Records a fill of `lots` at `priceTicks`. */
  fill(lots: number, priceTicks: number): void {
    this.filledLots += lots;
    this.remainingLots -= lots;
    const c = this.cost;
    if (typeof c === 'number') {
      // Exact while the sum stays a safe integer; a product or sum past 2^53 rounds to >= 2^53 and so
      // fails the test, and the bigint path redoes it exactly.
      const sum = c + priceTicks * lots;
      this.cost = sum <= MAX_SAFE ? sum : BigInt(c) + BigInt(priceTicks) * BigInt(lots);
    } else {
      this.cost = c + BigInt(priceTicks) * BigInt(lots);
    }
    this.setStatusCode(this.remainingLots === 0 ? ST_FILLED : ST_PARTIAL);
  }

  /** Moves `lots` (fewer than remain) of what is left to cancelled; the order stays live (a risk clip). */
  cancelPart(lots: number): void {
    this.remainingLots -= lots;
    this.cancelledLots += lots;
  }

  /** Ends the order, moving what was left to cancelled. */
  cancel(reason: CancelReason, status: OrderStatus = 'CANCELLED'): void {
    this.cancelledLots += this.remainingLots;
    this.remainingLots = 0;
    this.setStatusCode(status === 'CANCELLED' ? ST_CANCELLED : ORDER_STATUSES.indexOf(status));
    this.cancelReason = reason;
  }

  /** Refuses the order: nothing of it remains, and the reason is recorded. */
  reject(reason: RejectReason): void {
    this.cancelledLots += this.remainingLots;
    this.remainingLots = 0;
    this.setStatusCode(ST_REJECTED);
    this.rejectionReason = reason;
  }

  /** The order's state as queries answer it (formatted by the same reader as its events). */
  toState(): OrderState {
    const log = scratch(this.instrument.id, this.instrument);
    this.record(log);
    const { type: _t, seq: _s, ts: _ts, ...state } = log.order(0);
    return state;
  }

  /** Appends the order's current state to `log` as an order record (once per changed order per command). */
  record(log: EventLog): void {
    const o = log.begin(K_ORDER);
    const f = log.f;
    const x = this.x;
    f[o + O_ID] = this.id;
    f[o + O_ACCOUNT] = this.accountId;
    f[o + O_INSTRUMENT] = this.instrument.id;
    f[o + O_WORD] = this.flags;
    f[o + O_PRICE] = this.priceTicks;
    f[o + O_QTY] = this.quantityLots;
    f[o + O_FILLED] = this.filledLots;
    f[o + O_REMAINING] = this.remainingLots;
    f[o + O_CANCELLED] = this.cancelledLots;
    log.amount(o + O_COST, this.cost);
    f[o + O_LEVERAGE] = this.leverage;
    f[o + O_CREATED] = this.createdAt;
    f[o + O_UPDATED] = this.updatedAt;
    if (x === null) {
      f[o + O_STOP] = 0;
      log.amount(o + O_COMMISSION, this.instrument.takerFeeRate);
      f[o + O_CLIENT_ID] = -1;
      f[o + O_EXPIRED] = -1;
    } else {
      f[o + O_STOP] = x.stopTicks;
      log.amount(
        o + O_COMMISSION,
        x.commissionRate === null ? this.instrument.takerFeeRate : x.commissionRate,
      );
      f[o + O_CLIENT_ID] = log.str(x.clientOrderId);
      f[o + O_EXPIRED] = x.expiredAt === null ? -1 : x.expiredAt;
    }
  }
}

function typeIndex(type: OrderType): number {
  return type === 'LIMIT' ? 1 : type === 'MARKET' ? 0 : type === 'STOP' ? 2 : 3;
}

function tifIndex(tif: TimeInForce): number {
  return tif === 'GTC' ? 0 : tif === 'IOC' ? 1 : tif === 'FOK' ? 2 : 3;
}

function originIndex(origin: OrderOrigin): number {
  return origin === 'USER' ? 0 : origin === 'STOP_LOSS' ? 1 : origin === 'TAKE_PROFIT' ? 2 : 3;
}
