/**
 * The typed client against the real server: typed results and errors, book sync with gap detection and
 * resync, private stream gap repair, reconnect with subscriptions restored and the private stream resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ExchangeClient,
  ExchangeError,
  type PrivateSnapshot,
  type PrivateUpdate,
} from '../../src/client/index.js';
import type { ExchangeServer } from '../../src/server.js';
import { admin, createInstrument, createTrader, startServer, type Trader, until } from './helpers.js';

const SYM = 'BTC-PERP';

describe('typed client', () => {
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;
  let url: string;
  beforeAll(async () => {
    server = await startServer();
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
    url = `ws://127.0.0.1:${server.port}/ws`;
  });
  afterAll(async () => server.stop());

  it('places, amends and cancels with typed results, and throws typed errors', async () => {
    const c = new ExchangeClient({ url, apiKey: alice.apiKey, secret: alice.secret });
    await c.connect();
    expect(c.accountIds).toEqual([alice.accountId]);
    const ack = await c.place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '10', quantity: '1' });
    expect(ack.order.status).toBe('NEW');
    const amended = await c.amend({ orderId: ack.order.orderId, price: '10.5' });
    expect(amended.order.price).toBe('10.5');
    const cancelled = await c.cancel({ orderId: ack.order.orderId });
    expect(cancelled.order.status).toBe('CANCELLED');
    const err = await c
      .place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '10.3', quantity: '1' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect(err.code).toBe('PRICE_NOT_ON_TICK');
    const bad = await c
      .place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: 10 as unknown as string, quantity: '1' })
      .catch((e) => e);
    expect(bad).toMatchObject({ code: 'INVALID_PARAMS', data: { field: 'price' } });
    expect((await c.time()).serverTime).toBeGreaterThan(0);
    c.close();
  });

  it('subscribing twice to a stream adds a handler: one book per symbol, widened; every handler served', async () => {
    const c = new ExchangeClient({ url, apiKey: alice.apiKey, secret: alice.secret });
    await c.connect();
    const seen: Record<string, number> = { bookA: 0, bookB: 0, privA: 0, privB: 0, tradesA: 0, tradesB: 0 };
    const bump = (k: string) => () => void seen[k]!++;
    const shallow = await c.subscribeBook(SYM, bump('bookA'), 1);
    const whole = await c.subscribeBook(SYM, bump('bookB'));
    // The same book, now the whole of it (the first subscription's depth would have hidden levels).
    expect(whole).toBe(shallow);
    expect(whole.depth).toBeUndefined();
    await c.subscribePrivate(bump('privA'));
    await c.subscribePrivate(bump('privB'));
    await c.subscribeTrades(SYM, bump('tradesA'));
    await c.subscribeTrades(SYM, bump('tradesB'));
    const before = { ...seen };
    const b = new ExchangeClient({ url, apiKey: bob.apiKey, secret: bob.secret });
    await b.connect();
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '900', quantity: '0.002' });
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '901', quantity: '0.001' });
    await c.place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '900', quantity: '0.001' });
    await until(() => whole.levels('SELL').some(([p, q]) => p === '900' && q === '0.001'));
    await until(() => seen.tradesA! > before.tradesA! && seen.tradesB! > before.tradesB!);
    await until(() => seen.privA! > before.privA! && seen.privB! > before.privB!);
    // Both got the second subscription's snapshot and every delta; the first also got its own snapshot.
    expect(seen.bookA).toBe(seen.bookB! + 1);
    expect(whole.levels('SELL').map(([p]) => p)).toEqual(expect.arrayContaining(['900', '901']));
    await c.cancelAll();
    await b.cancelAll();
    b.close();
    c.close();
  });

  it('detects a dropped book delta by seq and resyncs to the engine’s book', async () => {
    let deltas = 0;
    const gaps: unknown[] = [];
    const watcher = new ExchangeClient({
      url,
      // Lose the third delta on the way in.
      dropIncoming: (m) => m.channel === `book.${SYM}` && m.type === 'delta' && ++deltas === 3,
    });
    watcher.on('gap', (g) => gaps.push(g));
    await watcher.connect();
    let snapshots = 0;
    const book = await watcher.subscribeBook(SYM, (_b, msg) => {
      if (msg.type === 'snapshot') snapshots++;
    });
    const trader = new ExchangeClient({ url, apiKey: bob.apiKey, secret: bob.secret });
    await trader.connect();
    for (let i = 0; i < 10; i++) {
      await trader.place({
        symbol: SYM,
        side: 'SELL',
        orderType: 'LIMIT',
        price: String(200 + i),
        quantity: '0.5',
      });
      await trader.place({
        symbol: SYM,
        side: 'BUY',
        orderType: 'LIMIT',
        price: String(100 + i),
        quantity: '0.25',
      });
    }
    const engineBook = async () => (await admin(server, 'GET', `/v1/books/${SYM}?depth=1000`)).body;
    const want = await engineBook();
    const asLevels = (ls: { price: string; quantity: string }[]) => ls.map((l) => [l.price, l.quantity]);
    await until(() => JSON.stringify(book.levels('SELL')) === JSON.stringify(asLevels(want.asks)));
    expect(gaps.length).toBe(1);
    expect(snapshots).toBe(2);
    expect(book.levels('BUY')).toEqual(asLevels(want.bids));
    expect(book.levels('SELL')).toEqual(asLevels(want.asks));
    watcher.close();
    trader.close();
  });

  it('repairs a dropped private update from the server’s buffer, delivering every seq once', async () => {
    let updates = 0;
    const c = new ExchangeClient({
      url,
      apiKey: alice.apiKey,
      secret: alice.secret,
      dropIncoming: (m) => m.channel === 'private' && m.type === 'update' && ++updates === 2,
    });
    await c.connect();
    const seen: (PrivateUpdate | PrivateSnapshot)[] = [];
    await c.subscribePrivate((m) => seen.push(m));
    const first = seen[0]!;
    expect(first.type).toBe('snapshot');
    for (let i = 0; i < 4; i++)
      await c.place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: String(20 + i), quantity: '1' });
    await until(() => seen.length === 5);
    expect(seen.map((m) => m.seq)).toEqual([
      first.seq,
      first.seq + 1,
      first.seq + 2,
      first.seq + 3,
      first.seq + 4,
    ]);
    c.close();
  });

  it('reconnects with backoff, restores subscriptions and resumes the private stream from the last seq', async () => {
    const c = new ExchangeClient({ url, apiKey: alice.apiKey, secret: alice.secret, backoffInitialMs: 20 });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    const seen: (PrivateUpdate | PrivateSnapshot)[] = [];
    await c.subscribePrivate((m) => seen.push(m));
    // Above Bob's own bids from the book test (100-109), below his asks (200-209).
    const resting = await c.place({
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '150',
      quantity: '1',
    });
    await until(() => seen.length === 2);

    // The server drops the connection; while it is down Bob fills Alice's order.
    for (const s of server.gateway.sessions) if (s.userId === alice.userId) s.close(4000, 'test');
    const bobC = new ExchangeClient({ url, apiKey: bob.apiKey, secret: bob.secret });
    await bobC.connect();
    await bobC.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '150', quantity: '1' });

    await until(() => reconnected === 1 && seen.length >= 3);
    const last = seen.at(-1) as PrivateUpdate;
    expect(last.type).toBe('update');
    expect(last.seq).toBe(seen[1]!.seq + 1);
    expect(last.orders[0]).toMatchObject({ orderId: resting.order.orderId, status: 'FILLED' });
    expect(last.fills[0]).toMatchObject({ liquidity: 'MAKER', quantity: '1' });
    // Orders still work on the new connection.
    expect((await c.ping()).serverTime).toBeGreaterThan(0);
    c.close();
    bobC.close();
  });
});
