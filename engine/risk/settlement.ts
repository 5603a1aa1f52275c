import type { Instrument } from '../instrument.js';
import type { Order } from '../order.js';
import type { FillMoney } from '../risk-port.js';
import { add, neg, sub, type Units } from '../units.js';
import type { Account } from './account.js';
import type { RiskCore } from './core.js';
import { fee } from './money.js';
import { Position } from './position.js';
import { reserve } from './pretrade.js';
import { positionReduced } from './reclip.js';

export function settle(
  core: RiskCore,
  taker: Order,
  maker: Order,
  priceTicks: number,
  lots: number,
  tradeId: number,
  money: FillMoney,
): void {
  const ins = taker.instrument;
  const notional = ins.notional(priceTicks, lots);
  const makerFee = fee(notional, ins.makerFeeRate);
  const takerFee = fee(notional, taker.commissionRate);
  const makerPnl = fill(core, maker, lots, priceTicks, notional, makerFee, tradeId);
  const takerPnl = fill(core, taker, lots, priceTicks, notional, takerFee, tradeId);
  money.makerFee = makerFee;
  money.takerFee = takerFee;
  money.makerRealizedPnl = makerPnl;
  money.takerRealizedPnl = takerPnl;
  reserve(core, maker);
  reserve(core, taker);
}

/** One side of a fill: position update, fee and realized PnL to the ledger. Returns the realized PnL. */
export function fill(
  core: RiskCore,
  order: Order,
  lots: number,
  priceTicks: number,
  notional: Units,
  f: Units,
  tradeId: number,
): Units {
  const account = core.accounts.get(order.accountId)!;
  const ins = order.instrument;
  const position = account.positions.get(ins.id) ?? openPosition(core, account, ins, order.leverage);
  position.fees = add(position.fees, f);
  position.volume = add(position.volume, notional);
  position.tradeCount++;
  core.touchPosition(position);
  const totals = core.totalsOf(account.currency);
  totals.fees = add(totals.fees, f);
  if (f !== 0) core.book(account, 'FEE', neg(f), order.id, tradeId, position.id);
  // One Booking per call would be garbage on every fill; moveAndRealize does not keep it.
  const booking = fillBooking;
  booking.closedAs = order.origin === 'LIQUIDATION' ? 'LIQUIDATED' : 'CLOSED';
  booking.orderId = order.id;
  booking.tradeId = tradeId;
  return moveAndRealize(
    core,
    account,
    order.instrument,
    order.side === 'BUY' ? 1 : -1,
    lots,
    priceTicks,
    order.leverage,
    booking,
  );
}

const fillBooking: Booking = { closedAs: 'CLOSED', entryType: 'PNL', orderId: null, tradeId: null };

/** How a position change is booked: what a position ending at zero becomes, and the ledger entry of its PnL. */
export interface Booking {
  closedAs: 'CLOSED' | 'LIQUIDATED';
  entryType: 'PNL' | 'LIQUIDATION';
  orderId: number | null;
  tradeId: number | null;
}

/**
 * Moves an account's position on an instrument by `sign * lots` at `priceTicks` in one-way mode: adds (or
 * opens), or reduces and realizes PnL on the reduced part, through zero into a new position. Margin moves
 * with it. Returns the realized PnL. Used by fills and by the insurance fund's takeover alike.
 */
export function moveAndRealize(
  core: RiskCore,
  account: Account,
  ins: Instrument,
  sign: 1 | -1,
  lots: number,
  priceTicks: number,
  leverage: number,
  booking: Booking,
): Units {
  const position = account.positions.get(ins.id) ?? openPosition(core, account, ins, leverage);
  core.touchPosition(position);
  if (position.lots === 0 || position.lots > 0 === sign > 0) {
    const before = position.margin;
    position.open(sign, lots, priceTicks, leverage);
    account.marginUsed = add(account.marginUsed, sub(position.margin, before));
    return 0;
  }
  const size = position.lots > 0 ? position.lots : -position.lots;
  const closing = Math.min(lots, size);
  positionReduced(core, account, ins);
  const marginBefore = position.margin;
  const pnl = position.reduce(closing, priceTicks);
  account.marginUsed = sub(account.marginUsed, sub(marginBefore, position.margin));
  account.realizedPnl = add(account.realizedPnl, pnl);
  if (pnl !== 0) core.book(account, booking.entryType, pnl, booking.orderId, booking.tradeId, position.id);
  if (position.lots === 0) retire(core, account, position, booking.closedAs);
  if (lots > closing) {
    // Through zero: the rest opens a new position in the other direction.
    const next = openPosition(core, account, ins, leverage);
    next.open(sign, lots - closing, priceTicks, leverage);
    account.marginUsed = add(account.marginUsed, next.margin);
  }
  return pnl;
}

/** Opens a new (empty) position; a closed one is never reused, so every open gets a new id. */
export function openPosition(core: RiskCore, account: Account, ins: Instrument, leverage: number): Position {
  const p = new Position(core.nextPositionId++, account.id, ins, leverage, core.engine.now);
  account.addPosition(p);
  let set = core.openPositions.get(ins.id);
  if (set === undefined) {
    set = new Set();
    core.openPositions.set(ins.id, set);
  }
  set.add(p);
  core.touchPosition(p);
  return p;
}

/** A position back at zero ends for good; any margin left by rounding returns to the account. */
export function retire(core: RiskCore, account: Account, p: Position, status: 'CLOSED' | 'LIQUIDATED'): void {
  account.marginUsed = sub(account.marginUsed, p.margin);
  p.margin = 0;
  p.status = status;
  p.closedAt = core.engine.now;
  account.removePosition(p);
  core.openPositions.get(p.instrument.id)?.delete(p);
  core.touchPosition(p);
}
