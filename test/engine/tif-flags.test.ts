/** Time in force (GTC, IOC, FOK, DAY) and the order flags (post-only, reduce-only, client order id). */
import { describe, expect, test } from 'vitest';
import { brief, btc, ofType, orders, trades } from './harness.js';

describe('GTC', () => {
  test('rests until cancelled, through a session end', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    expect(brief(h.sessionEnd())).toEqual(['session_end 0']);
    expect(h.engine.order(1)).toMatchObject({ status: 'NEW', timeInForce: 'GTC' });
    expect(brief(h.cancel(1, 1))).toEqual(['order #1 CANCELLED 0/0/1 USER', 'book BUY 100 0']);
  });
});

describe('IOC', () => {
  test('fills what it can, cancels the remainder IOC_REMAINDER, never rests', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(1, 'SELL', '101', '1');
    const ev = h.limit(2, 'BUY', '100.5', '3', { timeInForce: 'IOC' });
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=3 BUY',
      'order #3 CANCELLED 1/0/2 IOC_REMAINDER',
      'order #1 FILLED 1/0/0',
      'book SELL 100 0',
    ]);
    expect(h.levels('BUY')).toEqual([]);
  });

  test('with nothing to take it is cancelled whole, no book event', () => {
    const h = btc();
    h.limit(1, 'SELL', '101', '1');
    expect(brief(h.limit(2, 'BUY', '100', '1', { timeInForce: 'IOC' }))).toEqual([
      'order #2 CANCELLED 0/0/1 IOC_REMAINDER',
    ]);
  });

  test('fully filled IOC is FILLED', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    expect(orders(h.limit(2, 'BUY', '100', '1', { timeInForce: 'IOC' }))[0].status).toBe('FILLED');
  });
});

describe('FOK', () => {
  test('fills completely across levels when the liquidity within its limit covers it', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(3, 'SELL', '100.5', '1');
    const ev = h.limit(2, 'BUY', '100.5', '2', { timeInForce: 'FOK' });
    expect(brief(ev)).toEqual([
      'trade #1 100x1 maker=1 taker=3 BUY',
      'trade #2 100.5x1 maker=2 taker=3 BUY',
      'order #3 FILLED 2/0/0',
      'order #1 FILLED 1/0/0',
      'order #2 FILLED 1/0/0',
      'book SELL 100 0',
      'book SELL 100.5 0',
    ]);
  });

  test('refused FOK_NOT_FILLABLE when it cannot fill all: no trade, no book change', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(3, 'SELL', '101', '5'); // beyond the limit: does not count
    const ev = h.limit(2, 'BUY', '100.5', '1.001', { timeInForce: 'FOK' });
    expect(brief(ev)).toEqual(['order #3 REJECTED 0/0/1.001 FOK_NOT_FILLABLE']);
    expect(h.levels('SELL')).toEqual([
      ['100', '1'],
      ['101', '5'],
    ]);
  });

  test('a FOK market order counts every level; refused when the book is too thin', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    h.limit(1, 'BUY', '50', '1');
    expect(brief(h.market(2, 'SELL', '2.001', { timeInForce: 'FOK' }))).toEqual([
      'order #3 REJECTED 0/0/2.001 FOK_NOT_FILLABLE',
    ]);
    expect(orders(h.market(2, 'SELL', '2', { timeInForce: 'FOK' }))[0].status).toBe('FILLED');
  });

  test('self-trade: liquidity behind the own order does not count, so it is refused rather than partial', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1'); // #1
    h.limit(2, 'SELL', '100', '1'); // #2: the taker's own order
    h.limit(3, 'SELL', '100', '5'); // #3
    const ev = h.limit(2, 'BUY', '100', '1.5', { timeInForce: 'FOK' });
    expect(brief(ev)).toEqual(['order #4 REJECTED 0/0/1.5 FOK_NOT_FILLABLE']);
    expect(trades(ev)).toHaveLength(0);
    // Within what is reachable before the own order, it fills, and the own order is untouched.
    const ok = h.limit(2, 'BUY', '100', '1', { timeInForce: 'FOK' });
    expect(brief(ok)).toEqual([
      'trade #1 100x1 maker=1 taker=5 BUY',
      'order #5 FILLED 1/0/0',
      'order #1 FILLED 1/0/0',
      'book SELL 100 6',
    ]);
    expect(h.engine.order(2)).toMatchObject({ status: 'NEW', remainingQuantity: '1' });
  });
});

describe('DAY', () => {
  test('session_end expires resting and pending DAY orders: EXPIRED, expiredAt set, book cleared', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { timeInForce: 'DAY' }); // #1
    h.limit(1, 'BUY', '100', '2'); // #2 GTC
    h.limit(2, 'SELL', '101', '1', { timeInForce: 'DAY' }); // #3
    h.stop(2, 'BUY', '150', '1', { timeInForce: 'DAY' }); // #4
    h.limit(3, 'SELL', '100', '0.4'); // #5: fills 0.4 of #1
    h.stop(2, 'SELL', '50', '1'); // #6 GTC stop
    const ev = h.sessionEnd();
    expect(brief(ev)).toEqual([
      'session_end 3',
      'order #1 EXPIRED 0.4/0/0.6 SESSION_END',
      'order #3 EXPIRED 0/0/1 SESSION_END',
      'order #4 EXPIRED 0/0/1 SESSION_END',
      'book BUY 100 2',
      'book SELL 101 0',
    ]);
    for (const o of orders(ev)) expect(o).toMatchObject({ expiredAt: ev[0].ts, updatedAt: ev[0].ts });
    expect(h.engine.openOrders(1).map((o) => o.orderId)).toEqual([2]);
    expect(h.engine.openOrders(2).map((o) => o.orderId)).toEqual([6]);
    expect(brief(h.sessionEnd())).toEqual(['session_end 0']);
  });

  test('a DAY stop-limit that triggered and rests is expired from the book', () => {
    const h = btc();
    h.limit(9, 'SELL', '100', '0.001');
    h.limit(8, 'BUY', '100', '0.001'); // last 100
    h.stopLimit(1, 'SELL', '100', '105', '1', { timeInForce: 'DAY' }); // #3: triggers at once, rests at 105
    expect(h.levels('SELL')).toEqual([['105', '1']]);
    const ev = h.sessionEnd();
    expect(brief(ev)).toEqual(['session_end 1', 'order #3 EXPIRED 0/0/1 SESSION_END', 'book SELL 105 0']);
  });

  test('a DAY order placed after a session end waits for the next one', () => {
    const h = btc();
    h.sessionEnd();
    h.limit(1, 'BUY', '100', '1', { timeInForce: 'DAY' });
    expect(h.engine.order(1)?.status).toBe('NEW');
    expect(ofType(h.sessionEnd(), 'session_end')[0].expiredOrders).toBe(1);
  });
});

describe('post-only', () => {
  test('refused POST_ONLY_WOULD_TAKE when it would cross, nothing trades', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    const ev = h.limit(2, 'BUY', '100', '1', { postOnly: true });
    expect(brief(ev)).toEqual(['order #2 REJECTED 0/0/1 POST_ONLY_WOULD_TAKE']);
    expect(orders(ev)[0]).toMatchObject({ postOnly: true, rejectionReason: 'POST_ONLY_WOULD_TAKE' });
  });

  test('refused too when the only order it would cross is its own account’s', () => {
    const h = btc();
    h.limit(2, 'SELL', '100', '1');
    expect(brief(h.limit(2, 'BUY', '100', '1', { postOnly: true }))).toEqual([
      'order #2 REJECTED 0/0/1 POST_ONLY_WOULD_TAKE',
    ]);
  });

  test('rests when it would not cross, and then makes', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    const ev = h.limit(2, 'BUY', '99.5', '1', { postOnly: true, timeInForce: 'DAY' });
    expect(brief(ev)).toEqual(['order #2 NEW 0/1/0', 'book BUY 99.5 1']);
    expect(trades(h.limit(3, 'SELL', '99.5', '1'))[0]).toMatchObject({ makerOrderId: 2, takerOrderId: 3 });
  });

  test('an amend that would make it cross is refused and leaves it as it was', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    h.limit(2, 'BUY', '99', '1', { postOnly: true });
    expect(brief(h.amend(2, 2, { price: '100' }))).toEqual(['rejected amend_order POST_ONLY_WOULD_TAKE']);
    expect(h.engine.order(2)).toMatchObject({ price: '99', status: 'NEW' });
    expect(brief(h.amend(2, 2, { price: '99.5' }))).toEqual([
      'order #2 NEW 0/1/0',
      'book BUY 99 0',
      'book BUY 99.5 1',
    ]);
  });

  test('only a limit order that may rest can be post-only', () => {
    const h = btc();
    h.limit(1, 'SELL', '100', '1');
    for (const extra of [{ timeInForce: 'IOC' }, { timeInForce: 'FOK' }]) {
      expect(brief(h.limit(2, 'BUY', '90', '1', { postOnly: true, ...extra }))).toEqual([
        'rejected place_order INVALID_TIME_IN_FORCE',
      ]);
    }
    expect(brief(h.market(2, 'BUY', '1', { postOnly: true }))).toEqual([
      'rejected place_order INVALID_TIME_IN_FORCE',
    ]);
    expect(brief(h.stop(2, 'BUY', '101', '1', { postOnly: true }))).toEqual([
      'rejected place_order INVALID_TIME_IN_FORCE',
    ]);
  });
});

describe('reduce-only', () => {
  test('the flag is carried on the order state (the risk core enforces it)', () => {
    const h = btc();
    expect(orders(h.limit(1, 'BUY', '100', '1', { reduceOnly: true }))[0].reduceOnly).toBe(true);
    expect(orders(h.limit(1, 'BUY', '100', '1'))[0].reduceOnly).toBe(false);
    expect(orders(h.stop(1, 'SELL', '90', '1', { reduceOnly: true }))[0].reduceOnly).toBe(true);
    expect(h.engine.order(1)?.reduceOnly).toBe(true);
    expect(brief(h.limit(1, 'BUY', '100', '1', { reduceOnly: 'yes' }))).toEqual([
      'rejected place_order INVALID_COMMAND',
    ]);
  });
});

describe('client order id', () => {
  test('a duplicate among the account’s live orders is refused; the first stays', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { clientOrderId: 'a-1' });
    const ev = h.limit(1, 'BUY', '99', '2', { clientOrderId: 'a-1' });
    expect(brief(ev)).toEqual(['order #2 REJECTED 0/0/2 DUPLICATE_CLIENT_ORDER_ID']);
    expect(orders(ev)[0].clientOrderId).toBe('a-1');
    expect(h.engine.orderByClientId(1, 'a-1')?.orderId).toBe(1);
    expect(brief(h.cancel(1, 'a-1'))).toEqual(['order #1 CANCELLED 0/0/1 USER', 'book BUY 100 0']);
  });

  test('a pending stop holds its client order id too', () => {
    const h = btc();
    h.stop(1, 'BUY', '200', '1', { clientOrderId: 's' });
    expect(brief(h.limit(1, 'BUY', '99', '1', { clientOrderId: 's' }))).toEqual([
      'order #2 REJECTED 0/0/1 DUPLICATE_CLIENT_ORDER_ID',
    ]);
  });

  test('reusable once the first is final (filled, cancelled, IOC, refused)', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { clientOrderId: 'x' }); // #1
    h.cancel(1, 'x');
    expect(orders(h.limit(1, 'BUY', '100', '1', { clientOrderId: 'x' }))[0].status).toBe('NEW'); // #2
    h.limit(2, 'SELL', '100', '1'); // fills #2
    expect(h.engine.orderByClientId(1, 'x')).toBeUndefined();
    expect(orders(h.limit(1, 'BUY', '100', '1', { clientOrderId: 'x', timeInForce: 'IOC' }))[0].status).toBe(
      'CANCELLED',
    );
    expect(orders(h.limit(1, 'BUY', '100', '1', { clientOrderId: 'x' }))[0].status).toBe('NEW');
  });

  test('another account may use the same id at the same time', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1', { clientOrderId: 'same' });
    expect(orders(h.limit(2, 'BUY', '100', '1', { clientOrderId: 'same' }))[0].status).toBe('NEW');
    expect(h.engine.orderByClientId(2, 'same')?.orderId).toBe(2);
  });

  test('malformed ids are refused INVALID_COMMAND', () => {
    const h = btc();
    for (const clientOrderId of ['', 'has space', 'x'.repeat(65), 7, 'é']) {
      expect(brief(h.limit(1, 'BUY', '100', '1', { clientOrderId }))).toEqual([
        'rejected place_order INVALID_COMMAND',
      ]);
    }
    expect(orders(h.limit(1, 'BUY', '100', '1', { clientOrderId: 'x'.repeat(64) }))[0].status).toBe('NEW');
  });
});
