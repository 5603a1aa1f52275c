import type { RejectReason } from '../enums.js';
import type { Order } from '../order.js';
import { add, sub, type Units } from '../units.js';
import type { RiskCore } from './core.js';
import { fee, initialMargin } from './money.js';
import type { Position } from './position.js';
import { closes, promises, promisingOrders } from './reclip.js';

export function admit(core: RiskCore, order: Order): RejectReason | null {
  const account = core.accounts.get(order.accountId)!;
  if (account.status !== 'ACTIVE') return 'ACCOUNT_NOT_ACTIVE';
  const ins = order.instrument;
  if (account.currency !== ins.spec.quoteCurrency) return 'CURRENCY_MISMATCH';
  const cap = Math.min(account.maxLeverage, ins.maxLeverage);
  if (order.leverage === 0) order.leverage = cap;
  else if (order.leverage > cap) return 'LEVERAGE_TOO_HIGH';

  const position = account.positions.get(ins.id);
  if (order.reduceOnly) {
    // A cash account's plain sells promise its holding as much as reduce-only ones do.
    const reason = clipReduceOnly(core, order, position, !account.marginEnabled);
    if (reason !== null) return reason;
  } else if (!account.marginEnabled && order.side === 'SELL') {
    if (order.remainingLots > cashSellRoom(core, order, position)) return 'SHORT_NOT_ALLOWED';
  }

  order.reserveTicks = reservePrice(core, order);
  const required = reservation(core, order);
  if (required > account.available())
    return account.marginEnabled ? 'INSUFFICIENT_MARGIN' : 'INSUFFICIENT_BALANCE';
  order.reserved = required;
  account.orderMargin = add(account.orderMargin, required);
  core.touchAccount(account);
  if (promises(account, order)) promisingOrders(core, account).add(order);
  return null;
}

/**
 * Reduce-only orders are clipped, not refused: the quantity beyond what the position (less the account's
 * other live reduce-only orders on the same side, or all its sells on a cash account: `allSameSide`) can
 * absorb is moved to cancelled at once.
 */
export function clipReduceOnly(
  core: RiskCore,
  order: Order,
  position: Position | undefined,
  allSameSide = false,
): RejectReason | null {
  if (position === undefined || position.lots === 0) return 'REDUCE_ONLY_NO_POSITION';
  if (!closes(position.lots, order.side)) return 'REDUCE_ONLY_WOULD_INCREASE';
  const size = position.lots > 0 ? position.lots : -position.lots;
  const room = size - pendingLots(core, order, !allSameSide);
  if (room <= 0) return 'REDUCE_ONLY_WOULD_INCREASE';
  if (order.remainingLots > room) order.cancelPart(order.remainingLots - room);
  return null;
}

/** What a cash account can still sell: what it holds, less what its other live sells already promise. */
function cashSellRoom(core: RiskCore, order: Order, position: Position | undefined): number {
  const held = position === undefined || position.lots < 0 ? 0 : position.lots;
  return held - pendingLots(core, order, false);
}

/**
 * Remaining lots of the account's other live orders on the same instrument and side (`olderOnly`: only those
 * placed before `order`, which keep their share first, as the end-of-command clip keeps the oldest).
 */
export function pendingLots(
  core: RiskCore,
  order: Order,
  reduceOnlyOnly: boolean,
  olderOnly = false,
): number {
  const owner = core.engine.owners.get(order.accountId);
  if (owner === undefined) return 0;
  let sum = 0;
  // The intrusive list itself: `owner.live` would copy it into an array on every call (this runs per fill
  // of a promising maker, and per admission).
  for (let o = owner.head; o !== null; o = o.ownerNext) {
    if (
      o !== order &&
      o.instrument === order.instrument &&
      o.side === order.side &&
      (!reduceOnlyOnly || o.reduceOnly) &&
      (!olderOnly || o.id < order.id)
    ) {
      sum += o.remainingLots;
    }
  }
  return sum;
}

/** The price an order's reservation is computed at: its limit, its stop, or (market) the worst level it reaches. */
export function reservePrice(core: RiskCore, order: Order): number {
  if (order.priceTicks > 0) return order.priceTicks;
  if (order.stopTicks > 0) return order.stopTicks;
  const market = core.engine.markets.get(order.instrument.symbol)!;
  const levels = market.book.opposite(order.side).levels;
  let need = order.remainingLots;
  let worst = 0;
  for (let i = levels.length - 1; i >= 0 && need > 0; i--) {
    worst = levels[i].priceTicks;
    need -= levels[i].totalLots;
  }
  return worst;
}

/**
 * What an order holds while live: initial margin on its remaining notional at its leverage, plus the
 * taker fee on it (the worst case). Reduce-only orders and a cash account's sells hold the fee only.
 */
export function reservation(core: RiskCore, order: Order): Units {
  if (order.remainingLots === 0 || order.reserveTicks === 0) return 0;
  const notional = order.instrument.notional(order.reserveTicks, order.remainingLots);
  const f = fee(notional, order.commissionRate);
  // biome-ignore lint/complexity/useMathMinMax: Units may be a bigint, which Math.max refuses
  const feePart = f > 0 ? f : 0;
  const account = core.accounts.get(order.accountId)!;
  if (order.reduceOnly || (!account.marginEnabled && order.side === 'SELL')) return feePart;
  return add(initialMargin(notional, order.leverage), feePart);
}

/**
 * The lots of an order about to execute that its position no longer backs (RiskPort.unbackedLots). Checked
 * at admission already; this catches what changed since: a stop placed against a long that triggers after the
 * position flipped, an amended order run again, a close the engine generated while other fills of the same
 * command had already shrunk the position. A trader's order shares the position with the account's other
 * promising orders, as at admission; an engine-generated close (stop-loss, take-profit, liquidation) takes the
 * whole position, and the trader's orders are clipped after it (reclip.ts).
 */
export function unbackedLots(core: RiskCore, order: Order): number {
  const account = core.accounts.get(order.accountId);
  if (account === undefined || !promises(account, order)) return 0;
  const lots = account.positions.get(order.instrument.id)?.lots ?? 0;
  if (!closes(lots, order.side)) return order.remainingLots;
  let room = lots > 0 ? lots : -lots;
  // The older promising orders keep their share first (as the end-of-command clip does): a newer one behind
  // them in a sweep is the one clipped.
  if (order.origin === 'USER')
    room -= pendingLots(core, order, order.reduceOnly && account.marginEnabled, true);
  return room >= order.remainingLots ? 0 : order.remainingLots - Math.max(room, 0);
}

export function admitAmend(
  core: RiskCore,
  order: Order,
  priceTicks: number,
  quantityLots: number,
): RejectReason | null {
  const account = core.accounts.get(order.accountId)!;
  if (account.status !== 'ACTIVE') return 'ACCOUNT_NOT_ACTIVE';
  const newRemaining = quantityLots - order.filledLots - order.cancelledLots;
  if (newRemaining > order.remainingLots) {
    const position = account.positions.get(order.instrument.id);
    if (order.reduceOnly) {
      // An increase must still close the position (its direction may have flipped since) and fit what it
      // can absorb, less the other reduce-only orders (all sells, on a cash account).
      if (position === undefined || position.lots === 0) return 'REDUCE_ONLY_NO_POSITION';
      if (!closes(position.lots, order.side)) return 'REDUCE_ONLY_WOULD_INCREASE';
      if (newRemaining > Math.abs(position.lots) - pendingLots(core, order, account.marginEnabled))
        return 'REDUCE_ONLY_WOULD_INCREASE';
    } else if (!account.marginEnabled && order.side === 'SELL') {
      if (newRemaining > cashSellRoom(core, order, position)) return 'SHORT_NOT_ALLOWED';
    }
  }
  const savedPrice = order.priceTicks;
  const savedQty = order.quantityLots;
  const savedRemaining = order.remainingLots;
  const savedReserveTicks = order.reserveTicks;
  order.priceTicks = priceTicks;
  order.quantityLots = quantityLots;
  order.remainingLots = newRemaining;
  if (order.priceTicks > 0) order.reserveTicks = priceTicks;
  const required = reservation(core, order);
  order.priceTicks = savedPrice;
  order.quantityLots = savedQty;
  order.remainingLots = savedRemaining;
  order.reserveTicks = savedReserveTicks;
  if (sub(required, order.reserved) > account.available()) {
    return account.marginEnabled ? 'INSUFFICIENT_MARGIN' : 'INSUFFICIENT_BALANCE';
  }
  return null;
}

export function reserve(core: RiskCore, order: Order): void {
  if (order.priceTicks > 0) order.reserveTicks = order.priceTicks;
  const next = order.isLive ? reservation(core, order) : 0;
  if (next === order.reserved) return;
  const account = core.accounts.get(order.accountId)!;
  account.orderMargin = add(account.orderMargin, sub(next, order.reserved));
  order.reserved = next;
  core.touchAccount(account);
}
