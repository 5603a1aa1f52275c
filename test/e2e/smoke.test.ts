import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeServer } from '../../src/server.js';
import { createInstrument, createTrader, RawClient, startServer, type Trader } from './helpers.js';

describe('smoke', () => {
  let server: ExchangeServer;
  let alice: Trader;
  beforeAll(async () => {
    server = await startServer();
    await createInstrument(server);
    alice = await createTrader(server, 'alice');
  });
  afterAll(async () => server.stop());

  it('places an order', async () => {
    const c = await RawClient.connect(server);
    const a = await c.auth(alice);
    expect(a.result.accountIds).toEqual([alice.accountId]);
    const r = await c.call('place', {
      symbol: 'BTC-PERP',
      side: 'BUY',
      orderType: 'LIMIT',
      price: '100',
      quantity: '1',
    });
    console.log(JSON.stringify(r));
    expect(r.result.order.status).toBe('NEW');
    c.close();
  });
});
