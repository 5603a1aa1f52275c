import type { Market } from '../engine.js';
import type { Order } from '../order.js';
import { add, format, mulDiv, neg, ONE, ratioBelow, sub, type Units } from '../units.js';
import type { Account } from './account.js';
import type { RiskCore } from './core.js';
import { close } from './marks.js';
import { ratio } from './money.js';
import type { Position } from './position.js';
import { moveAndRealize } from './settlement.js';

export function endCommand(core: RiskCore): void {
  // A liquidation's fills change the makers' accounts, which may have been checked already in this pass:
  // repeat until a pass liquidates nobody. Each account is liquidated at most once per command, so this
  // ends even when the book cannot absorb a position and no insurance fund exists.
  const accounts = core.dirtyAccounts;
  let liquidated: Set<Account> | null = null;
  for (let again = true; again; ) {
    again = false;
    for (let i = 0; i < accounts.length; i++) {
      const a = accounts[i];
      if (a.positions.size === 0 || a.marginUsed === 0 || a.insuranceFund) continue;
      const equity = a.equity();
      // Compared exactly (equity / marginUsed < threshold), never through a rounded ratio.
      if (
        a.autoLiquidation &&
        ratioBelow(equity, a.marginUsed, a.liquidationThreshold) &&
        !liquidated?.has(a)
      ) {
        liquidated ??= new Set();
        liquidated.add(a);
        liquidate(core, a);
        again = true;
        continue;
      }
      if (ratioBelow(equity, a.marginUsed, a.marginCallThreshold)) {
        if (!a.marginCalled) {
          a.marginCalled = true;
          core.engine.emit({
            type: 'margin_call',
            seq: core.engine.currentSeq,
            ts: core.engine.now,
            accountId: a.id,
            marginRatio: format(ratio(equity, a.marginUsed)),
          });
        }
      } else a.marginCalled = false;
    }
  }
}

/**
 * Liquidation: cancel the account's orders, close each position with a reduce-only market order against
 * the book; what the book cannot absorb is taken over by the insurance fund at the mark price. A balance
 * left negative is covered by the insurance fund as far as it goes. Without an insurance fund the
 * unabsorbed part stays open (reported in the liquidation event) and is retried at the next check.
 */
export function liquidate(core: RiskCore, account: Account): void {
  core.engine.cancelOrders(account.id, undefined, 'LIQUIDATION');
  const positions = [...account.positions.values()].sort((a, b) => a.instrument.id - b.instrument.id);
  const fund = core.insuranceFunds.get(account.currency);
  for (const p of positions) {
    const market = core.engine.markets.get(p.instrument.symbol)!;
    const size = p.lots > 0 ? p.lots : -p.lots;
    const order = close(core, market, p, 'LIQUIDATION');
    if (p.status === 'OPEN' && p.lots !== 0 && fund !== undefined && fund !== account) {
      transferToFund(core, account, fund, p, market, order);
    }
    const absorbed = size - (p.status === 'OPEN' ? Math.abs(p.lots) : 0);
    core.engine.emit({
      type: 'liquidation',
      seq: core.engine.currentSeq,
      ts: core.engine.now,
      accountId: account.id,
      symbol: p.instrument.symbol,
      positionId: p.id,
      bookQuantity: p.instrument.qtyString(order.filledLots),
      insuranceQuantity: p.instrument.qtyString(absorbed - order.filledLots),
    });
  }
  if (account.balance < 0 && fund !== undefined && fund !== account) {
    const cover = neg(account.balance);
    core.book(fund, 'INSURANCE', neg(cover), null, null, null);
    core.book(account, 'INSURANCE', cover, null, null, null);
  }
}

/**
 * The insurance fund takes over the rest of a position at the mark price rounded to the tick: the account's
 * side is closed (its PnL booked as LIQUIDATION), the fund's position moves the other way.
 */
export function transferToFund(
  core: RiskCore,
  account: Account,
  fund: Account,
  p: Position,
  market: Market,
  order: Order,
): void {
  const ins = market.instrument;
  const mark = ins.markUnits !== 0 ? ins.markUnits : ins.priceUnits(ins.lastTradeTicks);
  const ticks = ins.ticksOf(mark);
  if (ticks <= 0) return;
  const lots = Math.abs(p.lots);
  // The account sells a long (buys back a short); the fund takes the other side at leverage 1.
  const accountSign: 1 | -1 = p.lots > 0 ? -1 : 1;
  moveAndRealize(core, account, ins, accountSign, lots, ticks, p.leverage, {
    closedAs: 'LIQUIDATED',
    entryType: 'LIQUIDATION',
    orderId: order.id,
    tradeId: null,
  });
  moveAndRealize(core, fund, ins, accountSign === 1 ? -1 : 1, lots, ticks, 1, {
    closedAs: 'CLOSED',
    entryType: 'LIQUIDATION',
    orderId: null,
    tradeId: null,
  });
}

/**
 * The mark price at which this position alone would bring its account to the liquidation threshold,
 * other positions held at their marks: long rounds up, short down (the earlier warning). Null when no
 * positive price would do it, or for a closed position.
 */
export function liquidationPrice(core: RiskCore, p: Position): Units | null {
  if (p.lots === 0) return null;
  const account = core.accounts.get(p.accountId)!;
  if (account.marginUsed === 0) return null;
  const others = sub(account.unrealizedPnl(), p.unrealizedAt(p.instrument.markUnits));
  const floor = mulDiv(account.marginUsed, account.liquidationThreshold, ONE, 'down');
  const abs = p.lots > 0 ? p.lots : -p.lots;
  const qty = p.instrument.qtyUnits(abs);
  // long: balance + others + P*q - basis = floor  =>  P = (floor - balance - others + basis) / q
  // short: balance + others + basis - P*q = floor  =>  P = (balance + others + basis - floor) / q
  const numerator =
    p.lots > 0
      ? add(sub(sub(floor, account.balance), others), p.basis)
      : sub(add(add(account.balance, others), p.basis), floor);
  if (numerator <= 0) return null;
  return mulDiv(numerator, ONE, qty, p.lots > 0 ? 'up' : 'down');
}
