/**
 * One net position (one-way mode) of an account on an instrument, and the arithmetic of a fill on it.
 *
 * `lots` is signed (long > 0, short < 0). `basis` is the exact cost of the open lots (what was paid for a
 * long, received for a short), so the average entry price is basis / |lots| and realized PnL on a reduce is
 * the closing notional against the share of the basis released (money.ts rounding). A position that goes
 * back to zero is CLOSED (or LIQUIDATED) for good: the next fill opens a new position with a new id.
 */
import { POSITION_STATUSES, type PositionStatus } from '../enums.js';
import {
  type EventLog,
  K_POSITION,
  P_ACCOUNT,
  P_CLOSED,
  P_ENTRY,
  P_FEES,
  P_FUNDING,
  P_ID,
  P_INSTRUMENT,
  P_LEVERAGE,
  P_LIQUIDATION,
  P_LOTS,
  P_MARGIN,
  P_MARK,
  P_OPENED,
  P_REALIZED,
  P_STATUS,
  P_STOP_LOSS,
  P_TAKE_PROFIT,
  P_TRADES,
  P_UNREALIZED,
  P_UPDATED,
  P_VOLUME,
  scratch,
} from '../event-log.js';
import type { PositionState } from '../events.js';
import type { Instrument } from '../instrument.js';
import { add, mulDiv, neg, ONE, sub, type Units } from '../units.js';
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
  // The last unrealizedAt: its inputs and result.
  private kPrice: Units = 0;
  private kLots = 0;
  private kBasis: Units = 0;
  private kUpnl: Units = 0;

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
    // Asked for at every order's margin check and every account state, mostly at an unchanged mark and size.
    if (priceUnits === this.kPrice && this.lots === this.kLots && this.basis === this.kBasis)
      return this.kUpnl;
    const abs = this.lots > 0 ? this.lots : -this.lots;
    // The value at the price, truncated to the 1e-8 (a mark need not sit on the tick grid).
    const value = mulDiv(priceUnits, this.instrument.qtyUnits(abs), ONE, 'down');
    const upnl = this.lots > 0 ? sub(value, this.basis) : sub(this.basis, value);
    this.kPrice = priceUnits;
    this.kLots = this.lots;
    this.kBasis = this.basis;
    this.kUpnl = upnl;
    return upnl;
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
   * margin (by shareDown: what `margin` drops by). The caller closes the position when it reaches zero.
   */
  reduce(lots: number, priceTicks: number): Units {
    const size = this.lots > 0 ? this.lots : -this.lots;
    const closingNotional = this.instrument.notional(priceTicks, lots);
    const released = shareEven(this.basis, lots, size);
    const marginReleased = shareDown(this.margin, lots, size);
    const pnl = this.lots > 0 ? sub(closingNotional, released) : sub(released, closingNotional);
    this.basis = sub(this.basis, released);
    this.margin = sub(this.margin, marginReleased);
    this.lots += this.lots > 0 ? -lots : lots;
    this.realizedPnl = add(this.realizedPnl, pnl);
    return pnl;
  }

  /** Average entry price in units (half-even), or 0 when flat. */
  entryUnits(): Units {
    if (this.lots === 0) return 0;
    const abs = this.lots > 0 ? this.lots : -this.lots;
    return mulDiv(this.basis, ONE, this.instrument.qtyUnits(abs), 'half_even');
  }

  /** Appends the position's current state to `log` as a position record. */
  record(log: EventLog, markUnits: Units, liquidationUnits: Units | null): void {
    const o = log.begin(K_POSITION);
    const f = log.f;
    f[o + P_ID] = this.id;
    f[o + P_ACCOUNT] = this.accountId;
    f[o + P_INSTRUMENT] = this.instrument.id;
    f[o + P_LOTS] = this.lots;
    log.amount(o + P_ENTRY, this.lots === 0 ? 0 : this.entryUnits());
    log.amount(o + P_MARK, markUnits);
    log.amount(o + P_REALIZED, this.realizedPnl);
    log.amount(o + P_UNREALIZED, this.unrealizedAt(markUnits));
    f[o + P_LEVERAGE] = this.leverage;
    log.amount(o + P_MARGIN, this.margin);
    log.amountOrNull(o + P_LIQUIDATION, liquidationUnits);
    f[o + P_STOP_LOSS] = this.stopLossTicks;
    f[o + P_TAKE_PROFIT] = this.takeProfitTicks;
    f[o + P_TRADES] = this.tradeCount;
    log.amount(o + P_VOLUME, this.volume);
    log.amount(o + P_FEES, this.fees);
    log.amount(o + P_FUNDING, this.funding);
    f[o + P_STATUS] = POSITION_STATUSES.indexOf(this.status);
    f[o + P_OPENED] = this.openedAt;
    f[o + P_CLOSED] = this.closedAt === null ? -1 : this.closedAt;
    f[o + P_UPDATED] = this.updatedAt;
  }

  /** The position's state as queries answer it (formatted by the same reader as its events). */
  toState(markUnits: Units, liquidationUnits: Units | null): PositionState {
    const log = scratch(this.instrument.id, this.instrument);
    this.record(log, markUnits, liquidationUnits);
    const { type: _t, seq: _s, ts: _ts, ...state } = log.position(0);
    return state;
  }
}
