/**
 * Malformed input: every kind is refused with its code, and neither the connection nor the engine is harmed
 * (the engine's seq does not move for anything the gateway refuses).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, type Json, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';
const LIMIT = { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '100', quantity: '1' };

describe('request validation', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let c: RawClient;
  beforeAll(async () => {
    server = await startServer();
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    c = await RawClient.connect(server);
    await c.auth(alice);
  });
  afterAll(async () => {
    c.close();
    await server.stop();
  });

  async function rawReply(text: string): Promise<Json> {
    const before = c.messages.length;
    c.sendText(text);
    return c.next((m) => c.messages.indexOf(m) >= before && m.id === null);
  }

  it('refuses malformed envelopes', async () => {
    const seq = server.engine.lastSeq;
    expect((await rawReply('{"id":1,"method":')).error.code).toBe('PARSE_ERROR');
    expect((await rawReply('not json at all')).error.code).toBe('PARSE_ERROR');
    expect((await rawReply('[1,2,3]')).error.code).toBe('INVALID_REQUEST');
    expect((await rawReply('"place"')).error.code).toBe('INVALID_REQUEST');
    expect((await rawReply('{"id":{"x":1},"method":"ping"}')).error.code).toBe('INVALID_REQUEST');
    expect((await rawReply('{"method":"ping"}')).error.code).toBe('INVALID_REQUEST');
    expect((await c.call('fly_to_the_moon', {})).error.code).toBe('METHOD_NOT_FOUND');
    expect((await c.call('__proto__', {})).error.code).toBe('METHOD_NOT_FOUND');
    expect((await c.call('place', [1, 2])).error).toMatchObject({
      code: 'INVALID_PARAMS',
      data: { field: 'params' },
    });
    expect(server.engine.lastSeq).toBe(seq);
  });

  it('refuses missing, unknown and wrongly typed fields, naming the field', async () => {
    const seq = server.engine.lastSeq;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...LIMIT, quantity: undefined }, 'quantity'],
      [{ ...LIMIT, symbol: undefined }, 'symbol'],
      [{ ...LIMIT, side: 'buy' }, 'side'],
      [{ ...LIMIT, side: 1 }, 'side'],
      [{ ...LIMIT, orderType: 'ICEBERG' }, 'orderType'],
      [{ ...LIMIT, timeInForce: 'FOREVER' }, 'timeInForce'],
      [{ ...LIMIT, price: undefined }, 'price'],
      [{ ...LIMIT, orderType: 'MARKET' }, 'price'],
      [{ ...LIMIT, postOnly: 'yes' }, 'postOnly'],
      [{ ...LIMIT, qty: '1' }, 'qty'],
      [{ ...LIMIT, clientOrderId: 'has spaces in it' }, 'clientOrderId'],
      [{ ...LIMIT, clientOrderId: 'x'.repeat(65) }, 'clientOrderId'],
      [{ ...LIMIT, accountId: '1' }, 'accountId'],
      [{ ...LIMIT, accountId: 1.5 }, 'accountId'],
    ];
    for (const [params, field] of cases) {
      const r = await c.call('place', params);
      expect(r.error?.code, JSON.stringify(params)).toBe('INVALID_PARAMS');
      expect(r.error.data.field, JSON.stringify(params)).toBe(field);
      expect(typeof r.error.message).toBe('string');
    }
    expect((await c.call('cancel', {})).error.data.field).toBe('orderId');
    expect((await c.call('cancel', { orderId: '5' })).error.data.field).toBe('orderId');
    expect((await c.call('cancel', { orderId: 5, clientOrderId: 'x' })).error.data.field).toBe('orderId');
    expect((await c.call('amend', { orderId: 5 })).error.data.field).toBe('price');
    expect((await c.call('subscribe', { channel: 7 })).error.data.field).toBe('channel');
    expect((await c.call('recent_fills', { limit: 100000 })).error.data.field).toBe('limit');
    expect(server.engine.lastSeq).toBe(seq);
  });

  it('refuses JSON numbers, negative, zero, NaN-like and huge values for decimals', async () => {
    const seq = server.engine.lastSeq;
    const bad: unknown[] = [
      100,
      100.5,
      0.1,
      '-1',
      '-0.5',
      '0',
      '0.0',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e5',
      '0x10',
      ' 1',
      '1 ',
      '+1',
      '.5',
      '5.',
      '007',
      '',
      '1000000000000',
      '99999999999999999999',
      '1.123456789',
      true,
      null,
      {},
      ['1'],
    ];
    for (const v of bad) {
      const r = await c.call('place', { ...LIMIT, quantity: v });
      // null means "absent", which for a required field is the same refusal.
      expect(r.error?.code, JSON.stringify(v)).toBe('INVALID_PARAMS');
      expect(r.error.data.field).toBe('quantity');
    }
    const asNumber = await c.call('place', { ...LIMIT, price: 100 });
    expect(asNumber.error.data).toEqual({
      field: 'price',
      expected: 'a decimal string such as "1.5", not a JSON number',
    });
    expect(server.engine.lastSeq).toBe(seq);
  });

  it('refuses a 1 MiB message with MESSAGE_TOO_LARGE and keeps the connection', async () => {
    const seq = server.engine.lastSeq;
    const big = JSON.stringify({
      id: 99,
      method: 'place',
      params: { ...LIMIT, clientOrderId: 'x'.repeat(1 << 20) },
    });
    const r = await rawReply(big);
    expect(r.error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', data: { limit: 65536 } });
    expect(c.closed).toBeNull();
    expect((await c.call('ping')).result.serverTime).toBeGreaterThan(0);
    expect(server.engine.lastSeq).toBe(seq);
  });

  it('passes engine refusals through with their reason and the engine seq', async () => {
    const r = await c.call('place', { ...LIMIT, price: '100.3' });
    expect(r.error.code).toBe('PRICE_NOT_ON_TICK');
    expect(r.error.data.seq).toBe(server.engine.lastSeq);
    expect((await c.call('place', { ...LIMIT, symbol: 'NOPE-PERP' })).error.code).toBe('UNKNOWN_INSTRUMENT');
    const dup1 = await c.call('place', { ...LIMIT, clientOrderId: 'dup' });
    expect(dup1.result.order.status).toBe('NEW');
    expect((await c.call('place', { ...LIMIT, clientOrderId: 'dup' })).error.code).toBe(
      'DUPLICATE_CLIENT_ORDER_ID',
    );
  });

  it('is still healthy after all of it: a valid order is acked', async () => {
    const r = await c.call('place', { ...LIMIT, price: '99' });
    expect(r.result.order).toMatchObject({ status: 'NEW', price: '99' });
    expect(c.closed).toBeNull();
  });
});
