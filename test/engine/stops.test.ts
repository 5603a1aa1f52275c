/** Stop and stop-limit orders: pending, triggering on the last trade price, cascades. */
import { describe, expect, test } from 'vitest';
import { BTC, brief, btc, type Harness, orders, trades } from './harness.js';

/** Sets the last trade price with a 0.001 trade between accounts 98 and 99 that leaves the book as it was. */
function print(h: Harness, price: string): void {
  h.limit(98, 'SELL', price, '0.001');
  h.limit(99, 'BUY', price, '0.001');
  expect(h.engine.lastTradePrice('BTC-PERP')).toBe(price);
}

describe('stop (stop-market)', () => {
  test('waits PENDING_TRIGGER, off the book', () => {
    const h = btc();
    const ev = h.stop(1, 'BUY', '105', '1');
    expect(brief(ev)).toEqual(['order #1 PENDING_TRIGGER 0/1/0']);
    expect(orders(ev)[0]).toMatchObject({ orderType: 'STOP', stopPrice: '105', price: null });
    expect(h.levels('BUY')).toEqual([]);
    expect(h.engine.order(1)).toMatchObject({ status: 'PENDING_TRIGGER' });
    expect(h.engine.openOrders(1)).toHaveLength(1);
  });

  test('no trade yet: a stop waits whatever its price', () => {
    const h = btc();
    h.limit(3, 'SELL', '100', '1');
    expect(brief(h.stop(1, 'BUY', '0.5', '1'))).toEqual(['order #2 PENDING_TRIGGER 0/1/0']);
    expect(brief(h.stop(1, 'SELL', '1000', '1'))).toEqual(['order #3 PENDING_TRIGGER 0/1/0']);
  });

  test('a buy stop triggers when the last trade reaches its stop, then executes as a market order', () => {
    const h = btc();
    h.limit(3, 'SELL', '105', '1'); // #1
    h.limit(3, 'SELL', '106', '2'); // #2
    h.stop(1, 'BUY', '105', '1'); // #3
    const ev = h.limit(2, 'BUY', '105', '0.5'); // #4: prints 105
    expect(brief(ev)).toEqual([
      'trade #1 105x0.5 maker=1 taker=4 BUY',
      'trade #2 105x0.5 maker=1 taker=3 BUY',
      'trade #3 106x0.5 maker=2 taker=3 BUY',
      'order #4 FILLED 0.5/0/0',
      'order #1 FILLED 1/0/0',
      'order #3 FILLED 1/0/0',
      'order #2 PARTIALLY_FILLED 0.5/1.5/0',
      'book SELL 105 0',
      'book SELL 106 1.5',
    ]);
    const stop = orders(ev)[2];
    expect(stop).toMatchObject({ orderType: 'STOP', averagePrice: '105.5', updatedAt: ev[0].ts });
  });

  test('a buy stop does not trigger below its stop; a sell stop triggers at or below', () => {
    const h = btc();
    print(h, '100');
    h.stop(1, 'BUY', '101', '1'); // #3
    h.stop(1, 'SELL', '99', '1'); // #4
    h.limit(3, 'BUY', '90', '5'); // #5: liquidity for the sell stop
    print(h, '100.5'); // below 101: nothing
    expect(h.engine.order(3)?.status).toBe('PENDING_TRIGGER');
    print(h, '99.5'); // above 99: nothing
    expect(h.engine.order(4)?.status).toBe('PENDING_TRIGGER');
    h.limit(98, 'SELL', '99', '0.001'); // #10
    const ev = h.limit(99, 'BUY', '99', '0.001'); // #11: prints 99, exactly the sell stop
    expect(brief(ev)).toEqual([
      'trade #4 99x0.001 maker=10 taker=11 BUY',
      'trade #5 90x1 maker=5 taker=4 SELL',
      'order #11 FILLED 0.001/0/0',
      'order #10 FILLED 0.001/0/0',
      'order #4 FILLED 1/0/0',
      'order #5 PARTIALLY_FILLED 1/4/0',
      'book SELL 99 0',
      'book BUY 90 4',
    ]);
    expect(h.engine.order(3)?.status).toBe('PENDING_TRIGGER');
  });

  test('immediate trigger: a stop placed when the last price is already through it executes at once', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '1'); // #3
    h.limit(3, 'BUY', '99', '1'); // #4
    // last 100 >= buy stop 99.5: triggered on arrival
    expect(brief(h.stop(1, 'BUY', '99.5', '0.5'))).toEqual([
      'trade #2 101x0.5 maker=3 taker=5 BUY',
      'order #5 FILLED 0.5/0/0',
      'order #3 PARTIALLY_FILLED 0.5/0.5/0',
      'book SELL 101 0.5',
    ]);
    // last is now 101 <= sell stop 101: triggered on arrival
    expect(brief(h.stop(1, 'SELL', '101', '0.5'))).toEqual([
      'trade #3 99x0.5 maker=4 taker=6 SELL',
      'order #6 FILLED 0.5/0/0',
      'order #4 PARTIALLY_FILLED 0.5/0.5/0',
      'book BUY 99 0.5',
    ]);
  });

  test('a triggered stop that finds no liquidity ends REJECTED NO_LIQUIDITY', () => {
    const h = btc();
    print(h, '100');
    h.stop(1, 'SELL', '99', '1'); // #3
    h.limit(3, 'BUY', '99', '0.001'); // #4
    const ev = h.limit(4, 'SELL', '99', '0.001'); // #5: prints 99 and empties the bids
    expect(brief(ev)).toEqual([
      'trade #2 99x0.001 maker=4 taker=5 SELL',
      'order #5 FILLED 0.001/0/0',
      'order #4 FILLED 0.001/0/0',
      'order #3 REJECTED 0/0/1 NO_LIQUIDITY',
      'book BUY 99 0',
    ]);
    expect(h.engine.order(3)).toBeUndefined();
  });

  test('cancel of a pending stop', () => {
    const h = btc();
    h.stop(1, 'BUY', '105', '1');
    expect(brief(h.cancel(1, 1))).toEqual(['order #1 CANCELLED 0/0/1 USER']);
    print(h, '106');
    expect(h.engine.order(1)).toBeUndefined();
  });
});

describe('stop-limit', () => {
  test('triggers into a limit order: fills what its limit reaches, rests the rest', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '1'); // #3
    h.limit(3, 'SELL', '102', '1'); // #4
    h.stopLimit(1, 'BUY', '101', '101.5', '2'); // #5
    expect(h.engine.order(5)).toMatchObject({ status: 'PENDING_TRIGGER', price: '101.5', stopPrice: '101' });
    expect(h.levels('BUY')).toEqual([]);
    const ev = h.limit(2, 'BUY', '101', '0.5'); // #6
    expect(brief(ev)).toEqual([
      'trade #2 101x0.5 maker=3 taker=6 BUY',
      'trade #3 101x0.5 maker=3 taker=5 BUY',
      'order #6 FILLED 0.5/0/0',
      'order #3 FILLED 1/0/0',
      'order #5 PARTIALLY_FILLED 0.5/1.5/0',
      'book SELL 101 0',
      'book BUY 101.5 1.5',
    ]);
    expect(orders(ev)[2]).toMatchObject({ orderType: 'STOP_LIMIT', price: '101.5' });
    expect(h.levels('BUY')).toEqual([['101.5', '1.5']]);
  });

  test('triggered stop-limit with IOC cancels its remainder', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '1'); // #3
    h.stopLimit(1, 'BUY', '100.5', '101', '3', { timeInForce: 'IOC' }); // #4
    const ev = h.limit(2, 'BUY', '100.5', '0.001', { timeInForce: 'IOC' }); // no fill, no print
    expect(trades(ev)).toHaveLength(0);
    const ev2 = h.limit(2, 'BUY', '101', '0.5'); // prints 101
    expect(brief(ev2)).toContain('order #4 CANCELLED 0.5/0/2.5 IOC_REMAINDER');
  });

  test('post-only stop-limit that would take on trigger ends REJECTED POST_ONLY_WOULD_TAKE', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '2'); // #3
    h.stopLimit(1, 'BUY', '101', '101', '1', { postOnly: true }); // #4
    const ev = h.limit(2, 'BUY', '101', '0.5');
    expect(brief(ev)).toContain('order #4 REJECTED 0/0/1 POST_ONLY_WOULD_TAKE');
  });
});

describe('cascades', () => {
  test('a stop whose trades trigger further stops: rounds by price reached, oldest first within a round', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '1'); // #3
    h.limit(3, 'SELL', '102', '1'); // #4
    h.limit(3, 'SELL', '103', '1'); // #5
    h.limit(3, 'SELL', '104', '5'); // #6
    h.stop(1, 'BUY', '102', '1'); // #7: older, needs 102
    h.stop(2, 'BUY', '101', '1'); // #8: newer, needs 101
    h.stop(4, 'BUY', '103.5', '1'); // #9
    const ev = h.limit(5, 'BUY', '101', '0.5'); // #10 prints 101
    // Round 1 (last 101): only #8. It fills 0.5@101 and 0.5@102: last 102.
    // Round 2 (last 102): #7. It fills 0.5@102, 0.5@103: last 103. Round 3: nothing (#9 needs 103.5).
    expect(brief(ev)).toEqual([
      'trade #2 101x0.5 maker=3 taker=10 BUY',
      'trade #3 101x0.5 maker=3 taker=8 BUY',
      'trade #4 102x0.5 maker=4 taker=8 BUY',
      'trade #5 102x0.5 maker=4 taker=7 BUY',
      'trade #6 103x0.5 maker=5 taker=7 BUY',
      'order #10 FILLED 0.5/0/0',
      'order #3 FILLED 1/0/0',
      'order #8 FILLED 1/0/0',
      'order #4 FILLED 1/0/0',
      'order #7 FILLED 1/0/0',
      'order #5 PARTIALLY_FILLED 0.5/0.5/0',
      'book SELL 101 0',
      'book SELL 102 0',
      'book SELL 103 0.5',
    ]);
    expect(h.engine.order(9)?.status).toBe('PENDING_TRIGGER');
  });

  test('stops triggered by the same price run oldest first, whatever their stop prices', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '103', '10'); // #3
    h.stop(1, 'BUY', '102', '1'); // #4: older
    h.stop(2, 'BUY', '101', '1'); // #5: newer, lower stop
    h.stop(4, 'BUY', '102', '1'); // #6: same stop as #4, newer
    const ev = h.limit(5, 'BUY', '103', '1'); // prints 103: all three trigger in one round
    expect(trades(ev).map((t) => t.takerOrderId)).toEqual([7, 4, 5, 6]);
  });

  test('a sell cascade runs downward', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'BUY', '99', '1'); // #3
    h.limit(3, 'BUY', '98', '1'); // #4
    h.limit(3, 'BUY', '97', '1'); // #5
    h.stop(1, 'SELL', '99', '1'); // #6
    h.stop(2, 'SELL', '98', '1'); // #7
    const ev = h.limit(4, 'SELL', '99', '0.5'); // #8
    expect(trades(ev).map((t) => `${t.takerOrderId}@${t.price}x${t.quantity}`)).toEqual([
      '8@99x0.5',
      '6@99x0.5',
      '6@98x0.5',
      '7@98x0.5',
      '7@97x0.5',
    ]);
  });

  test('a chain of 20,000 stops, each triggered by the previous one, runs in one command', () => {
    const h = btc();
    const n = 20_000;
    print(h, '100');
    // asks one tick apart from 100.5 up, 0.001 each; buy stop k (at 100 + k/2) buys 0.001 at the next ask.
    for (let k = 1; k <= n + 1; k++) h.limit(3, 'SELL', String(100 + k / 2), '0.001');
    for (let k = 1; k <= n; k++) h.stop(1, 'BUY', String(100 + k / 2), '0.001');
    const ev = h.limit(2, 'BUY', '100.5', '0.001'); // prints 100.5: stop 1 buys 101, stop 2 buys 101.5, ...
    const ts = trades(ev);
    expect(ts).toHaveLength(n + 1);
    expect(ts[n].price).toBe(String(100 + (n + 1) / 2));
    expect(h.engine.lastTradePrice('BTC-PERP')).toBe(String(100 + (n + 1) / 2));
    expect(h.engine.markets.get('BTC-PERP')!.stops.size).toBe(0);
    expect(h.levels('SELL')).toEqual([]);
  });
});

describe('instruments are independent', () => {
  test('stops watch their own instrument’s last price; session end expires DAY orders everywhere', () => {
    const h = btc();
    h.run({ ...BTC, symbol: 'ETH-PERP', baseCurrency: 'ETH' });
    const eth = { symbol: 'ETH-PERP' };
    h.limit(3, 'SELL', '100', '1', eth); // #1 ETH ask
    h.stop(1, 'BUY', '100', '0.5', eth); // #2 ETH stop: ETH has no last price yet
    h.limit(3, 'SELL', '100', '1'); // #3 BTC
    h.limit(4, 'BUY', '100', '1'); // #4 BTC prints 100
    expect(h.engine.lastTradePrice('BTC-PERP')).toBe('100');
    expect(h.engine.lastTradePrice('ETH-PERP')).toBeUndefined();
    expect(h.engine.order(2)?.status).toBe('PENDING_TRIGGER');
    h.limit(5, 'BUY', '99', '1', { ...eth, timeInForce: 'DAY' }); // #5
    h.limit(5, 'BUY', '99', '1', { timeInForce: 'DAY' }); // #6
    const ev = h.sessionEnd();
    expect(brief(ev)).toEqual([
      'session_end 2',
      'order #5 EXPIRED 0/0/1 SESSION_END',
      'order #6 EXPIRED 0/0/1 SESSION_END',
      'book BUY 99 0',
      'book BUY 99 0',
    ]);
    expect(ev.filter((e) => e.type === 'book').map((e) => (e as { symbol: string }).symbol)).toEqual([
      'ETH-PERP',
      'BTC-PERP',
    ]);
  });

  test('an amended pending stop-limit triggers with its new price', () => {
    const h = btc();
    print(h, '100');
    h.limit(3, 'SELL', '101', '1'); // #3
    h.limit(3, 'SELL', '102', '1'); // #4
    h.stopLimit(1, 'BUY', '101', '101', '2'); // #5
    h.amend(1, 5, { price: '102' });
    const ev = h.limit(2, 'BUY', '101', '0.5'); // prints 101: #5 triggers with limit 102
    expect(trades(ev).map((t) => `${t.takerOrderId}@${t.price}x${t.quantity}`)).toEqual([
      '6@101x0.5',
      '5@101x0.5',
      '5@102x1',
    ]);
    expect(orders(ev).find((o) => o.orderId === 5)).toMatchObject({
      status: 'PARTIALLY_FILLED',
      price: '102',
    });
  });
});
