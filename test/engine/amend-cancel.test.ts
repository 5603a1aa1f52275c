/** Amend, cancel, cancel-all, self-trade prevention, order state fields and L2 deltas. */
import { describe, expect, test } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import { BTC, brief, btc, Harness, ofType, orders, trades } from './harness.js';

/** Account 9 sells `quantity` at `price` and returns the maker order ids in the order they filled. */
function makersHit(h: Harness, price: string, quantity: string): number[] {
  return trades(h.limit(9, 'SELL', price, quantity)).map((t) => t.makerOrderId);
}

describe('amend', () => {
  test('a pure quantity decrease keeps time priority', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '2'); // #1
    h.limit(2, 'BUY', '100', '1'); // #2
    expect(brief(h.amend(1, 1, { quantity: '1.5' }))).toEqual(['order #1 NEW 0/1.5/0', 'book BUY 100 2.5']);
    expect(makersHit(h, '100', '2')).toEqual([1, 2]);
  });

  test('a quantity increase loses time priority', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(2, 'BUY', '100', '1'); // #2
    expect(brief(h.amend(1, 1, { quantity: '1.5' }))).toEqual(['order #1 NEW 0/1.5/0', 'book BUY 100 2.5']);
    expect(makersHit(h, '100', '2')).toEqual([2, 1]);
  });

  test('a price change loses time priority, even back to the same price', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(2, 'BUY', '100', '1'); // #2
    h.amend(1, 1, { price: '99.5' });
    expect(brief(h.amend(1, 1, { price: '100' }))).toEqual([
      'order #1 NEW 0/1/0',
      'book BUY 99.5 0',
      'book BUY 100 2',
    ]);
    expect(makersHit(h, '100', '2')).toEqual([2, 1]);
  });

  test('a price and quantity change together', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const ev = h.amend(1, 1, { price: '99', quantity: '0.5' });
    expect(brief(ev)).toEqual(['order #1 NEW 0/0.5/0', 'book BUY 100 0', 'book BUY 99 0.5']);
    expect(orders(ev)[0]).toMatchObject({ price: '99', quantity: '0.5' });
  });

  test('the order alone on its level, increased: one book event for the level', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    expect(brief(h.amend(1, 1, { quantity: '3' }))).toEqual(['order #1 NEW 0/3/0', 'book BUY 100 3']);
  });

  test('a price change that crosses trades at once, as the taker, at the maker price', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1'); // #1
    h.limit(2, 'BUY', '99', '1.5'); // #2
    const ev = h.amend(2, 2, { price: '100.5' });
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=2 BUY',
      'order #2 PARTIALLY_FILLED 1/0.5/0',
      'order #1 FILLED 1/0/0',
      'book BUY 99 0',
      'book SELL 100 0',
      'book BUY 100.5 0.5',
    ]);
  });

  test('a quantity may not go to or below what is filled: AMEND_BELOW_FILLED', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(2, 'SELL', '100', '0.4');
    expect(brief(h.amend(1, 1, { quantity: '0.4' }))).toEqual(['rejected amend_order AMEND_BELOW_FILLED']);
    expect(brief(h.amend(1, 1, { quantity: '0.3' }))).toEqual(['rejected amend_order AMEND_BELOW_FILLED']);
    // Quantity is the new total, filled part included: 0.5 leaves 0.1 open, and keeps priority.
    expect(brief(h.amend(1, 1, { quantity: '0.5' }))).toEqual([
      'order #1 PARTIALLY_FILLED 0.4/0.1/0',
      'book BUY 100 0.1',
    ]);
  });

  test('AMEND_NO_CHANGE when nothing would change', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    expect(brief(h.amend(1, 1, {}))).toEqual(['rejected amend_order AMEND_NO_CHANGE']);
    expect(brief(h.amend(1, 1, { price: '100.0', quantity: '1.000' }))).toEqual([
      'rejected amend_order AMEND_NO_CHANGE',
    ]);
  });

  test('bad values are refused with their reason; the order is untouched', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    expect(brief(h.amend(1, 1, { price: '100.2' }))).toEqual(['rejected amend_order PRICE_NOT_ON_TICK']);
    expect(brief(h.amend(1, 1, { quantity: '0.0001' }))).toEqual([
      'rejected amend_order QUANTITY_NOT_ON_LOT',
    ]);
    expect(brief(h.amend(1, 1, { quantity: '1001' }))).toEqual(['rejected amend_order QUANTITY_ABOVE_MAX']);
    expect(brief(h.amend(1, 1, { quantity: '0' }))).toEqual(['rejected amend_order INVALID_QUANTITY']);
    expect(brief(h.amend(1, 1, { price: '-1' }))).toEqual(['rejected amend_order INVALID_PRICE']);
    expect(h.engine.order(1)).toMatchObject({ price: '100', quantity: '1' });
  });

  test('amend by client order id; refused for another account’s order', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { clientOrderId: 'c' });
    expect(brief(h.amend(2, 1, { quantity: '2' }))).toEqual(['rejected amend_order UNKNOWN_ORDER']);
    expect(brief(h.amend(2, 'c', { quantity: '2' }))).toEqual(['rejected amend_order UNKNOWN_ORDER']);
    expect(brief(h.amend(1, 'c', { quantity: '2' }))).toEqual(['order #1 NEW 0/2/0', 'book BUY 100 2']);
  });

  test('risk on: an order the risk core clipped counts its cancelled part in the new total', () => {
    const h = new Harness({ risk: true });
    h.run(BTC);
    h.run({ type: 'create_user', name: 't', email: null });
    for (const accountId of [1, 2]) {
      h.run({
        type: 'open_account',
        userId: 1,
        currency: 'USD',
        maxLeverage: '100',
        marginEnabled: true,
        autoLiquidation: true,
      });
      h.run({ type: 'deposit', accountId, amount: '100000' });
    }
    h.limit(2, 'SELL', '100', '1');
    h.limit(1, 'BUY', '100', '1'); // account 1 is long 1
    // a reduce-only sell of 3 is clipped to the position: 1 live, 2 cancelled at once
    expect(brief(orders(h.limit(1, 'SELL', '200', '3', { reduceOnly: true })))).toEqual([
      'order #3 NEW 0/1/2',
    ]);
    expect(brief(h.amend(1, 3, { quantity: '2' }))).toEqual(['rejected amend_order AMEND_BELOW_FILLED']);
    const ev = orders(h.amend(1, 3, { quantity: '2.5' }));
    expect(brief(ev)).toEqual(['order #3 NEW 0/0.5/2']); // keeps its place: a decrease
  });

  test('amend of a pending stop-limit: it stays pending with its new price and quantity', () => {
    const h = btc();
    h.stopLimit(1, 'BUY', '110', '111', '1');
    expect(brief(h.amend(1, 1, { price: '112', quantity: '2' }))).toEqual(['order #1 PENDING_TRIGGER 0/2/0']);
    expect(h.engine.order(1)).toMatchObject({ price: '112', stopPrice: '110', quantity: '2' });
    expect(h.levels('BUY')).toEqual([]);
  });

  test('amend of a pending stop (market): quantity yes, price is UNEXPECTED_PRICE', () => {
    const h = btc();
    h.stop(1, 'SELL', '90', '1');
    expect(brief(h.amend(1, 1, { price: '89' }))).toEqual(['rejected amend_order UNEXPECTED_PRICE']);
    expect(brief(h.amend(1, 1, { quantity: '0.5' }))).toEqual(['order #1 PENDING_TRIGGER 0/0.5/0']);
  });
});

describe('cancel', () => {
  test('by order id and by client order id', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(1, 'BUY', '100', '2', { clientOrderId: 'k' }); // #2
    expect(brief(h.cancel(1, 1))).toEqual(['order #1 CANCELLED 0/0/1 USER', 'book BUY 100 2']);
    expect(brief(h.cancel(1, 'k'))).toEqual(['order #2 CANCELLED 0/0/2 USER', 'book BUY 100 0']);
  });

  test('a partially filled order cancels its remainder', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    h.limit(2, 'SELL', '100', '0.25');
    const ev = h.cancel(1, 1);
    expect(brief(ev)).toEqual(['order #1 CANCELLED 0.25/0/0.75 USER', 'book BUY 100 0']);
    expect(orders(ev)[0]).toMatchObject({ averagePrice: '100', filledNotional: '25' });
  });

  test('another account’s order is UNKNOWN_ORDER, and stays', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { clientOrderId: 'mine' });
    const ev = h.cancel(2, 1);
    expect(ev).toEqual([
      {
        type: 'rejected',
        seq: 3,
        ts: ev[0].ts,
        command: 'cancel_order',
        reason: 'UNKNOWN_ORDER',
        accountId: 2,
        orderId: 1,
        clientOrderId: null,
      },
    ]);
    expect(brief(h.cancel(2, 'mine'))).toEqual(['rejected cancel_order UNKNOWN_ORDER']);
    expect(h.engine.order(1)?.status).toBe('NEW');
  });

  test('unknown, final, and malformed references', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    h.cancel(1, 1);
    expect(brief(h.cancel(1, 1))).toEqual(['rejected cancel_order UNKNOWN_ORDER']);
    expect(brief(h.cancel(1, 42))).toEqual(['rejected cancel_order UNKNOWN_ORDER']);
    expect(brief(h.cancel(1, 'nope'))).toEqual(['rejected cancel_order UNKNOWN_ORDER']);
    expect(
      brief(h.run({ type: 'cancel_order', accountId: 1, orderId: 1, clientOrderId: 'x' } as never)),
    ).toEqual(['rejected cancel_order INVALID_COMMAND']);
    expect(brief(h.run({ type: 'cancel_order', accountId: 1 } as never))).toEqual([
      'rejected cancel_order INVALID_COMMAND',
    ]);
    expect(brief(h.run({ type: 'cancel_order', accountId: 0, orderId: 1 }))).toEqual([
      'rejected cancel_order INVALID_COMMAND',
    ]);
  });

  test('cancel-all for an account: every live order and stop, oldest first; others untouched', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(2, 'BUY', '100', '1'); // #2
    h.stop(1, 'BUY', '200', '1'); // #3
    h.limit(1, 'SELL', '101', '1'); // #4
    h.limit(1, 'BUY', '99', '1'); // #5
    expect(brief(h.cancelAll(1))).toEqual([
      'order #1 CANCELLED 0/0/1 CANCEL_ALL',
      'order #3 CANCELLED 0/0/1 CANCEL_ALL',
      'order #4 CANCELLED 0/0/1 CANCEL_ALL',
      'order #5 CANCELLED 0/0/1 CANCEL_ALL',
      'book BUY 100 1',
      'book SELL 101 0',
      'book BUY 99 0',
    ]);
    expect(h.engine.openOrders(1)).toEqual([]);
    expect(h.engine.openOrders(2)).toHaveLength(1);
    expect(h.cancelAll(1)).toEqual([]);
  });

  test('cancel-all stays oldest first after amends', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(1, 'BUY', '99', '1'); // #2
    h.stopLimit(1, 'BUY', '200', '201', '1'); // #3
    h.amend(1, 1, { quantity: '2' }); // cancel-replace under the same id
    h.amend(1, 3, { quantity: '2' });
    expect(orders(h.cancelAll(1)).map((o) => o.orderId)).toEqual([1, 2, 3]);
  });

  test('cancel-all for one instrument', () => {
    const h = btc();
    h.run({ ...BTC, symbol: 'ETH-PERP', baseCurrency: 'ETH' });
    h.limit(1, 'BUY', '100', '1'); // #1 BTC
    h.limit(1, 'BUY', '10', '1', { symbol: 'ETH-PERP' }); // #2 ETH
    expect(brief(h.cancelAll(1, 'ETH-PERP'))).toEqual([
      'order #2 CANCELLED 0/0/1 CANCEL_ALL',
      'book BUY 10 0',
    ]);
    expect(h.engine.openOrders(1).map((o) => o.orderId)).toEqual([1]);
    expect(brief(h.cancelAll(1, 'DOGE-PERP'))).toEqual(['rejected cancel_all UNKNOWN_INSTRUMENT']);
  });

  test('a cancel sent on the trader’s behalf records its source as the cancel reason', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1'); // #1
    h.limit(1, 'BUY', '99', '1'); // #2
    h.limit(1, 'BUY', '98', '1'); // #3
    expect(brief(h.run({ type: 'cancel_order', accountId: 1, orderId: 1, source: 'DISCONNECT' }))).toEqual([
      'order #1 CANCELLED 0/0/1 DISCONNECT',
      'book BUY 100 0',
    ]);
    expect(brief(h.run({ type: 'cancel_all', accountId: 1, source: 'CANCEL_ALL_AFTER' }))).toEqual([
      'order #2 CANCELLED 0/0/1 CANCEL_ALL_AFTER',
      'order #3 CANCELLED 0/0/1 CANCEL_ALL_AFTER',
      'book BUY 99 0',
      'book BUY 98 0',
    ]);
    // A source the engine does not know (a journal written by a newer version) is refused, not guessed.
    const unknown = { type: 'cancel_all', accountId: 1, source: 'SOMEONE' } as unknown as CommandBody;
    expect(brief(h.run(unknown))).toEqual(['rejected cancel_all INVALID_COMMAND']);
  });
});

describe('self-trade prevention (expire taker)', () => {
  test('fills before the own order stand, the remainder is cancelled, the resting order is untouched', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1'); // #1
    h.limit(2, 'SELL', '100', '1'); // #2: the taker's own
    h.limit(3, 'SELL', '100', '1'); // #3
    h.limit(3, 'SELL', '100.5', '1'); // #4
    const ev = h.limit(2, 'BUY', '100.5', '3'); // #5
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=5 BUY',
      'order #5 CANCELLED 1/0/2 SELF_TRADE_PREVENTED',
      'order #1 FILLED 1/0/0',
      'book SELL 100 2',
    ]);
    expect(h.engine.order(2)).toMatchObject({ status: 'NEW', filledQuantity: '0', remainingQuantity: '1' });
    expect(h.levels('SELL')).toEqual([
      ['100', '2'],
      ['100.5', '1'],
    ]);
  });

  test('own order first in line: no fill, no book event', () => {
    const h = btc();
    h.limit(2, 'SELL', '100', '1');
    h.limit(3, 'SELL', '100', '1');
    expect(brief(h.market(2, 'BUY', '1'))).toEqual(['order #3 CANCELLED 0/0/1 SELF_TRADE_PREVENTED']);
  });

  test('a triggered stop meeting its own resting order is cancelled SELF_TRADE_PREVENTED', () => {
    const h = btc();
    h.limit(3, 'SELL', '100', '0.001'); // #1
    h.limit(1, 'SELL', '100.5', '1'); // #2
    h.stop(1, 'BUY', '100', '1'); // #3
    const ev = h.limit(4, 'BUY', '100', '0.001'); // prints 100
    expect(brief(ev)).toContain('order #3 CANCELLED 0/0/1 SELF_TRADE_PREVENTED');
  });
});

describe('order state and L2', () => {
  test('averagePrice rounds half-even to 8 places; filledNotional is exact', () => {
    // 2.04 @ 100 + 0.008 @ 100.5 = 204.804 over 2.048 = 100.001953125: a tie at the 9th place -> even (2)
    const h = btc();
    h.limit(1, 'SELL', '100', '2.04');
    h.limit(1, 'SELL', '100.5', '0.008');
    const a = orders(h.market(2, 'BUY', '2.048'))[0];
    expect(a).toMatchObject({
      averagePrice: '100.00195312',
      filledNotional: '204.804',
      filledQuantity: '2.048',
    });
    // 2.024 @ 100 + 0.024 @ 100.5 = 204.812 / 2.048 = 100.005859375: a tie -> up to the even 8
    const g = btc();
    g.limit(1, 'SELL', '100', '2.024');
    g.limit(1, 'SELL', '100.5', '0.024');
    expect(orders(g.market(2, 'BUY', '2.048'))[0]).toMatchObject({
      averagePrice: '100.00585938',
      filledNotional: '204.812',
    });
    // 2.044 @ 100 + 0.004 @ 100.5 = 204.802 / 2.048 = 100.0009765625: below the half -> down
    const d = btc();
    d.limit(1, 'SELL', '100', '2.044');
    d.limit(1, 'SELL', '100.5', '0.004');
    expect(orders(d.market(2, 'BUY', '2.048'))[0].averagePrice).toBe('100.00097656');
  });

  test('every order event carries filled + remaining + cancelled = quantity', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '0.3');
    h.limit(1, 'SELL', '101', '0.3');
    const ev = h.limit(2, 'BUY', '100.5', '1', { timeInForce: 'IOC' });
    const o = orders(ev)[0];
    expect([o.quantity, o.filledQuantity, o.remainingQuantity, o.cancelledQuantity]).toEqual([
      '1',
      '0.3',
      '0',
      '0.7',
    ]);
  });

  test('one book event per changed level per command, however many orders it touched', () => {
    const h = btc();
    for (let i = 0; i < 5; i++) h.limit(1 + i, 'SELL', '100', '1');
    h.limit(9, 'SELL', '101', '1');
    const ev = h.limit(8, 'BUY', '101', '5.5');
    expect(ofType(ev, 'book').map((b) => `${b.side} ${b.price} ${b.quantity}`)).toEqual([
      'SELL 100 0',
      'SELL 101 0.5',
    ]);
  });

  test('events of a command come in order: trades, then orders, then book levels', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(1, 'SELL', '101', '1');
    const kinds = h.limit(2, 'BUY', '102', '3').map((e) => e.type);
    expect(kinds).toEqual(['trade', 'trade', 'order', 'order', 'order', 'book', 'book', 'book']);
    for (const e of h.log.slice(-kinds.length)) expect(e.seq).toBe(h.engine.lastSeq);
  });
});
