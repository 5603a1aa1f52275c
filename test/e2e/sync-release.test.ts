/**
 * A batcher may release a batch synchronously inside push (a full batch, or fast mode): replies must still
 * find their requests. Here every command is its own batch, released before submit returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBatcher } from '../../src/pipeline/memory-batcher.js';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

describe('synchronous release', () => {
  let server: ExchangeServer;
  let alice: Trader;
  beforeAll(async () => {
    server = await startServer({}, { batcher: new MemoryBatcher({ mode: 'fast', maxCommands: 1 }) });
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('answers every command when batches are released inside push', async () => {
    const c = await RawClient.connect(server);
    await c.auth(alice);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.call('place', {
          symbol: 'BTC-PERP',
          side: i % 2 ? 'BUY' : 'SELL',
          orderType: 'LIMIT',
          price: String(100 + (i % 7)),
          quantity: '0.01',
        }),
      ),
    );
    expect(replies.every((r) => r.result?.order.orderId > 0)).toBe(true);
    const all = await c.call('cancel_all');
    expect(all.result.cancelled.length).toBeGreaterThan(0);
    expect((await c.call('open_orders')).result.orders).toEqual([]);
    c.close();
  });
});
