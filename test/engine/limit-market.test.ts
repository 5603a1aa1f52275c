/** Limit and market orders against hand-worked books, event by event. */
import { describe, expect, test } from 'vitest';
import { brief, btc, orders, trades } from './harness.js';

describe('limit orders', () => {
  test('a limit order that does not cross rests, and the book shows it', () => {
    const h = btc();
    const ev = h.limit(1, 'BUY', '99.5', '2');
    expect(brief(ev)).toEqual(['order #1 NEW 0/2/0', 'book BUY 99.5 2']);
    const [o] = orders(ev);
    expect(o).toMatchObject({
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price: '99.5',
      stopPrice: null,
      quantity: '2',
      averagePrice: null,
      filledNotional: '0',
      rejectionReason: null,
      cancelReason: null,
      expiredAt: null,
      origin: 'USER',
    });
    expect(h.levels('BUY')).toEqual([['99.5', '2']]);
    expect(h.levels('SELL')).toEqual([]);
  });

  test('a crossing limit fills at the maker price, maker and taker marked', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    const ev = h.limit(2, 'BUY', '101', '1');
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=2 BUY',
      'order #2 FILLED 1/0/0',
      'order #1 FILLED 1/0/0',
      'book SELL 100 0',
    ]);
    const [t] = trades(ev);
    expect(t).toMatchObject({ makerAccountId: 1, takerAccountId: 2, price: '100' });
    expect(orders(ev)[0]).toMatchObject({ averagePrice: '100', filledNotional: '100', price: '101' });
    expect(h.engine.lastTradePrice('BTC-PERP')).toBe('100');
    expect(h.levels('SELL')).toEqual([]);
  });

  test('a sell taker fills at the bid (maker) price', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const ev = h.limit(2, 'SELL', '90', '1');
    expect(brief(ev)[0]).toBe('trade #1 100x1 maker=1 taker=2 SELL');
  });

  test('partial fill of the maker leaves the rest resting at the top of its level', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(3, 'SELL', '100', '1');
    const ev = h.limit(2, 'BUY', '100', '0.25');
    expect(brief(ev)).toEqual([
      'trade #1 100x0.25 maker=1 taker=3 BUY',
      'order #3 FILLED 0.25/0/0',
      'order #1 PARTIALLY_FILLED 0.25/0.75/0',
      'book SELL 100 1.75',
    ]);
    // Order 1 keeps its place in the queue: the next buyer hits it first.
    expect(brief(h.limit(2, 'BUY', '100', '1'))).toEqual([
      'trade #2 100x0.75 maker=1 taker=4 BUY',
      'trade #3 100x0.25 maker=2 taker=4 BUY',
      'order #4 FILLED 1/0/0',
      'order #1 FILLED 1/0/0',
      'order #2 PARTIALLY_FILLED 0.25/0.75/0',
      'book SELL 100 0.75',
    ]);
  });

  test('partial fill of the taker rests its remainder at its limit', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    const ev = h.limit(2, 'BUY', '100.5', '3');
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=2 BUY',
      'order #2 PARTIALLY_FILLED 1/2/0',
      'order #1 FILLED 1/0/0',
      'book SELL 100 0',
      'book BUY 100.5 2',
    ]);
    expect(h.levels('BUY')).toEqual([['100.5', '2']]);
    expect(h.engine.order(2)).toMatchObject({ status: 'PARTIALLY_FILLED', remainingQuantity: '2' });
  });

  test('walking several levels: best price first, stops at the limit', () => {
    const h = btc();
    h.limit(1, 'SELL', '102', '1'); // #1
    h.limit(1, 'SELL', '100', '1'); // #2
    h.limit(3, 'SELL', '101', '1'); // #3
    h.limit(3, 'SELL', '100', '0.5'); // #4
    h.limit(1, 'SELL', '103', '1'); // #5
    const ev = h.limit(2, 'BUY', '102', '5'); // #6
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=2 taker=6 BUY',
      'trade #2 100x0.5 maker=4 taker=6 BUY',
      'trade #3 101x1 maker=3 taker=6 BUY',
      'trade #4 102x1 maker=1 taker=6 BUY',
      'order #6 PARTIALLY_FILLED 3.5/1.5/0',
      'order #2 FILLED 1/0/0',
      'order #4 FILLED 0.5/0/0',
      'order #3 FILLED 1/0/0',
      'order #1 FILLED 1/0/0',
      'book SELL 100 0',
      'book SELL 101 0',
      'book SELL 102 0',
      'book BUY 102 1.5',
    ]);
    // VWAP: (100*1.5 + 101 + 102) / 3.5 = 353 / 3.5 = 100.857142857... -> 100.85714286 (half-even)
    expect(orders(ev)[0]).toMatchObject({ averagePrice: '100.85714286', filledNotional: '353' });
    expect(h.levels('SELL')).toEqual([['103', '1']]);
    expect(h.engine.lastTradePrice('BTC-PERP')).toBe('102');
  });

  test('time priority within a level: makers fill in arrival order', () => {
    const h = btc();
    h.limit(5, 'BUY', '100', '1'); // #1
    h.limit(6, 'BUY', '100', '1'); // #2
    h.limit(7, 'BUY', '100', '1'); // #3
    h.limit(8, 'BUY', '100.5', '1'); // #4: better price, later
    const ev = h.limit(9, 'SELL', '100', '3.5');
    expect(trades(ev).map((t) => [t.makerOrderId, t.price, t.quantity])).toEqual([
      [4, '100.5', '1'],
      [1, '100', '1'],
      [2, '100', '1'],
      [3, '100', '0.5'],
    ]);
  });

  test('a limit exactly at the opposite best crosses', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    expect(trades(h.limit(2, 'SELL', '100', '1'))).toHaveLength(1);
  });

  test('a limit one tick away does not cross', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const ev = h.limit(2, 'SELL', '100.5', '1');
    expect(trades(ev)).toHaveLength(0);
    expect(h.engine.book('BTC-PERP', 10)).toMatchObject({
      bids: [{ price: '100', quantity: '1', orders: 1 }],
      asks: [{ price: '100.5', quantity: '1', orders: 1 }],
    });
  });

  test('trade ids and order ids count up across commands', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(1, 'SELL', '100', '1');
    const a = trades(h.limit(2, 'BUY', '100', '1'));
    const b = trades(h.limit(2, 'BUY', '100', '1'));
    expect([a[0].tradeId, b[0].tradeId]).toEqual([1, 2]);
    expect([a[0].takerOrderId, b[0].takerOrderId]).toEqual([3, 4]);
  });
});

test('the example in docs/engine.md', () => {
  const h = btc();
  h.limit(1, 'SELL', '100', '1');
  h.limit(1, 'SELL', '100.5', '1');
  expect(brief(h.limit(2, 'BUY', '101', '3'))).toEqual([
    'trade #1 100x1 maker=1 taker=3 BUY',
    'trade #2 100.5x1 maker=2 taker=3 BUY',
    'order #3 PARTIALLY_FILLED 2/1/0',
    'order #1 FILLED 1/0/0',
    'order #2 FILLED 1/0/0',
    'book SELL 100 0',
    'book SELL 100.5 0',
    'book BUY 101 1',
  ]);
});

describe('market orders', () => {
  test('fills against the book, walking levels', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(1, 'SELL', '105', '1');
    const ev = h.market(2, 'BUY', '1.5');
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=3 BUY',
      'trade #2 105x0.5 maker=2 taker=3 BUY',
      'order #3 FILLED 1.5/0/0',
      'order #1 FILLED 1/0/0',
      'order #2 PARTIALLY_FILLED 0.5/0.5/0',
      'book SELL 100 0',
      'book SELL 105 0.5',
    ]);
    // (100 + 52.5) / 1.5 = 101.666666666... -> 101.66666667
    expect(orders(ev)[0]).toMatchObject({
      price: null,
      averagePrice: '101.66666667',
      filledNotional: '152.5',
    });
  });

  test('the remainder a market order cannot fill is cancelled MARKET_REMAINDER, never rests', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const ev = h.market(2, 'SELL', '3');
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=2 SELL',
      'order #2 CANCELLED 1/0/2 MARKET_REMAINDER',
      'order #1 FILLED 1/0/0',
      'book BUY 100 0',
    ]);
    expect(h.engine.order(2)).toBeUndefined();
    expect(h.levels('SELL')).toEqual([]);
  });

  test('a market order with GTC or DAY still never rests', () => {
    for (const tif of ['GTC', 'DAY']) {
      const h = btc();
      h.limit(1, 'BUY', '100', '1');
      const ev = h.market(2, 'SELL', '2', { timeInForce: tif });
      expect(orders(ev)[0]).toMatchObject({ status: 'CANCELLED', cancelReason: 'MARKET_REMAINDER' });
      expect(h.levels('SELL')).toEqual([]);
    }
  });

  test('on an empty book a market order is refused NO_LIQUIDITY', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // the wrong side
    const ev = h.market(2, 'BUY', '1');
    expect(brief(ev)).toEqual(['order #2 REJECTED 0/0/1 NO_LIQUIDITY']);
    expect(orders(ev)[0]).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'NO_LIQUIDITY',
      cancelReason: null,
    });
  });
});
