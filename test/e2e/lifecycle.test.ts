/**
 * An order's whole life over real WebSockets: place, partial fill by another client, amend, fill, with
 * both clients' private streams and the public book and trades checked message by message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeServer } from '../../src/server.js';
import {
  admin,
  createInstrument,
  createTrader,
  type Json,
  RawClient,
  startServer,
  type Trader,
  until,
} from './helpers.js';

const SYM = 'BTC-PERP';

describe('order life cycle end to end', () => {
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

  it('place, partial fill, amend, fill: acks, private streams, book and trades', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    const watcher = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);

    expect((await watcher.call('subscribe', { channel: `book.${SYM}` })).result).toEqual({
      channel: `book.${SYM}`,
    });
    expect((await watcher.call('subscribe', { channel: `trades.${SYM}` })).result).toEqual({
      channel: `trades.${SYM}`,
    });
    const snap = await watcher.next((m) => m.channel === `book.${SYM}` && m.type === 'snapshot');
    expect(snap).toMatchObject({ symbol: SYM, seq: 0, bids: [], asks: [] });

    await a.call('subscribe', { channel: 'private' });
    await b.call('subscribe', { channel: 'private' });
    const aSnap = await a.next((m) => m.channel === 'private' && m.type === 'snapshot');
    expect(aSnap).toMatchObject({ accountId: alice.accountId, seq: 0, openOrders: [] });
    expect(aSnap.account.balance).toBe('1000000');

    // 1. Alice rests a bid.
    const placed = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '2',
      clientOrderId: 'alice-1',
    });
    expect(placed.error).toBeUndefined();
    const order = placed.result.order;
    expect(order).toMatchObject({
      accountId: alice.accountId,
      clientOrderId: 'alice-1',
      status: 'NEW',
      price: '100',
      quantity: '2',
      remainingQuantity: '2',
      filledQuantity: '0',
    });
    expect(placed.result.fills).toEqual([]);
    expect(placed.result.seq).toBeGreaterThan(0);
    expect(placed.result.ts).toBeGreaterThan(0);
    expect(placed.usIn).toBeLessThanOrEqual(placed.usOut);

    // 2. Bob sells 0.5 into it: a partial fill.
    const sold = await b.call('place', {
      symbol: SYM,
      side: 'SELL',
      orderType: 'LIMIT',
      price: '100',
      quantity: '0.5',
    });
    expect(sold.result.order).toMatchObject({ status: 'FILLED', filledQuantity: '0.5', averagePrice: '100' });
    expect(sold.result.fills).toHaveLength(1);
    expect(sold.result.fills[0]).toMatchObject({
      orderId: sold.result.order.orderId,
      side: 'SELL',
      price: '100',
      quantity: '0.5',
      liquidity: 'TAKER',
      seq: sold.result.seq,
    });
    const tradeId1 = sold.result.fills[0].tradeId;

    // 3. Alice amends down to 1.5 (keeps priority).
    const amended = await a.call('amend', { clientOrderId: 'alice-1', quantity: '1.5' });
    expect(amended.result.order).toMatchObject({
      orderId: order.orderId,
      quantity: '1.5',
      filledQuantity: '0.5',
      remainingQuantity: '1',
      status: 'PARTIALLY_FILLED',
    });

    // 4. Bob takes the rest with a market order.
    const took = await b.call('place', { symbol: SYM, side: 'SELL', orderType: 'MARKET', quantity: '1' });
    expect(took.result.order).toMatchObject({ status: 'FILLED', filledQuantity: '1' });
    expect(took.result.fills.map((f: Json) => [f.price, f.quantity, f.liquidity])).toEqual([
      ['100', '1', 'TAKER'],
    ]);

    const status = await a.call('order_status', { orderId: order.orderId });
    expect(status.result.order).toMatchObject({
      status: 'FILLED',
      filledQuantity: '1.5',
      remainingQuantity: '0',
    });
    const byCoid = await a.call('order_status', { clientOrderId: 'alice-1' });
    expect(byCoid.result.order.orderId).toBe(order.orderId);
    expect((await a.call('open_orders')).result.orders).toEqual([]);

    // Alice's private stream: one gap-free update per command that touched her account.
    const aUpd = a.stream('private').filter((m) => m.type === 'update');
    expect(aUpd.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(aUpd.map((m) => m.engineSeq)).toEqual([
      placed.result.seq,
      sold.result.seq,
      amended.result.seq,
      took.result.seq,
    ]);
    expect(aUpd.map((m) => m.orders.map((o: Json) => o.status))).toEqual([
      ['NEW'],
      ['PARTIALLY_FILLED'],
      ['PARTIALLY_FILLED'],
      ['FILLED'],
    ]);
    expect(aUpd[1].fills).toEqual([
      expect.objectContaining({
        tradeId: tradeId1,
        clientOrderId: 'alice-1',
        side: 'BUY',
        liquidity: 'MAKER',
        quantity: '0.5',
      }),
    ]);
    expect(aUpd[3].fills).toEqual([
      expect.objectContaining({
        clientOrderId: 'alice-1',
        side: 'BUY',
        liquidity: 'MAKER',
        quantity: '1',
        price: '100',
      }),
    ]);
    expect(aUpd[3].positions[0]).toMatchObject({ side: 'LONG', quantity: '1.5', entryPrice: '100' });
    expect(aUpd.every((m) => m.epoch === aSnap.epoch)).toBe(true);

    // Bob's: his two orders, each filled at once.
    const bUpd = b.stream('private').filter((m) => m.type === 'update');
    expect(bUpd.map((m) => m.seq)).toEqual([1, 2]);
    expect(
      bUpd.map((m) => m.fills.map((f: Json) => `${f.side} ${f.quantity}@${f.price} ${f.liquidity}`)),
    ).toEqual([['SELL 0.5@100 TAKER'], ['SELL 1@100 TAKER']]);
    expect(bUpd[1].positions[0]).toMatchObject({ side: 'SHORT', quantity: '1.5' });

    // The public book, delta by delta, each chained to the one before.
    const deltas = watcher.stream(`book.${SYM}`).filter((m) => m.type === 'delta');
    expect(deltas.map((m) => [m.seq, m.prevSeq])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    expect(deltas.map((m) => m.bids)).toEqual([
      [['100', '2']],
      [['100', '1.5']],
      [['100', '1']],
      [['100', '0']],
    ]);
    expect(deltas.every((m) => m.asks.length === 0)).toBe(true);

    const trades = watcher.stream(`trades.${SYM}`);
    expect(trades.map((m) => [m.seq, m.trades.map((t: Json) => [t.price, t.quantity, t.takerSide])])).toEqual(
      [
        [1, [['100', '0.5', 'SELL']]],
        [2, [['100', '1', 'SELL']]],
      ],
    );

    // The engine agrees: the book is empty, and recent fills have both.
    const book = await admin(server, 'GET', `/v1/books/${SYM}`);
    expect(book.body.bids).toEqual([]);
    const fills = await a.call('recent_fills');
    expect(fills.result.fills.map((f: Json) => f.quantity)).toEqual(['0.5', '1']);
    const acct = await a.call('account');
    expect(acct.result.account.accountId).toBe(alice.accountId);
    const pos = await a.call('positions');
    expect(pos.result.positions[0]).toMatchObject({ symbol: SYM, side: 'LONG', quantity: '1.5' });
    for (const c of [a, b, watcher]) c.close();
  });

  it('resumes a private stream from a seq after reconnecting, and snapshots for an unknown epoch', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    await a.call('subscribe', { channel: 'private' });
    const snap = await a.next((m) => m.channel === 'private' && m.type === 'snapshot');
    a.close();
    // While Alice is away: her order is placed by another connection of hers and filled by Bob.
    const a2 = await RawClient.connect(server);
    await a2.auth(alice);
    await a2.call('place', { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '90', quantity: '1' });
    const b = await RawClient.connect(server);
    await b.auth(bob);
    await b.call('place', { symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '90', quantity: '1' });

    const a3 = await RawClient.connect(server);
    await a3.auth(alice);
    await a3.call('subscribe', { channel: 'private', fromSeq: snap.seq, epoch: snap.epoch });
    const replay = await a3.next((m) => m.channel === 'private' && m.seq === snap.seq + 2);
    const got = a3.stream('private');
    expect(got.map((m) => [m.type, m.seq])).toEqual([
      ['update', snap.seq + 1],
      ['update', snap.seq + 2],
    ]);
    expect(replay.fills[0]).toMatchObject({ price: '90', quantity: '1', liquidity: 'MAKER' });

    const a4 = await RawClient.connect(server);
    await a4.auth(alice);
    await a4.call('subscribe', { channel: 'private', fromSeq: 1, epoch: 'another-epoch' });
    const s2 = await a4.next((m) => m.channel === 'private');
    expect(s2).toMatchObject({ type: 'snapshot', seq: snap.seq + 2 });
    for (const c of [a2, a3, a4, b]) c.close();
  });

  it('cancel-on-disconnect cancels the connection’s live orders when it drops', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    expect((await a.call('cancel_on_disconnect', { enabled: true })).result).toEqual({
      enabled: true,
      scope: 'connection',
    });
    const p = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '50',
      quantity: '1',
    });
    a.close();
    await a.waitClosed();
    const a2 = await RawClient.connect(server);
    await a2.auth(alice);
    for (let i = 0; i < 500; i++) {
      const st = await a2.call('order_status', { orderId: p.result.order.orderId });
      if (st.result?.order.status === 'CANCELLED') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const st = await a2.call('order_status', { orderId: p.result.order.orderId });
    expect(st.result.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'DISCONNECT' });
    a2.close();
  });

  it('cancel-on-disconnect with scope connection covers the orders placed before it was turned on', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    const place = (price: string) =>
      a.call('place', { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price, quantity: '1' });
    const before = await place('51');
    await a.call('cancel_on_disconnect', { enabled: true, scope: 'account' });
    const underAccount = await place('52');
    await a.call('cancel_on_disconnect', { enabled: true, scope: 'connection' });
    const after = await place('53');
    const ids: number[] = [before, underAccount, after].map((r) => r.result.order.orderId);
    a.close();
    await a.waitClosed();
    await until(() => ids.every((id) => server.engine.order(id) === undefined));
    const a2 = await RawClient.connect(server);
    await a2.auth(alice);
    for (const orderId of ids) {
      const st = await a2.call('order_status', { orderId });
      expect(st.result.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'DISCONNECT' });
    }
    a2.close();
  });

  it('publishes a ticker from the released book', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    await a.call('place', { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '80', quantity: '1' });
    await a.call('place', { symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '120', quantity: '1' });
    const w = await RawClient.connect(server);
    expect((await w.call('subscribe', { channel: `ticker.${SYM}` })).result).toEqual({
      channel: `ticker.${SYM}`,
    });
    const t = await w.next((m) => m.channel === `ticker.${SYM}`);
    expect(t).toMatchObject({
      type: 'ticker',
      symbol: SYM,
      bestBid: '80',
      bestAsk: '120',
      lastPrice: expect.any(String),
    });
    expect((await w.call('subscribe', { channel: 'book.NOPE' })).error.code).toBe('UNKNOWN_CHANNEL');
    expect((await w.call('unsubscribe', { channel: `ticker.${SYM}` })).result).toEqual({
      channel: `ticker.${SYM}`,
    });
    expect((await w.call('unsubscribe', { channel: `ticker.${SYM}` })).error.code).toBe('NOT_SUBSCRIBED');
    a.close();
    w.close();
  });

  it('serves /health and /metrics', async () => {
    const h = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ready' });
    const m = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(m).toContain('exchange_commands_total{type="place_order"}');
    expect(m).toContain('exchange_ack_latency_seconds_bucket');
    expect(m).toContain('exchange_connections ');
  });
});
