/** Authentication refusals, and account isolation: nobody sees or touches another account's orders. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authParams, sign } from '../../src/protocol/sign.js';
import type { ExchangeServer } from '../../src/server.js';
import { admin, createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';

describe('authentication', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;
  beforeAll(async () => {
    server = await startServer();
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => server.stop());

  it('refuses an order on an unauthenticated connection', async () => {
    const c = await RawClient.connect(server);
    const r = await c.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '1',
      quantity: '1',
    });
    expect(r.error.code).toBe('UNAUTHENTICATED');
    expect((await c.call('subscribe', { channel: 'private' })).error.code).toBe('UNAUTHENTICATED');
    expect((await c.call('open_orders')).error.code).toBe('UNAUTHENTICATED');
    c.close();
  });

  it('refuses a bad signature, an unknown key, a stale timestamp and a reused nonce', async () => {
    const c = await RawClient.connect(server);
    const wrong = authParams(alice.apiKey, 'not-the-secret');
    expect((await c.call('auth', wrong)).error.code).toBe('INVALID_SIGNATURE');
    const unknown = authParams('ak_000000000000000000000000', alice.secret);
    expect((await c.call('auth', unknown)).error.code).toBe('INVALID_SIGNATURE');
    // Signed correctly, but a minute old.
    const stale = authParams(alice.apiKey, alice.secret, Date.now() - 60_000);
    const s = await c.call('auth', stale);
    expect(s.error.code).toBe('STALE_TIMESTAMP');
    expect(s.error.data).toMatchObject({ windowMs: 5000 });
    expect(typeof s.error.data.serverTimeMs).toBe('number');
    // And one from the future.
    const future = authParams(alice.apiKey, alice.secret, Date.now() + 60_000);
    expect((await c.call('auth', future)).error.code).toBe('STALE_TIMESTAMP');

    const good = authParams(alice.apiKey, alice.secret);
    expect((await c.call('auth', good)).result).toEqual({
      userId: alice.userId,
      accountIds: [alice.accountId],
    });
    expect((await c.call('auth', authParams(alice.apiKey, alice.secret))).error.code).toBe(
      'ALREADY_AUTHENTICATED',
    );
    // The same signed message replayed on another connection.
    const replay = await RawClient.connect(server);
    expect((await replay.call('auth', good)).error.code).toBe('NONCE_REUSED');
    // A tampered signature with a fresh nonce.
    const ts = Date.now();
    const sig = sign(alice.secret, ts, 'nonce-0001', alice.apiKey);
    const tampered = { apiKey: alice.apiKey, timestamp: ts + 1, nonce: 'nonce-0001', signature: sig };
    expect((await replay.call('auth', tampered)).error.code).toBe('INVALID_SIGNATURE');
    // The connection is still usable: a correct login now works.
    expect((await replay.call('auth', authParams(alice.apiKey, alice.secret))).result.userId).toBe(
      alice.userId,
    );
    c.close();
    replay.close();
  });

  it('refuses a revoked key', async () => {
    const k = await admin(server, 'POST', '/v1/api-keys', { userId: bob.userId });
    expect((await admin(server, 'DELETE', `/v1/api-keys/${k.body.apiKey}`)).body).toEqual({ revoked: true });
    const c = await RawClient.connect(server);
    expect((await c.call('auth', authParams(k.body.apiKey, k.body.secret))).error.code).toBe(
      'INVALID_SIGNATURE',
    );
    c.close();
  });

  it('keeps the admin interface closed without the token', async () => {
    const r = await admin(
      server,
      'POST',
      '/v1/deposits',
      { accountId: bob.accountId, amount: '5' },
      'wrong-token',
    );
    expect(r.status).toBe(401);
    // And the trader port has no admin routes at all.
    const t = await fetch(`http://127.0.0.1:${server.port}/v1/deposits`, { method: 'POST' });
    expect(t.status).not.toBe(200);
  });
});

describe('account isolation', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;
  beforeAll(async () => {
    server = await startServer();
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => server.stop());

  it('a client cannot see, cancel or amend another account’s order, by id or by client order id', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    const placed = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
      clientOrderId: 'mine',
    });
    const id = placed.result.order.orderId;
    const seqBefore = server.engine.lastSeq;

    expect((await b.call('order_status', { orderId: id })).error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('order_status', { clientOrderId: 'mine' })).error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('cancel', { orderId: id })).error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('cancel', { clientOrderId: 'mine' })).error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('amend', { orderId: id, price: '101' })).error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('amend', { clientOrderId: 'mine', quantity: '0.5' })).error.code).toBe(
      'UNKNOWN_ORDER',
    );
    expect((await b.call('open_orders')).result.orders).toEqual([]);
    expect((await b.call('cancel_all')).result.cancelled).toEqual([]);
    // Naming Alice's account outright is refused before anything reaches the engine.
    const seqMid = server.engine.lastSeq;
    for (const [method, params] of [
      ['open_orders', { accountId: alice.accountId }],
      ['cancel', { accountId: alice.accountId, orderId: id }],
      ['cancel_all', { accountId: alice.accountId }],
      ['account', { accountId: alice.accountId }],
      ['positions', { accountId: alice.accountId }],
      ['recent_fills', { accountId: alice.accountId }],
      ['subscribe', { channel: 'private', accountId: alice.accountId }],
      [
        'place',
        { accountId: alice.accountId, symbol: SYM, side: 'SELL', orderType: 'MARKET', quantity: '1' },
      ],
    ] as const) {
      expect((await b.call(method, params)).error.code, method).toBe('FORBIDDEN');
    }
    expect(server.engine.lastSeq).toBe(seqMid);
    expect(seqMid).toBeGreaterThan(seqBefore); // the cancels/amends above were engine refusals, journaled

    // Alice's order is untouched, and her stream never showed Bob anything.
    const st = await a.call('order_status', { clientOrderId: 'mine' });
    expect(st.result.order).toMatchObject({ orderId: id, status: 'NEW', quantity: '1', price: '100' });
    a.close();
    b.close();
  });
});
