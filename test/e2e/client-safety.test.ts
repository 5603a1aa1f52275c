/**
 * The typed client keeps what a bot relies on across what the network and the book do: cancel-on-disconnect
 * stays on after its automatic reconnect, and a book subscribed with a depth never shows a best price that
 * a level behind its snapshot should have replaced. Both failed before their fix (an adversarial probe).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader, until } from './helpers.js';

const SYM = 'BTC-PERP';
const limit = (side: 'BUY' | 'SELL', price: string, quantity: string, extra: object = {}) => ({
  symbol: SYM,
  side,
  orderType: 'LIMIT' as const,
  price,
  quantity,
  ...extra,
});

describe('typed client safety', () => {
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

  it('turns cancel-on-disconnect on again after reconnecting, so the next drop still cancels', async () => {
    const c = new ExchangeClient({ url, apiKey: alice.apiKey, secret: alice.secret, backoffInitialMs: 20 });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    await c.cancelOnDisconnect(true);
    for (const s of server.gateway.sessions) if (s.userId === alice.userId) s.close(4000, 'network blip');
    await until(() => reconnected === 1);
    const mine = [...server.gateway.sessions].filter((s) => s.userId === alice.userId);
    expect(mine.map((s) => s.cancelOnDisconnect)).toEqual(['connection']);
    const ack = await c.place(limit('BUY', '10', '0.001'));
    c.close();
    await until(() => [...server.gateway.sessions].every((s) => s.userId !== alice.userId));
    await until(() => server.engine.order(ack.order.orderId) === undefined);
    const q = await RawClient.connect(server);
    await q.auth(alice);
    const st = await q.call('order_status', { orderId: ack.order.orderId });
    expect(st.result.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'DISCONNECT' });
    q.close();
  });

  it('a book subscribed with depth 1 shows the next bid when the best one goes', async () => {
    const m = await RawClient.connect(server);
    await m.auth(bob);
    const top = await m.call('place', limit('BUY', '100', '0.001'));
    await m.call('place', limit('BUY', '99', '0.001'));
    const c = new ExchangeClient({ url });
    await c.connect();
    const book = await c.subscribeBook(SYM, () => {}, 1);
    await until(() => book.best('BUY') === '100');
    await m.call('cancel', { orderId: top.result.order.orderId });
    await until(() => book.best('BUY') === '99');
    expect(book.best('BUY')).toBe(server.engine.bestPrice(SYM, 'BUY'));
    // A level behind the snapshot's horizon is not kept half-known.
    await m.call('place', limit('BUY', '50', '0.001'));
    await m.call('place', limit('BUY', '99.5', '0.001'));
    await until(() => book.best('BUY') === '99.5');
    expect(book.levels('BUY').map(([p]) => p)).not.toContain('50');
    c.close();
    m.close();
  });
});
