/**
 * Replies a trading bot branches on, as docs/protocol.md states them: an ended order is ORDER_NOT_LIVE (with
 * what became of it), not an unknown id; every command reply carries its engine seq and ts, even one that
 * changed nothing; a refused order leaves its client order id free; every UNAVAILABLE says when to retry.
 * Found by an adversarial probe of the protocol (each failed before its fix).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../../src/gateway/keys.js';
import type { OrderArchive } from '../../src/gateway/order-archive.js';
import { authParams } from '../../src/protocol/sign.js';
import type { ExchangeServer } from '../../src/server.js';
import { BTC, createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

const SYM = 'BTC-PERP';
const limit = (side: 'BUY' | 'SELL', price: string, quantity: string, extra: object = {}) => ({
  symbol: SYM,
  side,
  orderType: 'LIMIT',
  price,
  quantity,
  ...extra,
});
const STAMP = ['type', 'seq', 'ts'];

describe('command replies', () => {
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

  it('cancel or amend of an ended order answers ORDER_NOT_LIVE with the order; a wrong id UNKNOWN_ORDER', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    const filled = await a.call('place', limit('BUY', '100', '1', { clientOrderId: 'nl-1' }));
    const filledId: number = filled.result.order.orderId;
    await b.call('place', limit('SELL', '100', '1'));

    const byId = await a.call('cancel', { orderId: filledId });
    expect(byId.error.code).toBe('ORDER_NOT_LIVE');
    expect(byId.error.data.order).toMatchObject({ orderId: filledId, status: 'FILLED', filledQuantity: '1' });
    for (const k of STAMP) expect(byId.error.data.order).not.toHaveProperty(k);
    expect(byId.error.data.seq).toBeGreaterThan(0);
    const byCoid = await a.call('cancel', { clientOrderId: 'nl-1' });
    expect(byCoid.error.code).toBe('ORDER_NOT_LIVE');
    expect(byCoid.error.data.order.orderId).toBe(filledId);

    const rested = await a.call('place', limit('BUY', '90', '1'));
    const restedId: number = rested.result.order.orderId;
    expect((await a.call('cancel', { orderId: restedId })).result.order.status).toBe('CANCELLED');
    const again = await a.call('cancel', { orderId: restedId });
    expect(again.error).toMatchObject({ code: 'ORDER_NOT_LIVE', data: { order: { status: 'CANCELLED' } } });
    const amend = await a.call('amend', { orderId: restedId, quantity: '2' });
    expect(amend.error).toMatchObject({ code: 'ORDER_NOT_LIVE', data: { order: { status: 'CANCELLED' } } });

    expect((await a.call('cancel', { orderId: 999_999 })).error.code).toBe('UNKNOWN_ORDER');
    // Bob learns nothing about Alice's ended order.
    expect((await b.call('cancel', { orderId: filledId })).error.code).toBe('UNKNOWN_ORDER');
    a.close();
    b.close();
  });

  it('cancel_all with nothing to cancel carries the seq and ts it was sequenced at', async () => {
    const a = await RawClient.connect(server);
    await a.auth(alice);
    const before = server.engine.lastSeq;
    const r = await a.call('cancel_all', {});
    expect(r.result.cancelled).toEqual([]);
    expect(r.result.seq).toBe(before + 1);
    expect(r.result.ts).toBeGreaterThan(0);
    a.close();
  });

  it('a refused order leaves its client order id free; a filled one keeps it', async () => {
    const a = await RawClient.connect(server);
    const b = await RawClient.connect(server);
    await a.auth(alice);
    await b.auth(bob);
    await b.call('place', limit('SELL', '120', '1'));
    // Post-only that would take: refused, and its id can quote again.
    const refused = await a.call(
      'place',
      limit('BUY', '120', '1', { postOnly: true, clientOrderId: 'po-1' }),
    );
    expect(refused.error.code).toBe('POST_ONLY_WOULD_TAKE');
    for (const k of STAMP) expect(refused.error.data.order).not.toHaveProperty(k);
    const requote = await a.call(
      'place',
      limit('BUY', '119.5', '1', { postOnly: true, clientOrderId: 'po-1' }),
    );
    expect(requote.result.order.status).toBe('NEW');
    await a.call('cancel', { clientOrderId: 'po-1' });
    // A cancelled (once live) order keeps its id for retries.
    const retry = await a.call('place', limit('BUY', '119.5', '1', { clientOrderId: 'po-1' }));
    expect(retry.error.code).toBe('DUPLICATE_CLIENT_ORDER_ID');
    expect(retry.error.data.order).toMatchObject({ clientOrderId: 'po-1', status: 'CANCELLED' });
    for (const k of STAMP) expect(retry.error.data.order).not.toHaveProperty(k);
    a.close();
    b.close();
  });
});

describe('UNAVAILABLE always carries retryAfterMs', () => {
  it('when the order archive is down', async () => {
    const archive: OrderArchive = {
      find: async () => {
        throw new Error('connection refused');
      },
    };
    const server = await startServer({ finalOrdersRemembered: 0 }, { orderArchive: archive });
    try {
      await createInstrument(server);
      const alice = await createTrader(server, 'alice');
      const a = await RawClient.connect(server);
      await a.auth(alice);
      const p = await a.call('place', limit('BUY', '90', '1'));
      await a.call('cancel', { orderId: p.result.order.orderId });
      const r = await a.call('order_status', { orderId: p.result.order.orderId });
      expect(r.error.code).toBe('UNAVAILABLE');
      expect(r.error.data.retryAfterMs).toBeGreaterThan(0);
      a.close();
    } finally {
      await server.stop();
    }
  });

  it('when the key store is down at login', async () => {
    class FailingKeys extends MemoryKeyStore {
      failing = false;
      override async get(apiKey: string) {
        if (this.failing) throw new Error('key store down');
        return super.get(apiKey);
      }
    }
    const keys = new FailingKeys();
    const server = await startServer({}, { keys });
    try {
      const alice = await createTrader(server, 'alice');
      keys.failing = true;
      const a = await RawClient.connect(server);
      const r = await a.call('auth', authParams(alice.apiKey, alice.secret));
      expect(r.error.code).toBe('UNAVAILABLE');
      expect(r.error.data.retryAfterMs).toBeGreaterThan(0);
      a.close();
    } finally {
      await server.stop();
    }
  });
});

describe('book stream', () => {
  it('a command that changes two books sends one delta per book: seq moves by one per command', async () => {
    const server = await startServer();
    try {
      await createInstrument(server);
      await createInstrument(server, { ...BTC, symbol: 'ETH-PERP', baseCurrency: 'ETH' });
      const alice = await createTrader(server, 'alice');
      const a = await RawClient.connect(server);
      await a.auth(alice);
      const w = await RawClient.connect(server);
      await w.call('subscribe', { channel: `book.${SYM}` });
      await w.call('subscribe', { channel: 'book.ETH-PERP' });
      // Orders alternate between the books, so cancel_all (by order id) changes them alternately.
      for (const [symbol, price] of [
        [SYM, '90'],
        ['ETH-PERP', '90'],
        [SYM, '91'],
        ['ETH-PERP', '91'],
      ] as const) {
        await a.call('place', { ...limit('BUY', price, '1'), symbol });
      }
      const before = w.stream(`book.${SYM}`).at(-1).seq;
      const r = await a.call('cancel_all', {});
      expect(r.result.cancelled).toHaveLength(4);
      const btc = await w.next((m) => m.channel === `book.${SYM}` && m.engineSeq === r.result.seq);
      const eth = await w.next((m) => m.channel === 'book.ETH-PERP' && m.engineSeq === r.result.seq);
      const btcDeltas = w.stream(`book.${SYM}`).filter((m) => m.engineSeq === r.result.seq);
      expect(btcDeltas).toHaveLength(1);
      expect(btc).toMatchObject({ seq: before + 1, prevSeq: before });
      expect(btc.bids).toEqual(
        expect.arrayContaining([
          ['90', '0'],
          ['91', '0'],
        ]),
      );
      expect(eth.bids).toHaveLength(2);
      a.close();
      w.close();
    } finally {
      await server.stop();
    }
  });
});

describe('ticker', () => {
  it('numbers each content once: no repeat under a new seq after subscribing', async () => {
    const server = await startServer({ tickerIntervalMs: 20 });
    try {
      await createInstrument(server);
      const alice = await createTrader(server, 'alice');
      const a = await RawClient.connect(server);
      await a.auth(alice);
      await a.call('place', limit('BUY', '80', '1'));
      const w = await RawClient.connect(server);
      await w.call('subscribe', { channel: `ticker.${SYM}` });
      const first = await w.next((m) => m.channel === `ticker.${SYM}`);
      expect(first.bestBid).toBe('80');
      await new Promise((r) => setTimeout(r, 200)); // ten ticks, nothing changed
      expect(w.stream(`ticker.${SYM}`)).toHaveLength(1);
      await a.call('place', limit('BUY', '81', '1'));
      const next = await w.next((m) => m.channel === `ticker.${SYM}` && m.bestBid === '81');
      expect(next.seq).toBe(first.seq + 1);
      a.close();
      w.close();
    } finally {
      await server.stop();
    }
  });
});
