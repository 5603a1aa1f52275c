/**
 * Final orders' objects are reused for new orders (Engine.newOrder / recycle). A reused object must start
 * as clean as a new one: nothing of the order it was (client order id, stop price, fills, reasons, expiry,
 * commission override) may leak into the next, and an engine restored from a snapshot (fresh objects only)
 * must go on exactly as the one that recycles.
 */
import { describe, expect, test } from 'vitest';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { btc, Harness, orders } from './harness.js';

describe('recycled order objects', () => {
  test('an order built from a recycled object carries nothing of the one before', () => {
    const h = btc();
    // An order with every cold field set, which then ends: its object goes back to the pool.
    h.place(1, 'BUY', 'STOP_LIMIT', '1', { stopPrice: '120', price: '121', clientOrderId: 'old-1' });
    h.run({ type: 'cancel_order', accountId: 1, clientOrderId: 'old-1' });
    h.limit(2, 'SELL', '100', '1', { clientOrderId: 'maker' });
    h.limit(3, 'BUY', '100', '0.5'); // partial fill of the maker
    h.run({ type: 'cancel_order', accountId: 2, clientOrderId: 'maker' });
    // New orders now take those objects.
    const [plain] = orders(h.limit(4, 'BUY', '90', '2'));
    expect(plain).toMatchObject({
      accountId: 4,
      clientOrderId: null,
      stopPrice: null,
      filledQuantity: '0',
      cancelledQuantity: '0',
      averagePrice: null,
      filledNotional: '0',
      status: 'NEW',
      cancelReason: null,
      rejectionReason: null,
      expiredAt: null,
      origin: 'USER',
    });
    // The old client order ids are free and belong to nobody's live order.
    expect(h.engine.orderByClientId(1, 'old-1')).toBeUndefined();
    expect(h.engine.orderByClientId(2, 'maker')).toBeUndefined();
    expect(h.engine.openOrders(4).map((o) => o.orderId)).toEqual([plain.orderId]);
  });

  test('an engine restored from a snapshot (no recycled objects) continues identically', () => {
    const a = btc();
    for (let i = 0; i < 200; i++) {
      const side = i % 2 === 0 ? 'BUY' : 'SELL';
      const price = String(100 + ((i * 7) % 5) - 2);
      a.limit(1 + (i % 5), side, price, '1', i % 3 === 0 ? { clientOrderId: `c${i}` } : {});
      if (i % 4 === 3) a.run({ type: 'cancel_all', accountId: 1 + (i % 5) });
    }
    const b = new Harness({ risk: false }, restoreEngine(snapshotEngine(a.engine), { risk: false }));
    b.ts = a.ts;
    for (let i = 0; i < 200; i++) {
      const side = i % 3 === 0 ? 'BUY' : 'SELL';
      const body = {
        type: 'place_order',
        accountId: 1 + (i % 4),
        symbol: 'BTC-PERP',
        side,
        orderType: 'LIMIT',
        timeInForce: 'GTC',
        price: String(99 + (i % 4)),
        quantity: '1',
      } as const;
      expect(b.run(body)).toEqual(a.run(body));
    }
    expect(b.engine.stateHash()).toBe(a.engine.stateHash());
  });
});
