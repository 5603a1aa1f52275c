/** Rate limits, the open-order limit, and a slow consumer that must not hold anyone else up. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, type Json, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';
const order = (price: string) => ({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price, quantity: '0.001' });

describe('rate and order limits', () => {
  let server: ExchangeServer;
  let alice: Trader;
  beforeAll(async () => {
    // A place costs 10 units, a cancel 2: after the login (10) a connection has room for 4 places and a cancel.
    server = await startServer({ connRateBurst: 55, connRatePerSec: 1, maxOpenOrders: 8 });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('refuses a flood past the rate limit with retry information', async () => {
    const c = await RawClient.connect(server);
    await c.auth(alice);
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.call('place', order(String(10 + i)))),
    );
    const ok = replies.filter((r) => r.result);
    const limited = replies.filter((r) => r.error?.code === 'RATE_LIMITED');
    expect(ok.length).toBe(4);
    expect(limited.length).toBe(6);
    for (const r of limited) {
      expect(r.error.data.scope).toBe('connection');
      expect(r.error.data.retryAfterMs).toBeGreaterThan(0);
      expect(r.error.data.remaining).toBeLessThan(10);
    }
    // Cheap requests still pass where an order would not: a cancel costs 2.
    const cancel = await c.call('cancel', { orderId: ok[0].result.order.orderId });
    expect(cancel.result.order.status).toBe('CANCELLED');
    c.close();
  });

  it('limits a flood of malformed requests too: each costs 5 until RATE_LIMITED', async () => {
    const c = await RawClient.connect(server);
    // Not authenticated, wrong parameters, not even JSON: 55 units hold 11 such refusals.
    const replies: Json[] = [];
    for (let i = 0; i < 14; i++) {
      if (i % 3 === 0) replies.push(await c.call('place', order('10')));
      else if (i % 3 === 1) replies.push(await c.call('time', { bogus: true }));
      else {
        c.sendText(`{"id":"raw-${i}","method":`);
        replies.push(await c.next((m) => m.error !== undefined && !replies.includes(m)));
      }
    }
    const codes = replies.map((r) => r.error.code);
    expect(codes.slice(0, 11).every((k) => k !== 'RATE_LIMITED')).toBe(true);
    expect(codes.slice(11)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(replies[13].error.data).toMatchObject({ scope: 'connection', retryAfterMs: expect.any(Number) });
    c.close();
  });

  it('refuses orders past the open-order limit', async () => {
    const conns = await Promise.all([0, 1, 2].map(() => RawClient.connect(server)));
    for (const c of conns) await c.auth(alice);
    // 3 live from the flood test; 4 more fit (limit 8), the rest are refused.
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await conns[i % 3]!.call('place', order(String(30 + i))));
    const codes = replies.map((r) => r.result?.order.status ?? r.error.code);
    expect(codes.filter((c) => c === 'NEW').length).toBe(5);
    expect(codes.filter((c) => c === 'TOO_MANY_OPEN_ORDERS').length).toBe(1);
    const refused = replies.find((r) => r.error)!;
    expect(refused.error.data).toEqual({ limit: 8 });
    for (const c of conns) c.close();
  });
});

describe('slow consumer', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;
  beforeAll(async () => {
    server = await startServer({ slowConsumerBytes: 256 * 1024 });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => server.stop());

  it('disconnects a client that stops reading while another client keeps being acked', async () => {
    const maker = await RawClient.connect(server);
    await maker.auth(alice);
    // A deep book makes every snapshot large.
    for (let i = 0; i < 200; i++) await maker.call('place', order(String(1000 + i)));

    const fast = await RawClient.connect(server);
    await fast.auth(bob);
    const slow = await RawClient.connect(server);
    // Stop reading from the socket: the kernel buffers fill, then uWS's, then the gateway's queue.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const acks: Promise<Json>[] = [];
    for (let i = 0; i < 3000; i++) {
      slow.sendText(`{"id":${i},"method":"subscribe","params":{"channel":"book.${SYM}"}}`);
      if (i % 30 === 0) acks.push(fast.call('place', { ...order(String(5000 + i)), side: 'SELL' }));
    }
    for (const r of await Promise.all(acks)) expect(r.result.order.status).toBe('NEW');
    for (let i = 0; i < 400 && server.metrics.slowConsumers.get() === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(server.metrics.slowConsumers.get()).toBe(1);
    // The others carry on.
    for (let i = 0; i < 20; i++) {
      const r = await fast.call('place', { ...order(String(9000 + i)), side: 'SELL' });
      expect(r.result.order.status).toBe('NEW');
    }
    expect((await maker.call('ping')).result).toBeDefined();
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.waitClosed();
    expect(slow.closed?.code === 4008 || slow.closed?.code === 1006).toBe(true);
    maker.close();
    fast.close();
  });
});

describe('account rate limit', () => {
  let server: ExchangeServer;
  let alice: Trader;
  beforeAll(async () => {
    server = await startServer({
      connRateBurst: 1000,
      connRatePerSec: 1,
      accountRateBurst: 45,
      accountRatePerSec: 1,
    });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('counts every connection of an account against one budget', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(alice);
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await (i % 2 ? b : a).call('place', order(String(40 + i)));
      codes.push(r.result ? 'OK' : `${r.error.code}:${r.error.data.scope}`);
    }
    expect(codes).toEqual(['OK', 'OK', 'OK', 'OK', 'RATE_LIMITED:account', 'RATE_LIMITED:account']);
    a.close();
    b.close();
  });

  it('rate_limits tells what both budgets have left and what each request costs', async () => {
    const c = await RawClient.connect(server);
    await c.auth(alice); // 10 from the connection (logins are not an account's)
    const r = (await c.call('rate_limits')).result;
    // The account spent 40 on the places above; the connection 10 on its login; this request 1 from each.
    // Both regain 1 a second, so a slow machine may show a unit or two more.
    expect(r.connection).toMatchObject({ burst: 1000, perSecond: 1 });
    expect(r.connection.remaining).toBeGreaterThanOrEqual(989);
    expect(r.connection.remaining).toBeLessThanOrEqual(1000);
    expect(r.account).toMatchObject({ accountId: alice.accountId, burst: 45, perSecond: 1 });
    expect(r.account.remaining).toBeGreaterThanOrEqual(0);
    expect(r.account.remaining).toBeLessThan(45);
    expect(r.costs).toMatchObject({ place: 10, placeReduceOnly: 2, cancel: 2, cancel_all: 2, cheap: 1 });
    c.close();
  });
});
