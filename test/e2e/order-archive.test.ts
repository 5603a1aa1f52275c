/**
 * order_status for orders the gateway no longer remembers: looked up in the `orders` table the persistence
 * workers write (src/gateway/order-archive.ts), scoped to the asking account, answered with the same
 * OrderState the private stream carried, marked `source: "archive"` with the row's seq.
 *
 * The first suite runs the real pipeline (BullMQ batcher, a persistence worker, PostgreSQL) and a restart
 * with recovery; the second drives the gateway with fake archives (no database) for the order of truth and
 * for failures.
 */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderState } from '../../engine/events.js';
import type { KeyStore } from '../../src/gateway/keys.js';
import { type ArchiveRef, type OrderArchive, PgOrderArchive } from '../../src/gateway/order-archive.js';
import { recover } from '../../src/recovery/recover.js';
import type { ExchangeServer } from '../../src/server.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../persistence/helpers.js';
import { TestQueue, waitForWatermark } from '../persistence/queue-helpers.js';
import { createInstrument, createTrader, type Json, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';

/** An order as the private stream carried it, without the event stamp (type, seq, ts). */
function state(e: Json): OrderState {
  const { type: _t, seq: _s, ts: _ts, ...rest } = e;
  return rest;
}

/** The last state of `orderId` on the private stream, with the engine seq of that update. */
function lastStreamed(c: RawClient, orderId: number): { order: Json; engineSeq: number } {
  let found: { order: Json; engineSeq: number } | undefined;
  for (const m of c.stream('private')) {
    if (m.type !== 'update') continue;
    for (const o of m.orders) if (o.orderId === orderId) found = { order: o, engineSeq: m.engineSeq };
  }
  if (found === undefined) throw new Error(`order ${orderId} never streamed`);
  return found;
}

describe('order_status from the order archive (PostgreSQL)', () => {
  let db: TestDatabase;
  let tq: TestQueue;
  let server: ExchangeServer;
  let keys: KeyStore;
  let alice: Trader;
  let bob: Trader;
  let arch2CancelSeq = 0;
  const config = () => ({
    batcher: 'bullmq' as const,
    commitMode: 'durable' as const,
    queueName: tq.name,
    redisUrl: REDIS_URL,
  });

  beforeAll(async () => {
    db = await createTestDatabase('exch_e2e_archive');
    tq = new TestQueue();
    tq.worker(db.url, { watermarkIntervalMs: 100 }); // stopped by tq.dispose()
    // One final order remembered: the next order that ends evicts the previous one from memory.
    server = await startServer(
      { ...config(), finalOrdersRemembered: 1 },
      { batcher: undefined, orderArchive: new PgOrderArchive(db.pool) },
    );
    keys = server.keys;
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => {
    await server?.stop();
    await tq?.dispose();
    await db?.drop();
  });

  it('answers an evicted order from the database, equal to the stream; another account gets UNKNOWN_ORDER', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    await a.call('subscribe', { channel: 'private' });

    // Filled in two steps at two prices: average price and notional with decimals.
    const placed = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '101.5',
      quantity: '1.5',
      clientOrderId: 'arch-1',
    });
    expect(placed.error).toBeUndefined();
    const orderId: number = placed.result.order.orderId;
    await b.call('place', { symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '101.5', quantity: '0.5' });
    await b.call('place', { symbol: SYM, side: 'SELL', orderType: 'MARKET', quantity: '1' });
    const filled = await a.next(
      (m) =>
        m.channel === 'private' &&
        m.orders?.some((o: Json) => o.orderId === orderId && o.status === 'FILLED'),
    );
    expect(filled).toBeDefined();
    const streamed = lastStreamed(a, orderId);
    expect(streamed.order.status).toBe('FILLED');

    // Still remembered: memory answers.
    const fromMemory = await a.call('order_status', { orderId });
    expect(fromMemory.result.source).toBe('memory');
    // The same OrderState shape from either source (the stream's event minus its stamp).
    expect(fromMemory.result.order).toStrictEqual(state(streamed.order));

    // A second order ends: the first is evicted from the one-order memory.
    await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '90',
      quantity: '1',
      clientOrderId: 'arch-2',
    });
    const cancelled = await a.call('cancel', { clientOrderId: 'arch-2' });
    expect(cancelled.result.order.status).toBe('CANCELLED');
    arch2CancelSeq = cancelled.result.seq;
    await waitForWatermark(db.pool, cancelled.result.seq);

    const byId = await a.call('order_status', { orderId });
    expect(byId.error).toBeUndefined();
    expect(byId.result.source).toBe('archive');
    expect(byId.result.seq).toBe(streamed.engineSeq);
    expect(byId.result.order).toStrictEqual(state(streamed.order));
    expect(Object.keys(byId.result.order)).toEqual(Object.keys(state(streamed.order)));

    const byCoid = await a.call('order_status', { clientOrderId: 'arch-1' });
    expect(byCoid.result).toStrictEqual(byId.result);

    // The order that ended last is still in memory.
    expect((await a.call('order_status', { clientOrderId: 'arch-2' })).result.source).toBe('memory');

    // Bob cannot see Alice's order, by id or by her client order id (which he never used).
    const other = await b.call('order_status', { orderId });
    expect(other.error.code).toBe('UNKNOWN_ORDER');
    expect((await b.call('order_status', { clientOrderId: 'arch-1' })).error.code).toBe('UNKNOWN_ORDER');
    // Nor does the database know an order that never existed.
    expect((await a.call('order_status', { orderId: 999_999 })).error.code).toBe('UNKNOWN_ORDER');
    a.close();
    b.close();
  });

  it('after a restart (memory empty), answers both orders from the database', async () => {
    // Capture what the stream said before the restart.
    const a0 = await RawClient.connect(server);
    await a0.auth(alice);
    const before1 = await a0.call('order_status', { clientOrderId: 'arch-1' });
    const before2 = await a0.call('order_status', { clientOrderId: 'arch-2' });
    a0.close();
    expect(before1.result.source).toBe('archive');
    expect(before2.result.source).toBe('memory');
    const lastSeq = server.engine.lastSeq;
    await server.stop();
    await waitForWatermark(db.pool, lastSeq);

    server = await startServer(config(), {
      batcher: undefined,
      keys,
      orderArchive: new PgOrderArchive(db.pool),
      recover: async (engine) =>
        (
          await recover({
            pool: db.pool,
            engine,
            risk: true,
            queue: { connection: { url: REDIS_URL }, queueName: tq.name },
          })
        ).seq,
    });
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    const after1 = await a.call('order_status', { clientOrderId: 'arch-1' });
    expect(after1.result).toStrictEqual(before1.result);
    const after2 = await a.call('order_status', { orderId: before2.result.order.orderId });
    expect(after2.result.source).toBe('archive');
    expect(after2.result.order).toStrictEqual(before2.result.order);
    // The row's seq: the cancel, the order's last change.
    expect(after2.result.seq).toBe(arch2CancelSeq);
    expect((await b.call('order_status', { orderId: before2.result.order.orderId })).error.code).toBe(
      'UNKNOWN_ORDER',
    );
    expect((await b.call('order_status', { clientOrderId: 'arch-2' })).error.code).toBe('UNKNOWN_ORDER');
    // The login read the window of client order ids back (FINAL_ORDERS_REMEMBERED = 1: the newest ended
    // order): a retry of that order after the restart is refused with it, not placed again.
    const retry = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '90',
      quantity: '0.5',
      clientOrderId: 'arch-2',
    });
    expect(retry.error?.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    expect(retry.error.data.order).toStrictEqual(before2.result.order);
    a.close();
    b.close();
  });

  it('uses the client order id index for the lookup by client order id', async () => {
    await db.pool.query(sql.unsafe`ANALYZE orders`);
    const plan = await db.pool.anyFirst(sql.unsafe`
      EXPLAIN (COSTS OFF) SELECT engine_id FROM orders
      WHERE account_id = exch_uuid(3, ${alice.accountId}) AND client_order_id = 'arch-1'
      ORDER BY engine_id DESC LIMIT 1`);
    // A tiny table may still be scanned; the index must at least exist and be usable.
    await db.pool.query(sql.unsafe`SET enable_seqscan = off`);
    const forced = await db.pool.anyFirst(sql.unsafe`
      EXPLAIN (COSTS OFF) SELECT engine_id FROM orders
      WHERE account_id = exch_uuid(3, ${alice.accountId}) AND client_order_id = 'arch-1'
      ORDER BY engine_id DESC LIMIT 1`);
    expect(plan.length).toBeGreaterThan(0);
    expect(forced.join('\n')).toContain('orders_by_account_client_order_id');
  });
});

/** A fake archive: answers with `answer`, counting calls. */
class FakeArchive implements OrderArchive {
  calls: { accountId: number; ref: ArchiveRef }[] = [];
  constructor(private readonly answer: (accountId: number, ref: ArchiveRef) => Promise<Json>) {}
  find(accountId: number, ref: ArchiveRef) {
    this.calls.push({ accountId, ref });
    return this.answer(accountId, ref);
  }
}

describe('order_status and the order archive (fake archives, no database)', () => {
  async function withServer(
    archive: OrderArchive | undefined,
    run: (a: RawClient, alice: Trader, server: ExchangeServer) => Promise<void>,
  ): Promise<void> {
    const server = await startServer(
      { finalOrdersRemembered: 0 },
      { orderArchive: archive, orderArchiveTimeoutMs: 300 },
    );
    try {
      await createInstrument(server);
      const alice = await createTrader(server, 'alice');
      const a = await RawClient.connect(server);
      await a.auth(alice);
      await run(a, alice, server);
      a.close();
    } finally {
      await server.stop();
    }
  }

  /** An order that ended (cancelled): its ack's order and seq. */
  const cancelledOrder = async (a: RawClient): Promise<{ order: Json; seq: number }> => {
    const p = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '90',
      quantity: '1',
      clientOrderId: 'gone',
    });
    const c = await a.call('cancel', { orderId: p.result.order.orderId });
    return { order: c.result.order, seq: c.result.seq };
  };

  it('without an archive, a forgotten order is UNKNOWN_ORDER as before', async () => {
    await withServer(undefined, async (a) => {
      const { order: o } = await cancelledOrder(a);
      const r = await a.call('order_status', { orderId: o.orderId });
      expect(r.error).toMatchObject({
        code: 'UNKNOWN_ORDER',
        message: expect.stringContaining('no longer remembered'),
      });
    });
  });

  it('a live order is answered from memory; the archive is not asked', async () => {
    const archive = new FakeArchive(async () => {
      throw new Error('must not be asked');
    });
    await withServer(archive, async (a) => {
      const p = await a.call('place', {
        symbol: SYM,
        side: 'BUY',
        orderType: 'LIMIT',
        price: '90',
        quantity: '1',
        clientOrderId: 'live',
      });
      const r = await a.call('order_status', { clientOrderId: 'live' });
      expect(r.result).toMatchObject({
        source: 'memory',
        order: { orderId: p.result.order.orderId, status: 'NEW' },
      });
      expect(archive.calls).toEqual([]);
    });
  });

  it('asks the archive with the requesting account and the reference, and answers what it found', async () => {
    let found: Json = null;
    const archive = new FakeArchive(async () => found);
    await withServer(archive, async (a, alice) => {
      const { order, seq } = await cancelledOrder(a);
      found = { order, seq };
      const r = await a.call('order_status', { clientOrderId: 'gone' });
      expect(r.result).toStrictEqual({ order, seq, source: 'archive' });
      expect(archive.calls).toEqual([{ accountId: alice.accountId, ref: { clientOrderId: 'gone' } }]);
      found = null;
      expect((await a.call('order_status', { orderId: order.orderId })).error.code).toBe('UNKNOWN_ORDER');
      expect(archive.calls[1]).toEqual({ accountId: alice.accountId, ref: { orderId: order.orderId } });
    });
  });

  it('a failing archive answers UNAVAILABLE, and the connection goes on', async () => {
    const archive = new FakeArchive(async () => {
      throw new Error('connection refused');
    });
    await withServer(archive, async (a) => {
      const { order: o } = await cancelledOrder(a);
      const r = await a.call('order_status', { orderId: o.orderId });
      expect(r.error.code).toBe('UNAVAILABLE');
      expect((await a.call('ping')).result.serverTime).toBeGreaterThan(0);
    });
  });

  it('an archive that never answers is cut off by the timeout with UNAVAILABLE', async () => {
    const archive = new FakeArchive(() => new Promise(() => {}));
    await withServer(archive, async (a) => {
      const { order: o } = await cancelledOrder(a);
      const started = Date.now();
      const r = await a.call('order_status', { orderId: o.orderId });
      expect(r.error.code).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5000);
      expect((await a.call('ping')).result.serverTime).toBeGreaterThan(0);
    });
  });
});
