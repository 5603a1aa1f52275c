/**
 * One net position (one-way mode) of an account on an instrument, and the arithmetic of a fill on it.
 *
 * `lots` is signed (long > 0, short < 0). `basis` is the exact cost of the open lots (what was paid for a
 * long, received for a short), so the average entry price is basis / |lots| and realized PnL on a reduce is
 * the closing notional against the share of the basis released (money.ts rounding). A position that goes
 * back to zero is CLOSED (or LIQUIDATED) for good: the next fill opens a new position with a new id.
 */
import type { PositionStatus } from '../enums.js';
import type { PositionEvent, PositionState } from '../events.js';
import type { Instrument } from '../instrument.js';
import { add, format, mulDiv, neg, ONE, sub, type Units } from '../units.js';
import { initialMargin, shareDown, shareEven } from './money.js';

export class Position {
  readonly id: number;
  readonly accountId: number;
  readonly instrument: Instrument;
  readonly openedAt: number;
  lots = 0;
  basis: Units = 0;
  margin: Units = 0;
  leverage: number;
  realizedPnl: Units = 0;
  fees: Units = 0;
  funding: Units = 0;
  volume: Units = 0;
  tradeCount = 0;
  stopLossTicks = 0;
  takeProfitTicks = 0;
  status: PositionStatus = 'OPEN';
  closedAt: number | null = null;
  updatedAt: number;
  dirtySeq = 0;

  constructor(id: number, accountId: number, instrument: Instrument, leverage: number, ts: number) {
    this.id = id;
    this.accountId = accountId;
    this.instrument = instrument;
    this.leverage = leverage;
    this.openedAt = ts;
    this.updatedAt = ts;
  }

  get isLong(): boolean {
    return this.lots > 0;
  }

  /** Basis with the sign of the exposure: +cost of a long, -proceeds of a short. */
  get signedBasis(): Units {
    return this.lots >= 0 ? this.basis : neg(this.basis);
  }

  /** Unrealized PnL at a price (units); 0 without one. */
  unrealizedAt(priceUnits: Units): Units {
    if (this.lots === 0 || priceUnits === 0) return 0;
    const abs = this.lots > 0 ? this.lots : -this.lots;
    // The value at the price, truncated to the 1e-8 (a mark need not sit on the tick grid).
    const value = mulDiv(priceUnits, this.instrument.qtyUnits(abs), ONE, 'down');
    return this.lots > 0 ? sub(value, this.basis) : sub(this.basis, value);
  }

  /**
   * Increases the position by `lots` in its direction (or opens it) at `priceTicks`, holding margin at the
   * order's leverage.
   */
  open(sign: 1 | -1, lots: number, priceTicks: number, leverage: number): void {
    const notional = this.instrument.notional(priceTicks, lots);
    if (this.lots === 0) this.leverage = leverage;
    this.basis = add(this.basis, notional);
    this.margin = add(this.margin, initialMargin(notional, leverage));
    this.lots += sign * lots;
  }

  /**
   * Reduces the position by `lots` (at most its size) at `priceTicks`. Returns the realized PnL and frees
   * margin. The caller closes the position when it reaches zero.
   */
  reduce(lots: number, priceTicks: number): { pnl: Units; marginReleased: Units } {
    const size = this.lots > 0 ? this.lots : -this.lots;
    const closingNotional = this.instrument.notional(priceTicks, lots);
    const released = shareEven(this.basis, lots, size);
    const marginReleased = shareDown(this.margin, lots, size);
    const pnl = this.lots > 0 ? sub(closingNotional, released) : sub(released, closingNotional);
    this.basis = sub(this.basis, released);
    this.margin = sub(this.margin, marginReleased);
    this.lots += this.lots > 0 ? -lots : lots;
    this.realizedPnl = add(this.realizedPnl, pnl);
    return { pnl, marginReleased };
  }

  /** Average entry price in units (half-even), or 0 when flat. */
  entryUnits(): Units {
    if (this.lots === 0) return 0;
    const abs = this.lots > 0 ? this.lots : -this.lots;
    return mulDiv(this.basis, ONE, this.instrument.qtyUnits(abs), 'half_even');
  }

  /** The position's current state as a `position` event (built as one literal: this runs once per change). */
  toEvent(seq: number, ts: number, markUnits: Units, liquidationUnits: Units | null): PositionEvent {
    const ins = this.instrument;
    const abs = this.lots > 0 ? this.lots : -this.lots;
    const upnl = this.unrealizedAt(markUnits);
    return {
      type: 'position',
      seq,
      ts,
      positionId: this.id,
      accountId: this.accountId,
      symbol: ins.symbol,
      side: this.lots > 0 ? 'LONG' : this.lots < 0 ? 'SHORT' : 'FLAT',
      quantity: ins.qtyString(abs),
      entryPrice: this.lots === 0 ? null : format(this.entryUnits()),
      markPrice: markUnits === 0 ? null : format(markUnits),
      realizedPnl: this.realizedPnl === 0 ? '0' : format(this.realizedPnl),
      unrealizedPnl: upnl === 0 ? '0' : format(upnl),
      leverage: String(this.leverage),
      margin: format(this.margin),
      liquidationPrice: liquidationUnits === null ? null : format(liquidationUnits),
      stopLoss: this.stopLossTicks === 0 ? null : ins.priceString(this.stopLossTicks),
      takeProfit: this.takeProfitTicks === 0 ? null : ins.priceString(this.takeProfitTicks),
      tradeCount: this.tradeCount,
      volume: format(this.volume),
      fees: format(this.fees),
      funding: this.funding === 0 ? '0' : format(this.funding),
      status: this.status,
      openedAt: this.openedAt,
      closedAt: this.closedAt,
      updatedAt: this.updatedAt,
    };
  }

  toState(markUnits: Units, liquidationUnits: Units | null): PositionState {
    const { type: _t, seq: _s, ts: _ts, ...state } = this.toEvent(0, 0, markUnits, liquidationUnits);
    return state;
  }
}
