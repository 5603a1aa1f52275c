/**
 * place_batch: several orders in one request, sequenced back to back, one reply with an answer per order in
 * the request's order; each order stands or falls on its own; the whole request is refused only for its
 * form or its rate cost.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import { type Json, RawClient, withMarket } from './helpers.js';

const SYM = 'BTC-PERP';
const limit = (side: 'BUY' | 'SELL', price: string, extra: Record<string, unknown> = {}) => ({
  symbol: SYM,
  side,
  orderType: 'LIMIT',
  price,
  quantity: '0.001',
  ...extra,
});

describe('place_batch', () => {
  const m = withMarket(['alice', 'bob'], { maxOpenOrders: 6 });

  it('answers every order in order, each as place would, from consecutive commands', async () => {
    const b = await RawClient.connect(m.server);
    await b.auth(m.traders.bob!);
    await b.call('place', limit('SELL', '105'));
    const a = await RawClient.connect(m.server);
    await a.auth(m.traders.alice!);
    await a.call('subscribe', { channel: 'private' });
    const r = await a.call('place_batch', {
      orders: [
        limit('BUY', '100', { clientOrderId: 'q-1' }),
        limit('BUY', '100.3'), // off the tick: the engine refuses this one alone
        limit('BUY', '105'), // takes Bob's ask
        limit('SELL', '104', { postOnly: true }), // would take nothing, rests
        limit('BUY', '99', { clientOrderId: 'q-1' }), // the first one's client order id: refused here
      ],
    });
    const [first, offTick, taker, maker, dup] = r.result.results as Json[];
    expect(first.result.order).toMatchObject({ status: 'NEW', clientOrderId: 'q-1', price: '100' });
    expect(offTick.error).toMatchObject({
      code: 'PRICE_NOT_ON_TICK',
      data: { seq: expect.any(Number) },
    });
    expect(taker.result.order.status).toBe('FILLED');
    expect(taker.result.fills).toHaveLength(1);
    expect(maker.result.order).toMatchObject({ status: 'NEW', side: 'SELL' });
    expect(dup.error.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    // Back to back: the engine seqs of the four that reached it are consecutive.
    const seqs = [first.result.seq, offTick.error.data.seq, taker.result.seq, maker.result.seq];
    expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2, seqs[0] + 3]);
    // The private stream saw them like any other orders.
    await a.next((msg: Json) => msg.channel === 'private' && msg.engineSeq === seqs[3]);
    await a.call('cancel_all');
    await b.call('cancel_all');
    a.close();
    b.close();
  });

  it('applies the open-order limit order by order', async () => {
    const c = new ExchangeClient({
      url: `ws://127.0.0.1:${m.server.port}/ws`,
      apiKey: m.traders.alice!.apiKey,
      secret: m.traders.alice!.secret,
    });
    await c.connect();
    const orders = Array.from({ length: 8 }, (_, i) => limit('BUY', String(50 + i)) as never);
    const { results } = await c.placeBatch(orders);
    const codes = results.map((x) => ('result' in x ? x.result.order.status : x.error.code));
    expect(codes).toEqual([...Array(6).fill('NEW'), 'TOO_MANY_OPEN_ORDERS', 'TOO_MANY_OPEN_ORDERS']);
    await c.cancelAll();
    c.close();
  });

  it('refuses the whole request for its form, naming the order and field', async () => {
    const a = await RawClient.connect(m.server);
    await a.auth(m.traders.alice!);
    const bad: [unknown, string][] = [
      [{}, 'orders'],
      [{ orders: [] }, 'orders'],
      [{ orders: Array(21).fill(limit('BUY', '10')) }, 'orders'],
      [{ orders: [limit('BUY', '10'), { ...limit('BUY', '10'), price: 10 }] }, 'orders[1].price'],
      [{ orders: [limit('BUY', '10', { accountId: m.traders.alice!.accountId })] }, 'orders[0].accountId'],
    ];
    for (const [params, field] of bad) {
      const r = await a.call('place_batch', params);
      expect(r.error, field).toMatchObject({ code: 'INVALID_PARAMS', data: { field } });
    }
    expect((await a.call('open_orders')).result.orders).toEqual([]);
    a.close();
  });
});

describe('place_batch and the rate budget', () => {
  // 55 units: a login (10) and four places (40); a batch costs what its orders cost as single places.
  const m = withMarket(['carol'], { connRateBurst: 55, connRatePerSec: 0.01 });

  it('charges the sum of its orders up front, and refuses a batch the budget cannot pay', async () => {
    const c = await RawClient.connect(m.server);
    await c.auth(m.traders.carol!);
    const five = Array.from({ length: 5 }, (_, i) => limit('BUY', String(20 + i)));
    const refused = await c.call('place_batch', { orders: five });
    expect(refused.error).toMatchObject({ code: 'RATE_LIMITED', data: { scope: 'connection' } });
    const ok = await c.call('place_batch', { orders: five.slice(0, 4) });
    expect(ok.result.results.every((x: Json) => x.result?.order.status === 'NEW')).toBe(true);
    // 5 units left: a reduce-only order costs 2 in a batch as alone (so it is let through, and the engine
    // refuses it: carol has no position), a plain one 10.
    const ro = await c.call('place_batch', { orders: [limit('SELL', '30', { reduceOnly: true })] });
    expect(ro.result.results[0].error.code).toBe('REDUCE_ONLY_NO_POSITION');
    expect((await c.call('place_batch', { orders: [limit('BUY', '30')] })).error.code).toBe('RATE_LIMITED');
    // A batch dearer than the whole burst would never pass: said so, with no retry hint.
    const huge = await c.call('place_batch', { orders: Array(6).fill(limit('BUY', '31')) });
    expect(huge.error).toMatchObject({
      code: 'RATE_LIMITED',
      data: { scope: 'connection', cost: 60, burst: 55, retryAfterMs: null },
    });
    c.close();
  });
});
