/**
 * Commands that move prices: mark prices (revaluation, stop-loss / take-profit) and funding payments.
 */
import type { Command, Funding, MarkPrice, SetPositionTpSl } from '../commands.js';
import type { Market } from '../engine.js';
import type { RejectReason } from '../enums.js';
import { fitsNumeric } from '../numeric.js';
import type { Order } from '../order.js';
import { add, format, min, mulDiv, neg, ONE, parseAmount, sub, type Units } from '../units.js';
import { accountFor } from './accounts.js';
import type { RiskCore } from './core.js';
import { funding } from './money.js';
import type { Position } from './position.js';

export function marketFor(core: RiskCore, cmd: Command & { symbol: string }): Market | undefined {
  const market = typeof cmd.symbol === 'string' ? core.engine.markets.get(cmd.symbol) : undefined;
  if (market === undefined) core.engine.reject(cmd, 'UNKNOWN_INSTRUMENT', null, null);
  return market;
}

export function markPrice(core: RiskCore, cmd: MarkPrice & Command): void {
  const market = marketFor(core, cmd);
  if (market === undefined) return;
  const price = parseAmount(cmd.price);
  if (price === undefined || price <= 0) return core.refuse(cmd, 'INVALID_PRICE');
  const ins = market.instrument;
  if (!valuesFitAt(core, ins.id, price)) return core.refuse(cmd, 'PRICE_OUT_OF_RANGE');
  ins.markUnits = price;
  core.engine.emit({
    type: 'mark_price',
    seq: cmd.seq,
    ts: cmd.ts,
    symbol: ins.symbol,
    price: format(price),
  });
  const positions = core.sortedOpen(ins.id);
  for (const p of positions) {
    core.touchPosition(p);
    core.touchAccount(core.accounts.get(p.accountId)!);
  }
  for (const p of positions) if (p.status === 'OPEN' && p.lots !== 0) checkTpSl(core, market, p, price);
}

/**
 * Whether every amount a mark at `price` gives the instrument's positions and their accounts (unrealized PnL,
 * equity, margin available) fits NUMERIC(20,8). A mark with a few zeros too many would otherwise be taken,
 * and every row the workers write after it refused by PostgreSQL: persistence would stop for everyone.
 */
function valuesFitAt(core: RiskCore, instrumentId: number, price: Units): boolean {
  // Any order will do (the answer is whether all fit): the set itself, not a sorted copy of it.
  const open = core.openPositions.get(instrumentId);
  if (open === undefined) return true;
  for (const p of open) {
    if (p.lots === 0) continue;
    const upnl = p.unrealizedAt(price);
    if (!fits(upnl)) return false;
    const account = core.accounts.get(p.accountId)!;
    let total: Units = 0;
    for (const q of account.positions.values())
      total = add(total, q === p ? upnl : q.unrealizedAt(q.instrument.markUnits));
    const equity = add(account.balance, total);
    const base = min(equity, account.balance);
    if (!fits(total) || !fits(equity) || !fits(sub(sub(base, account.marginUsed), account.orderMargin)))
      return false;
  }
  return true;
}

function fits(v: Units): boolean {
  return typeof v === 'number' || fitsNumeric(v);
}

/** Fires a position's stop-loss or take-profit when the mark crosses it: a reduce-only market close. */
export function checkTpSl(core: RiskCore, market: Market, p: Position, mark: Units): void {
  const ins = market.instrument;
  const sl = p.stopLossTicks === 0 ? 0 : ins.priceUnits(p.stopLossTicks);
  const tp = p.takeProfitTicks === 0 ? 0 : ins.priceUnits(p.takeProfitTicks);
  let origin: 'STOP_LOSS' | 'TAKE_PROFIT' | null = null;
  if (p.lots > 0) {
    if (sl !== 0 && mark <= sl) origin = 'STOP_LOSS';
    else if (tp !== 0 && mark >= tp) origin = 'TAKE_PROFIT';
  } else {
    if (sl !== 0 && mark >= sl) origin = 'STOP_LOSS';
    else if (tp !== 0 && mark <= tp) origin = 'TAKE_PROFIT';
  }
  if (origin === null) return;
  p.stopLossTicks = 0;
  p.takeProfitTicks = 0;
  core.touchPosition(p);
  close(core, market, p, origin);
}

/** Sends a reduce-only market order for the whole position; returns it after it ran. */
export function close(
  core: RiskCore,
  market: Market,
  p: Position,
  origin: 'STOP_LOSS' | 'TAKE_PROFIT' | 'LIQUIDATION',
): Order {
  const lots = p.lots > 0 ? p.lots : -p.lots;
  const order = core.engine.internalOrder(
    market,
    p.accountId,
    p.lots > 0 ? 'SELL' : 'BUY',
    'MARKET',
    'IOC',
    0,
    lots,
    p.leverage,
    origin,
  );
  core.engine.submit(market, order);
  return order;
}

export function applyFunding(core: RiskCore, cmd: Funding & Command): void {
  const market = marketFor(core, cmd);
  if (market === undefined) return;
  const ins = market.instrument;
  if (ins.kind !== 'PERPETUAL') return core.refuse(cmd, 'NOT_PERPETUAL');
  const rate = parseAmount(cmd.rate, true);
  if (rate === undefined) return core.refuse(cmd, 'INVALID_AMOUNT');
  const mark =
    ins.markUnits !== 0 ? ins.markUnits : ins.lastTradeTicks > 0 ? ins.priceUnits(ins.lastTradeTicks) : 0;
  if (mark === 0) return core.refuse(cmd, 'NO_MARK_PRICE');
  core.engine.emit({
    type: 'funding',
    seq: cmd.seq,
    ts: cmd.ts,
    symbol: ins.symbol,
    rate: format(rate),
    markPrice: format(mark),
  });
  let net: Units = 0;
  for (const p of core.sortedOpen(ins.id)) {
    const abs = p.lots > 0 ? p.lots : -p.lots;
    const notional = mulDiv(mark, ins.qtyUnits(abs), ONE, 'down');
    const amount = funding(notional, rate, p.lots > 0);
    if (amount === 0) continue;
    net = add(net, amount);
    p.funding = add(p.funding, amount);
    core.touchPosition(p);
    core.book(core.accounts.get(p.accountId)!, 'FUNDING', amount, null, null, p.id);
  }
  // Payers round up and receivers down, so the net is never positive: the dust is the exchange's.
  if (net !== 0) {
    const fund = core.insuranceFunds.get(ins.spec.quoteCurrency);
    if (fund !== undefined) core.book(fund, 'INSURANCE', neg(net), null, null, null);
    else {
      const totals = core.totalsOf(ins.spec.quoteCurrency);
      totals.fundingDust = sub(totals.fundingDust, net);
    }
  }
}

export function setTpSl(core: RiskCore, cmd: SetPositionTpSl & Command): void {
  const account = accountFor(core, cmd);
  if (account === undefined) return;
  const market = marketFor(core, cmd);
  if (market === undefined) return;
  const p = account.positions.get(market.instrument.id);
  if (p === undefined) return core.refuse(cmd, 'REDUCE_ONLY_NO_POSITION');
  const parse = (v: string | null | undefined, current: number): number | RejectReason => {
    if (v === undefined) return current;
    if (v === null) return 0;
    return market.instrument.priceToTicks(v);
  };
  const sl = parse(cmd.stopLoss, p.stopLossTicks);
  const tp = parse(cmd.takeProfit, p.takeProfitTicks);
  if (typeof sl === 'string') return core.refuse(cmd, sl);
  if (typeof tp === 'string') return core.refuse(cmd, tp);
  p.stopLossTicks = sl;
  p.takeProfitTicks = tp;
  core.touchPosition(p);
}
