/**
 * Output commit at the gateway: nothing the engine decided reaches any client before its batch is released;
 * and when the queue fails for good, waiting requests are answered UNAVAILABLE and /health says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBatcher } from '../../src/pipeline/memory-batcher.js';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';

describe('output commit', () => {
  let server: ExchangeServer;
  let batcher: MemoryBatcher;
  let alice: Trader;
  beforeAll(async () => {
    batcher = new MemoryBatcher({ mode: 'durable' });
    server = await startServer({}, { batcher });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('holds acks, book deltas and query answers until the batch is released', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    const w = await RawClient.connect(server);
    await w.call('subscribe', { channel: `book.${SYM}` });
    await w.next((m) => m.type === 'snapshot');

    batcher.autoRelease = false;
    const ack = a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
    });
    const orders = a.call('open_orders');
    const ping = await a.call('ping'); // the connection is alive and answering
    expect(ping.result.serverTime).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.engine.lastSeq).toBeGreaterThan(server.sequencer.releasedSeq); // the engine has decided...
    expect(a.messages.filter((m) => m.result?.order)).toEqual([]); // ...but nobody has been told
    expect(w.stream(`book.${SYM}`).filter((m) => m.type === 'delta')).toEqual([]);

    await batcher.flush();
    expect((await ack).result.order.status).toBe('NEW');
    expect((await orders).result.orders).toHaveLength(1); // the query waited for the place before it
    const delta = await w.next((m) => m.type === 'delta');
    expect(delta.bids).toEqual([['100', '1']]);
    batcher.autoRelease = true;
    a.close();
    w.close();
  });

  it('answers UNAVAILABLE and reports unhealthy when the queue fails for good', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    batcher.autoRelease = false;
    const held = a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '99',
      quantity: '1',
    });
    await new Promise((r) => setTimeout(r, 50));
    batcher.fail(new Error('redis is gone'));
    expect((await held).error.code).toBe('UNAVAILABLE');
    const next = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '98',
      quantity: '1',
    });
    expect(next.error.code).toBe('UNAVAILABLE');
    expect((await a.call('open_orders')).error.code).toBe('UNAVAILABLE');
    const h = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(h.status).toBe(503);
    expect(await h.json()).toMatchObject({ status: 'queue_unreachable', error: 'redis is gone' });
    a.close();
  });
});

describe('load shedding', () => {
  let server: ExchangeServer;
  let batcher: MemoryBatcher;
  let alice: Trader;
  beforeAll(async () => {
    batcher = new MemoryBatcher({ mode: 'durable' });
    server = await startServer({ maxBacklog: 100 }, { batcher });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('refuses new orders with a retry hint while the queue is behind, and still takes cancels', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    const resting = await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '50',
      quantity: '1',
    });
    batcher.autoRelease = false;
    const calls = Array.from({ length: 110 }, (_, i) =>
      a.call('place', {
        symbol: SYM,
        side: 'BUY',
        orderType: 'LIMIT',
        price: String(60 + (i % 10)),
        quantity: '0.01',
      }),
    );
    const refused = await a.next((m) => m.error?.code === 'UNAVAILABLE');
    expect(refused.error.data).toMatchObject({ retryAfterMs: 50 });
    const cancel = a.call('cancel', { orderId: resting.result.order.orderId });
    await batcher.flush();
    batcher.autoRelease = true;
    const replies = await Promise.all(calls);
    expect(replies.filter((r) => r.result).length).toBe(101);
    expect(replies.filter((r) => r.error?.code === 'UNAVAILABLE').length).toBe(9);
    expect((await cancel).result.order.status).toBe('CANCELLED');
    a.close();
  });
});

describe('load shedding on persistence lag', () => {
  let server: ExchangeServer;
  let alice: Trader;
  beforeAll(async () => {
    server = await startServer({ maxPersistLag: 2 }, { batcher: new MemoryBatcher({ mode: 'durable' }) });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('refuses new orders while the workers are too far behind the queue, takes cancels, and recovers', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    const place = () =>
      a.call('place', { symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '50', quantity: '1' });
    const resting = await place();
    expect(resting.result.order.status).toBe('NEW');
    const seq = server.sequencer;
    // Unknown watermark (no database): no shedding on it.
    expect(seq.persistedSeq).toBe(-1);
    // Set-up and the first order are 5+ commands: with nothing written yet, the lag is past 2.
    seq.persistedSeq = 0;
    const refused = await place();
    expect(refused.error.code).toBe('UNAVAILABLE');
    expect(refused.error.data).toMatchObject({ retryAfterMs: 250, persistLag: seq.releasedSeq });
    const cancel = await a.call('cancel', { orderId: resting.result.order.orderId });
    expect(cancel.result.order.status).toBe('CANCELLED');
    // The workers catch up: orders go through again.
    seq.persistedSeq = seq.releasedSeq - 2;
    expect((await place()).result.order.status).toBe('NEW');
    a.close();
  });
});
