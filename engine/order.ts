/**
 * A live order inside the engine, and its conversion to the public OrderState.
 * Quantities are lots and prices ticks of the order's instrument (integers); see instrument.ts.
 */
import type { CancelReason, OrderStatus, OrderType, RejectReason, Side, TimeInForce } from './enums.js';
import type { OrderEvent, OrderState } from './events.js';
import type { Instrument } from './instrument.js';
import { divRound, formatUnits } from './numeric.js';

export type OrderOrigin = OrderState['origin'];

export class Order {
  // identity
  readonly id: number;
  readonly accountId: number;
  readonly clientOrderId: string | null;
  readonly instrument: Instrument;
  readonly side: Side;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly postOnly: boolean;
  readonly reduceOnly: boolean;
  readonly origin: OrderOrigin;
  readonly createdAt: number;
  /** Whole number. */
  leverage: number;
  /** Fee rate charged when this order takes (1e-8 units). */
  commissionRate: bigint;

  // prices (ticks); priceTicks is 0 for market orders, stopTicks 0 for non-stop orders
  priceTicks: number;
  stopTicks: number;

  // quantities (lots): filled + remaining + cancelled = quantity
  quantityLots: number;
  filledLots = 0;
  remainingLots: number;
  cancelledLots = 0;
  /** Sum over fills of priceTicks * lots (tick-lot units), exact. */
  filledCost = 0n;

  status: OrderStatus;
  rejectionReason: RejectReason | null = null;
  cancelReason: CancelReason | null = null;
  updatedAt: number;
  expiredAt: number | null = null;

  // book links: an intrusive doubly linked list per price level keeps cancel O(1)
  prev: Order | null = null;
  next: Order | null = null;
  /** The level this order rests on, when it rests. */
  level: import('./book.js').Level | null = null;

  /** Risk: initial margin plus worst-case fee reserved for the unfilled part (1e-8 units). */
  reserved = 0n;
  /** Risk: the price the reservation is computed at (the limit; for market orders the worst level reached). */
  reserveTicks = 0;

  /** Marks this order as already listed in the current command's changed-orders list. */
  dirtySeq = 0;

  constructor(
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
    commissionRate: bigint,
    origin: OrderOrigin,
    ts: number,
  ) {
    this.id = id;
    this.accountId = accountId;
    this.clientOrderId = clientOrderId;
    this.instrument = instrument;
    this.side = side;
    this.type = type;
    this.tif = tif;
    this.priceTicks = priceTicks;
    this.stopTicks = stopTicks;
    this.quantityLots = quantityLots;
    this.remainingLots = quantityLots;
    this.postOnly = postOnly;
    this.reduceOnly = reduceOnly;
    this.leverage = leverage;
    this.commissionRate = commissionRate;
    this.origin = origin;
    this.status = stopTicks > 0 ? 'PENDING_TRIGGER' : 'NEW';
    this.createdAt = ts;
    this.updatedAt = ts;
  }

  get isLive(): boolean {
    return this.status === 'NEW' || this.status === 'PARTIALLY_FILLED' || this.status === 'PENDING_TRIGGER';
  }

  /** Records a fill of `lots` at `priceTicks`. */
  fill(lots: number, priceTicks: number): void {
    this.filledLots += lots;
    this.remainingLots -= lots;
    this.filledCost += BigInt(priceTicks) * BigInt(lots);
    this.status = this.remainingLots === 0 ? 'FILLED' : 'PARTIALLY_FILLED';
  }

  /** Ends the order, moving what was left to cancelled. */
  cancel(reason: CancelReason, status: OrderStatus = 'CANCELLED'): void {
    this.cancelledLots += this.remainingLots;
    this.remainingLots = 0;
    this.status = status;
    this.cancelReason = reason;
  }

  toState(): OrderState {
    const { type: _t, seq: _s, ts: _ts, ...state } = this.toEvent(0, 0);
    return state;
  }

  /** The order's current state as an `order` event (built as one literal: this runs once per change). */
  toEvent(seq: number, ts: number): OrderEvent {
    const ins = this.instrument;
    const filledNotional = this.filledCost * ins.tickUnits * ins.lotUnits;
    // tick-lot units are 1e-16 each: bring the notional back to 1e-8 (exact: the product of two 8-place
    // decimals has at most 16 places, so divide by 1e8 only when it divides; otherwise round half-even).
    const notionalUnits = divRound(filledNotional, 100_000_000n, 'half_even');
    return {
      type: 'order',
      seq,
      ts,
      orderId: this.id,
      accountId: this.accountId,
      clientOrderId: this.clientOrderId,
      symbol: ins.symbol,
      side: this.side,
      orderType: this.type,
      timeInForce: this.tif,
      price: this.priceTicks > 0 ? ins.priceString(this.priceTicks) : null,
      stopPrice: this.stopTicks > 0 ? ins.priceString(this.stopTicks) : null,
      quantity: ins.qtyString(this.quantityLots),
      filledQuantity: ins.qtyString(this.filledLots),
      remainingQuantity: ins.qtyString(this.remainingLots),
      cancelledQuantity: ins.qtyString(this.cancelledLots),
      averagePrice: this.filledLots > 0 ? averagePrice(this) : null,
      filledNotional: this.filledLots > 0 ? formatUnits(notionalUnits) : '0',
      status: this.status,
      postOnly: this.postOnly,
      reduceOnly: this.reduceOnly,
      leverage: String(this.leverage),
      commissionRate: formatUnits(this.commissionRate),
      rejectionReason: this.rejectionReason,
      cancelReason: this.cancelReason,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      expiredAt: this.expiredAt,
      origin: this.origin,
    };
  }
}

/** Volume-weighted average fill price in 1e-8 units, rounded half-even (the one rule for averages). */
export function averagePrice(o: Order): string {
  const ins = o.instrument;
  // avg ticks = filledCost / filledLots; in units: filledCost * tickUnits / filledLots.
  return formatUnits(divRound(o.filledCost * ins.tickUnits, BigInt(o.filledLots), 'half_even'));
}
