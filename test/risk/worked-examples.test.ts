/**
 * Worked examples of the risk core, numbers computed by hand in the comments.
 * Instrument BTC-PERP (test/engine/harness.ts): tick 0.5, lot 0.001, maker 0.0002, taker 0.001, max 100x.
 */
import { describe, expect, test } from 'vitest';
import { ofType } from '../engine/harness.js';
import { lastAccount, lastPosition, ledgerOf, riskSetup } from './setup.js';

describe('worked example: 1.5 BTC-PERP long at 50000, 10x, closed at 51000', () => {
  test('open, revalue, close, with the ledger chain to the final balance', () => {
    // accounts 1 (our trader) and 2, 3 (counterparties), 100000 USD each
    const h = riskSetup(['100000', '100000', '100000']);
    // account 2 rests a sell of 1.5 at 50000 (maker)
    h.limit(2, 'SELL', '50000', '1.5', { leverage: '10' });
    // account 1 buys 1.5 at 50000 as taker with 10x leverage
    const buy = h.limit(1, 'BUY', '50000', '1.5', { leverage: '10' });
    const trade = ofType(buy, 'trade')[0];
    // notional 1.5 * 50000 = 75000; taker fee 75000 * 0.001 = 75; maker fee 75000 * 0.0002 = 15
    expect(trade).toMatchObject({ price: '50000', quantity: '1.5', takerFee: '75', makerFee: '15' });
    // margin 75000 / 10 = 7500
    const pos = lastPosition(h, 1);
    expect(pos).toMatchObject({
      side: 'LONG',
      quantity: '1.5',
      entryPrice: '50000',
      margin: '7500',
      leverage: '10',
    });
    // ledger FEE -75: 100000 -> 99925
    const fee1 = ledgerOf(h, 1).at(-1)!;
    expect(fee1).toMatchObject({
      entryType: 'FEE',
      amount: '-75',
      balanceBefore: '100000',
      balanceAfter: '99925',
    });
    expect(lastAccount(h, 1)).toMatchObject({ balance: '99925', marginUsed: '7500', orderMargin: '0' });

    // the mark moves to 50800: unrealized (50800 - 50000) * 1.5 = 1200; equity 99925 + 1200 = 101125
    h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '50800' });
    expect(lastPosition(h, 1)).toMatchObject({ unrealizedPnl: '1200', markPrice: '50800' });
    expect(lastAccount(h, 1)).toMatchObject({ equity: '101125', unrealizedPnl: '1200' });

    // account 3 bids 1.5 at 51000; account 1 sells 1.5 at market into it
    h.limit(3, 'BUY', '51000', '1.5', { leverage: '10' });
    const close = h.market(1, 'SELL', '1.5');
    // realized (51000 - 50000) * 1.5 = 1500; fee 76500 * 0.001 = 76.5
    expect(ofType(close, 'trade')[0]).toMatchObject({
      price: '51000',
      takerFee: '76.5',
      takerRealizedPnl: '1500',
    });
    const entries = ledgerOf(h, 1).map((e) => [e.entryType, e.amount, e.balanceBefore, e.balanceAfter]);
    expect(entries).toEqual([
      ['DEPOSIT', '100000', '0', '100000'],
      ['FEE', '-75', '100000', '99925'],
      ['FEE', '-76.5', '99925', '99848.5'],
      ['PNL', '1500', '99848.5', '101348.5'],
    ]);
    // final: 100000 - 75 - 76.5 + 1500 = 101348.5, no margin held, position closed
    expect(lastAccount(h, 1)).toMatchObject({ balance: '101348.5', marginUsed: '0', realizedPnl: '1500' });
    expect(lastPosition(h, 1)).toMatchObject({
      status: 'CLOSED',
      side: 'FLAT',
      quantity: '0',
      realizedPnl: '1500',
    });
  });
});
