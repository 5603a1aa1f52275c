/**
 * A trader sets a position's stop-loss and take-profit over the protocol (`set_position_tpsl`): the reply
 * is the position; a mark across the stop-loss closes the position with a reduce-only market order; null
 * clears a level; refusals carry their codes.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import { admin, type Json, RawClient, withMarket } from './helpers.js';

const SYM = 'BTC-PERP';
const limit = (side: 'BUY' | 'SELL', price: string, quantity: string) => ({
  symbol: SYM,
  side,
  orderType: 'LIMIT',
  price,
  quantity,
});

describe('set_position_tpsl', () => {
  const m = withMarket(['alice', 'bob', 'carol']);

  it('sets and clears the levels, and a mark across the stop-loss closes the position', async () => {
    const a = await RawClient.connect(m.server);
    const b = await RawClient.connect(m.server);
    await a.auth(m.traders.alice!);
    await b.auth(m.traders.bob!);
    await a.call('subscribe', { channel: 'private' });
    // Alice goes long 1 at 100 against Bob; Bob's bid at 90 is what the stop-loss will sell into.
    await b.call('place', limit('SELL', '100', '1'));
    expect((await a.call('place', limit('BUY', '100', '1'))).result.order.status).toBe('FILLED');
    await b.call('place', limit('BUY', '90', '1'));

    const set = await a.call('set_position_tpsl', { symbol: SYM, stopLoss: '95', takeProfit: '120' });
    expect(set.result).toMatchObject({
      position: {
        accountId: m.traders.alice!.accountId,
        symbol: SYM,
        side: 'LONG',
        quantity: '1',
        stopLoss: '95',
        takeProfit: '120',
      },
      seq: expect.any(Number),
      ts: expect.any(Number),
    });
    expect(set.result.position.type).toBeUndefined();
    // An absent field is left as it is; null clears.
    const cleared = await a.call('set_position_tpsl', { symbol: SYM, takeProfit: null });
    expect(cleared.result.position).toMatchObject({ stopLoss: '95', takeProfit: null });
    const positions = await a.call('positions');
    expect(positions.result.positions[0]).toMatchObject({ stopLoss: '95', takeProfit: null });

    expect((await admin(m.server, 'POST', '/v1/mark-prices', { symbol: SYM, price: '94' })).status).toBe(200);
    const closing = await a.next(
      (m: Json) =>
        m.channel === 'private' &&
        m.type === 'update' &&
        m.orders?.some((o: Json) => o.origin === 'STOP_LOSS'),
    );
    expect(closing.orders.find((o: Json) => o.origin === 'STOP_LOSS')).toMatchObject({
      side: 'SELL',
      orderType: 'MARKET',
      reduceOnly: true,
      status: 'FILLED',
    });
    expect(closing.positions[0]).toMatchObject({ quantity: '0', status: 'CLOSED' });
    a.close();
    b.close();
  });

  it('refuses what it cannot set, with codes a program can act on', async () => {
    const c = await RawClient.connect(m.server);
    await c.auth(m.traders.carol!);
    // No position to protect.
    expect((await c.call('set_position_tpsl', { symbol: SYM, stopLoss: '90' })).error).toMatchObject({
      code: 'REDUCE_ONLY_NO_POSITION',
      data: { seq: expect.any(Number) },
    });
    const bad: [Record<string, unknown>, string][] = [
      [{ symbol: SYM }, 'stopLoss'],
      [{ symbol: SYM, stopLoss: 95 }, 'stopLoss'],
      [{ symbol: SYM, takeProfit: '-1' }, 'takeProfit'],
      [{ stopLoss: '95' }, 'symbol'],
      [{ symbol: SYM, stopLoss: '95', trailing: true }, 'trailing'],
    ];
    for (const [params, field] of bad) {
      const r = await c.call('set_position_tpsl', params);
      expect(r.error, JSON.stringify(params)).toMatchObject({ code: 'INVALID_PARAMS', data: { field } });
    }
    c.close();
  });

  it('the typed client sets them, and a price off the tick is refused', async () => {
    const b = await RawClient.connect(m.server);
    await b.auth(m.traders.bob!);
    await b.call('place', limit('SELL', '100', '0.5'));
    b.close();
    const c = new ExchangeClient({
      url: `ws://127.0.0.1:${m.server.port}/ws`,
      apiKey: m.traders.carol!.apiKey,
      secret: m.traders.carol!.secret,
    });
    await c.connect();
    await c.place({ symbol: SYM, side: 'BUY', orderType: 'MARKET', quantity: '0.5' });
    const r = await c.setPositionTpSl({ symbol: SYM, takeProfit: '150' });
    expect(r.position).toMatchObject({ symbol: SYM, quantity: '0.5', takeProfit: '150', stopLoss: null });
    await expect(c.setPositionTpSl({ symbol: SYM, stopLoss: '80.3' })).rejects.toMatchObject({
      code: 'PRICE_NOT_ON_TICK',
    });
    c.close();
  });
});
