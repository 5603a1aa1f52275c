/**
 * A client order id stands for one order beyond that order's life: a retry after a timeout must never open
 * a second order, even when the first one has already filled. The engine refuses ids of live orders; the
 * gateway refuses ids of the account's last ended orders (FINAL_ORDERS_REMEMBERED) and of places still in
 * flight, and tells the trader what became of the first order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';

describe('client order ids are not reused', () => {
  let server: ExchangeServer;
  let maker: Trader;
  let taker: Trader;
  beforeAll(async () => {
    server = await startServer({ finalOrdersRemembered: 3 });
    await createInstrument(server);
    maker = await createTrader(server, 'maker');
    taker = await createTrader(server, 'taker');
  });
  afterAll(async () => server.stop());

  /** The maker rests an ask at 100; the taker's IOC buy of `quantity` at 100 would fill against it. */
  async function crossing(quantity: string) {
    const m = await RawClient.connect(server);
    await m.auth(maker);
    const t = await RawClient.connect(server);
    await t.auth(taker);
    await m.call('place', { symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '100', quantity: '0.01' });
    const buy = { symbol: SYM, side: 'BUY', orderType: 'LIMIT', timeInForce: 'IOC', price: '100', quantity };
    return { m, t, buy };
  }

  it('a retry of a filled order is refused with the first order, and opens nothing', async () => {
    const { m, t, buy } = await crossing('0.004');
    const first = await t.call('place', { ...buy, clientOrderId: 'retry-1' });
    expect(first.result.order.status).toBe('FILLED');
    const retry = await t.call('place', { ...buy, clientOrderId: 'retry-1' });
    expect(retry.error.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    expect(retry.error.data.order).toMatchObject({
      orderId: first.result.order.orderId,
      clientOrderId: 'retry-1',
      status: 'FILLED',
      filledQuantity: '0.004',
    });
    const positions = await t.call('positions', {});
    expect(positions.result.positions.map((p: { quantity: string }) => p.quantity)).toEqual(['0.004']);
    m.close();
    t.close();
  });

  it('of two places sent at once with one client order id, exactly one becomes an order', async () => {
    const { m, t, buy } = await crossing('0.001');
    const both = await Promise.all([
      t.call('place', { ...buy, clientOrderId: 'twice' }),
      t.call('place', { ...buy, clientOrderId: 'twice' }),
    ]);
    expect(both.filter((r) => r.result?.order.status === 'FILLED')).toHaveLength(1);
    expect(both.filter((r) => r.error?.code === 'DUPLICATE_CLIENT_ORDER_ID')).toHaveLength(1);
    m.close();
    t.close();
  });

  it('an id leaves the window after FINAL_ORDERS_REMEMBERED newer ended orders, and is free again', async () => {
    const t = await RawClient.connect(server);
    await t.auth(taker);
    const rest = (coid: string) =>
      t.call('place', {
        symbol: SYM,
        side: 'BUY',
        orderType: 'LIMIT',
        price: '50',
        quantity: '0.001',
        clientOrderId: coid,
      });
    const a = await rest('w-0');
    await t.call('cancel', { orderId: a.result.order.orderId });
    expect((await rest('w-0')).error.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    for (const coid of ['w-1', 'w-2', 'w-3']) {
      const o = await rest(coid);
      await t.call('cancel', { orderId: o.result.order.orderId });
    }
    expect((await rest('w-0')).result.order.status).toBe('NEW');
    t.close();
  });
});
