/**
 * The gateway frees an account's memory once its user has been away for ACCOUNT_VIEW_IDLE_MS and the
 * database has what the memory held; the trader who comes back sees what a restart would show: order_status
 * from the database, a client order id of an ended order still refused, and a fresh private-stream epoch
 * (a snapshot, never a wrong numbering). The real pipeline: BullMQ batcher, a persistence worker, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgOrderArchive } from '../../src/gateway/order-archive.js';
import type { ExchangeServer } from '../../src/server.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../persistence/helpers.js';
import { TestQueue, waitForWatermark } from '../persistence/queue-helpers.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader, until } from './helpers.js';

const SYM = 'BTC-PERP';
const IDLE_MS = 60_000;

describe('account views dropped after their user left', () => {
  let db: TestDatabase;
  let tq: TestQueue;
  let server: ExchangeServer;
  let alice: Trader;
  let bob: Trader;

  beforeAll(async () => {
    db = await createTestDatabase('exch_e2e_view_drop');
    tq = new TestQueue();
    tq.worker(db.url, { watermarkIntervalMs: 100 }); // stopped by tq.dispose()
    server = await startServer(
      {
        batcher: 'bullmq',
        commitMode: 'durable',
        queueName: tq.name,
        redisUrl: REDIS_URL,
        accountViewIdleMs: IDLE_MS,
      },
      { batcher: undefined, orderArchive: new PgOrderArchive(db.pool) },
    );
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
    bob = await createTrader(server, 'bob');
  });
  afterAll(async () => {
    await server?.stop();
    await tq?.dispose();
    await db?.drop();
  });

  /** Lets the gateway know the workers' watermark (main.ts polls it; here the test reads it once). */
  async function persisted(): Promise<void> {
    const seq = server.engine.lastSeq;
    await waitForWatermark(db.pool, seq);
    server.sequencer.persistedSeq = seq;
  }

  it('keeps a connected user, drops after the idle time, and a returning trader loses nothing', async () => {
    const gw = server.gateway;
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    await a.call('subscribe', { channel: 'private' });
    const placed = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
      clientOrderId: 'drop-1',
    });
    const orderId: number = placed.result.order.orderId;
    await b.call('place', { symbol: SYM, side: 'SELL', orderType: 'MARKET', quantity: '1' });
    const filled = await a.next(
      (m) => m.channel === 'private' && m.orders?.some((o: { status: string }) => o.status === 'FILLED'),
    );
    const resumeFrom = { fromSeq: filled.seq, epoch: filled.epoch };
    await persisted();

    const views = () => server.metrics.render().match(/^exchange_account_views (\d+)$/m)?.[1];
    expect(views()).toBe('2');
    // Both connected: nothing goes, however late it is.
    expect(gw.sweepViews(Date.now() + 10 * IDLE_MS)).toBe(0);
    a.close();
    await until(() => gw.sessions.size === 1);
    // Alice left, but not long enough ago.
    expect(gw.sweepViews(Date.now() + IDLE_MS / 2)).toBe(0);
    // Long enough: Alice's view goes, Bob's (connected) stays.
    expect(gw.sweepViews(Date.now() + IDLE_MS + 1_000)).toBe(1);
    expect(views()).toBe('1');
    expect(server.metrics.render()).toMatch(/^exchange_account_views_dropped_total 1$/m);

    // Alice comes back.
    const a2 = await RawClient.connect(server);
    await a2.auth(alice);
    const status = await a2.call('order_status', { clientOrderId: 'drop-1' });
    expect(status.result.source).toBe('archive');
    expect(status.result.order).toMatchObject({ orderId, status: 'FILLED', filledQuantity: '1' });
    // Her retry of the filled order is refused with it, as it was before the drop.
    const retry = await a2.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
      clientOrderId: 'drop-1',
    });
    expect(retry.error?.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    expect(retry.error.data.order).toMatchObject({ orderId, status: 'FILLED' });
    // Resuming the old stream: a snapshot of a new epoch, with the account as it is.
    await a2.call('subscribe', { channel: 'private', ...resumeFrom });
    const snap = await a2.next((m) => m.channel === 'private' && m.type === 'snapshot');
    expect(snap.epoch).not.toBe(resumeFrom.epoch);
    expect(snap.seq).toBe(0);
    expect(snap.account.accountId).toBe(alice.accountId);
    expect(snap.positions.map((p: { quantity: string }) => p.quantity)).toEqual(['1']);
    a2.close();
    b.close();
  });

  it('keeps a view whose last change the workers have not written yet', async () => {
    const gw = server.gateway;
    await persisted();
    gw.sweepViews(Date.now() + 2 * IDLE_MS); // Bob's, from the first test
    const a = await RawClient.connect(server);
    await a.auth(alice);
    await a.call('place', { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '90', quantity: '1' });
    a.close();
    await until(() => gw.sessions.size === 0);
    server.sequencer.persistedSeq = server.engine.lastSeq - 1;
    expect(gw.sweepViews(Date.now() + 2 * IDLE_MS)).toBe(0);
    await persisted();
    expect(gw.sweepViews(Date.now() + 2 * IDLE_MS)).toBe(1);
  });
});
