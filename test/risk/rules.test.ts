/**
 * The risk rules one by one, each with a hand-worked example.
 * BTC-PERP: tick 0.5, lot 0.001, maker fee 0.0002, taker fee 0.001, max leverage 100.
 */
import { describe, expect, test } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import { ofType } from '../engine/harness.js';
import { lastAccount, lastPosition, ledgerOf, openInsuranceFund, riskSetup } from './setup.js';

const rejection = (events: ReturnType<ReturnType<typeof riskSetup>['run']>) =>
  ofType(events, 'order')[0]?.rejectionReason ?? ofType(events, 'rejected')[0]?.reason;

describe('pre-trade checks', () => {
  test('initial margin plus worst-case fee must fit in margin available, counting open orders', () => {
    // 1000 USD. A buy of 1 at 10000 at 10x needs 1000 margin + 10 fee = 1010: refused.
    const h = riskSetup(['1000']);
    expect(rejection(h.limit(1, 'BUY', '10000', '1', { leverage: '10' }))).toBe('INSUFFICIENT_MARGIN');
    // 0.5 at 10000 at 10x: 500 + 5 = 505 fits, and is held as order margin.
    h.limit(1, 'BUY', '10000', '0.5', { leverage: '10' });
    expect(lastAccount(h, 1)).toMatchObject({ orderMargin: '505', marginAvailable: '495' });
    // another 0.5 needs 505 > 495 left: refused; nothing changed.
    expect(rejection(h.limit(1, 'BUY', '10000', '0.5', { leverage: '10' }))).toBe('INSUFFICIENT_MARGIN');
    expect(lastAccount(h, 1)).toMatchObject({ orderMargin: '505' });
    // cancelling releases it all.
    h.run({ type: 'cancel_all', accountId: 1 });
    expect(lastAccount(h, 1)).toMatchObject({ orderMargin: '0', marginAvailable: '1000' });
  });

  test('leverage within the account, the instrument and the 100x cap', () => {
    const h = riskSetup(['1000'], { maxLeverage: '20' });
    expect(rejection(h.limit(1, 'BUY', '100', '1', { leverage: '21' }))).toBe('LEVERAGE_TOO_HIGH');
    expect(rejection(h.limit(1, 'BUY', '100', '1', { leverage: '101' }))).toBe('INVALID_LEVERAGE');
    h.run({ type: 'set_leverage_limit', accountId: 1, maxLeverage: '50' });
    expect(ofType(h.limit(1, 'BUY', '100', '1', { leverage: '50' }), 'order')[0].status).toBe('NEW');
  });

  test('a suspended account trades nothing and its orders are cancelled', () => {
    const h = riskSetup(['1000']);
    h.limit(1, 'BUY', '100', '1');
    const events = h.run({ type: 'set_account_status', accountId: 1, status: 'SUSPENDED' });
    expect(ofType(events, 'order')[0]).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'ACCOUNT_SUSPENDED',
    });
    expect(rejection(h.limit(1, 'BUY', '100', '1'))).toBe('ACCOUNT_NOT_ACTIVE');
  });

  test('a cash (non-margin) account trades at 1x, fully collateralised, and cannot go short', () => {
    const h = riskSetup(['1000', '100000'], {});
    h.run({
      type: 'open_account',
      userId: 1,
      currency: 'USD',
      maxLeverage: '100',
      marginEnabled: false,
      autoLiquidation: false,
    } as CommandBody);
    h.run({ type: 'deposit', accountId: 3, amount: '1000' });
    expect(rejection(h.limit(3, 'SELL', '100', '1'))).toBe('SHORT_NOT_ALLOWED');
    expect(rejection(h.limit(3, 'BUY', '100', '1', { leverage: '2' }))).toBe('LEVERAGE_TOO_HIGH');
    // 10 at 100 = 1000 notional + 1 fee > 1000: refused as a balance problem.
    expect(rejection(h.limit(3, 'BUY', '100', '10'))).toBe('INSUFFICIENT_BALANCE');
    // buys 5 at 100 (500 + 0.5 fee), then may sell those 5 and no more
    h.limit(2, 'SELL', '100', '5', { leverage: '10' });
    h.limit(3, 'BUY', '100', '5');
    expect(lastPosition(h, 3)).toMatchObject({ side: 'LONG', quantity: '5', margin: '500', leverage: '1' });
    expect(rejection(h.limit(3, 'SELL', '101', '6'))).toBe('SHORT_NOT_ALLOWED');
    expect(ofType(h.limit(3, 'SELL', '101', '5'), 'order')[0].status).toBe('NEW');
  });

  test('reduce-only orders are clipped to the position, refused without one or when they would increase it', () => {
    const h = riskSetup(['100000', '100000']);
    expect(rejection(h.market(1, 'SELL', '1', { reduceOnly: true }))).toBe('REDUCE_ONLY_NO_POSITION');
    h.limit(2, 'SELL', '100', '2', { leverage: '10' });
    h.limit(1, 'BUY', '100', '2', { leverage: '10' }); // account 1 long 2
    expect(rejection(h.limit(1, 'BUY', '99', '1', { reduceOnly: true }))).toBe('REDUCE_ONLY_WOULD_INCREASE');
    // a reduce-only sell of 3 against a long of 2: 2 stay live, 1 is cancelled at once
    const clipped = ofType(h.limit(1, 'SELL', '110', '3', { reduceOnly: true }), 'order')[0];
    expect(clipped).toMatchObject({
      quantity: '3',
      remainingQuantity: '2',
      cancelledQuantity: '1',
      status: 'NEW',
    });
    // it holds only its fee: 2 * 110 * 0.001 = 0.22
    expect(lastAccount(h, 1).orderMargin).toBe('0.22');
    // nothing is left for a second reduce-only sell
    expect(rejection(h.limit(1, 'SELL', '111', '1', { reduceOnly: true }))).toBe(
      'REDUCE_ONLY_WOULD_INCREASE',
    );
  });
});

describe('post-trade', () => {
  test('a short, an add, a partial close and a flip through zero', () => {
    const h = riskSetup(['100000', '100000']);
    // account 1 sells 1 at 100 then 1 at 110 (taker each time) against account 2's bids: short 2 at 105
    h.limit(2, 'BUY', '100', '1', { leverage: '10' });
    h.market(1, 'SELL', '1', { leverage: '10' });
    h.limit(2, 'BUY', '110', '1', { leverage: '10' });
    h.market(1, 'SELL', '1', { leverage: '10' });
    expect(lastPosition(h, 1)).toMatchObject({
      side: 'SHORT',
      quantity: '2',
      entryPrice: '105',
      margin: '21',
    });
    // buy back 1 at 95: realized (105 - 95) * 1 = 10; margin 21 -> 10.5
    h.limit(2, 'SELL', '95', '3', { leverage: '10' });
    h.market(1, 'BUY', '1', { leverage: '10' });
    expect(lastPosition(h, 1)).toMatchObject({
      side: 'SHORT',
      quantity: '1',
      realizedPnl: '10',
      margin: '10.5',
    });
    // buy 2 more at 95: closes the short (+10 realized) and opens a new long of 1 at 95
    const flip = h.market(1, 'BUY', '2', { leverage: '10' });
    const positions = ofType(flip, 'position').filter((p) => p.accountId === 1);
    expect(positions.map((p) => [p.status, p.side, p.quantity, p.entryPrice])).toEqual([
      ['CLOSED', 'FLAT', '0', null],
      ['OPEN', 'LONG', '1', '95'],
    ]);
    expect(positions[0].realizedPnl).toBe('20');
    expect(positions[1].positionId).toBeGreaterThan(positions[0].positionId);
    // fees: taker 0.1 + 0.11 + 0.095 + 0.19 = 0.495; balance 100000 - 0.495 + 20 = 100019.505
    expect(lastAccount(h, 1)).toMatchObject({ balance: '100019.505', realizedPnl: '20' });
  });

  test('funding: longs pay shorts at a positive rate, notional at mark times rate', () => {
    const h = riskSetup(['100000', '100000']);
    h.limit(2, 'SELL', '50000', '2', { leverage: '10' });
    h.limit(1, 'BUY', '50000', '2', { leverage: '10' }); // 1 long 2, 2 short 2
    h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '50500' });
    h.run({ type: 'funding', symbol: 'BTC-PERP', rate: '0.0001' });
    // 2 * 50500 * 0.0001 = 10.1
    expect(ledgerOf(h, 1).at(-1)).toMatchObject({ entryType: 'FUNDING', amount: '-10.1' });
    expect(ledgerOf(h, 2).at(-1)).toMatchObject({ entryType: 'FUNDING', amount: '10.1' });
    expect(lastPosition(h, 1).funding).toBe('-10.1');
    expect(rejection(h.run({ type: 'funding', symbol: 'NOPE', rate: '0.1' }))).toBe('UNKNOWN_INSTRUMENT');
  });

  test('positions are re-emitted when their liquidation price can move, not for an order alone', () => {
    const h = riskSetup(['10000', '100000', '100000']);
    h.limit(2, 'SELL', '10000', '1', { leverage: '10' });
    h.limit(1, 'BUY', '10000', '1', { leverage: '10' }); // 1 long 1 at 10000: margin 1000, fee 10
    const before = lastPosition(h, 1);
    expect(before.liquidationPrice).not.toBeNull();
    // A resting order only reserves margin: the account event goes out, the position does not.
    const placed = h.limit(1, 'BUY', '9000', '1', { leverage: '10' });
    expect(ofType(placed, 'account').map((a) => a.accountId)).toEqual([1]);
    expect(ofType(placed, 'position')).toEqual([]);
    // A balance change moves the liquidation price: the position is re-emitted with the new one.
    const deposited = h.run({ type: 'deposit', accountId: 1, amount: '1000' });
    const [again] = ofType(deposited, 'position');
    expect(again).toMatchObject({ positionId: before.positionId, quantity: '1' });
    expect(Number(again.liquidationPrice)).toBeLessThan(Number(before.liquidationPrice));
  });

  test('withdrawal is refused when it would leave less than the margin in use', () => {
    const h = riskSetup(['1000', '100000']);
    h.limit(2, 'SELL', '1000', '5', { leverage: '10' });
    h.limit(1, 'BUY', '1000', '5', { leverage: '10' }); // margin 500, fee 5: balance 995
    expect(rejection(h.run({ type: 'withdraw', accountId: 1, amount: '495.00000001' }))).toBe(
      'WITHDRAWAL_EXCEEDS_AVAILABLE',
    );
    h.run({ type: 'withdraw', accountId: 1, amount: '495' });
    expect(lastAccount(h, 1)).toMatchObject({ balance: '500', marginAvailable: '0' });
  });
});

describe('mark price, margin calls and liquidation', () => {
  test('margin ratio = equity / margin used: margin call below 0.8, liquidation below 0.5', () => {
    // account 1: 1000 USD, long 1 at 10000 at 20x: margin 500, fee 10, balance 990
    const h = riskSetup(['1000', '100000', '100000']);
    h.limit(2, 'SELL', '10000', '1', { leverage: '20' });
    h.limit(1, 'BUY', '10000', '1', { leverage: '20' });
    // mark 9400: equity 990 - 600 = 390, ratio 0.78 < 0.8: margin call, no liquidation
    const call = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '9400' });
    expect(ofType(call, 'margin_call')).toEqual([
      expect.objectContaining({ accountId: 1, marginRatio: '0.78' }),
    ]);
    expect(ofType(call, 'liquidation')).toEqual([]);
    // account 3 bids 1 at 9200; mark 9200: equity 990 - 800 = 190, ratio 0.38 < 0.5: liquidated into the bid
    h.limit(3, 'BUY', '9200', '1', { leverage: '20' });
    const liq = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '9200' });
    expect(ofType(liq, 'liquidation')[0]).toMatchObject({
      accountId: 1,
      bookQuantity: '1',
      insuranceQuantity: '0',
    });
    expect(ofType(liq, 'trade')[0]).toMatchObject({ price: '9200', quantity: '1', takerAccountId: 1 });
    // realized -800, fee 9.2: balance 990 - 800 - 9.2 = 180.8
    expect(lastPosition(h, 1)).toMatchObject({ status: 'LIQUIDATED', realizedPnl: '-800' });
    expect(lastAccount(h, 1)).toMatchObject({ balance: '180.8', marginUsed: '0' });
  });

  test('what the book cannot absorb goes to the insurance fund at the mark; it also covers a negative balance', () => {
    const h = riskSetup(['1000', '100000']);
    expect(openInsuranceFund(h, '50000')).toBe(3);
    h.limit(2, 'SELL', '10000', '1', { leverage: '20' });
    h.limit(1, 'BUY', '10000', '1', { leverage: '20' }); // balance 990, margin 500
    // the mark crashes to 8000 with an empty bid side: the fund takes the long at 8000
    const liq = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '8000' });
    expect(ofType(liq, 'liquidation')[0]).toMatchObject({ bookQuantity: '0', insuranceQuantity: '1' });
    // realized -2000: balance 990 - 2000 = -1010, covered by the fund: back to 0
    expect(
      ledgerOf(h, 1)
        .slice(-2)
        .map((e) => [e.entryType, e.amount, e.balanceAfter]),
    ).toEqual([
      ['LIQUIDATION', '-2000', '-1010'],
      ['INSURANCE', '1010', '0'],
    ]);
    expect(lastPosition(h, 1)).toMatchObject({ status: 'LIQUIDATED' });
    expect(lastPosition(h, 3)).toMatchObject({ side: 'LONG', quantity: '1', entryPrice: '8000' });
    expect(lastAccount(h, 3).balance).toBe('48990');
  });

  test('stop-loss and take-profit fire reduce-only market orders when the mark crosses them', () => {
    const h = riskSetup(['100000', '100000', '100000']);
    h.limit(2, 'SELL', '100', '1', { leverage: '10' });
    h.limit(1, 'BUY', '100', '1', { leverage: '10' });
    h.run({ type: 'set_position_tpsl', accountId: 1, symbol: 'BTC-PERP', stopLoss: '95', takeProfit: '120' });
    h.limit(3, 'BUY', '94', '5', { leverage: '10' });
    expect(ofType(h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '96' }), 'trade')).toEqual([]);
    const fired = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '95' });
    const order = ofType(fired, 'order').find((o) => o.accountId === 1)!;
    expect(order).toMatchObject({
      origin: 'STOP_LOSS',
      reduceOnly: true,
      orderType: 'MARKET',
      status: 'FILLED',
    });
    expect(lastPosition(h, 1)).toMatchObject({ status: 'CLOSED', realizedPnl: '-6' });
  });
});

describe('amend of a reduce-only order', () => {
  test('may not lift it past what the position can absorb', () => {
    const h = riskSetup(['100000', '100000']);
    h.limit(2, 'SELL', '100', '1', { leverage: '10' });
    h.limit(1, 'BUY', '100', '1', { leverage: '10' }); // long 1
    const placed = ofType(h.limit(1, 'SELL', '110', '3', { reduceOnly: true }), 'order')[0]; // 1 live, 2 clipped
    const refused = h.run({ type: 'amend_order', accountId: 1, orderId: placed.orderId, quantity: '5' });
    expect(ofType(refused, 'rejected')[0]).toMatchObject({ reason: 'REDUCE_ONLY_WOULD_INCREASE' });
    // a decrease that keeps it within the position is fine
    const ok = h.run({ type: 'amend_order', accountId: 1, orderId: placed.orderId, quantity: '2.5' });
    expect(ofType(ok, 'order')[0]).toMatchObject({ remainingQuantity: '0.5', cancelledQuantity: '2' });
  });
});
