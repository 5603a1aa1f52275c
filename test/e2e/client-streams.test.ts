/**
 * The typed client's streams and safety nets when the server says no: a refused second subscription leaves
 * the first one flowing; a refused resync is retried until the stream is whole again; the default account
 * and its id are one private stream and one dead-man's switch; a refused re-arm of the switch does not
 * fail a reconnect. Found by a review of the client (each failed before its fix).
 */
import { describe, expect, it } from 'vitest';
import { ExchangeClient, type PrivateSnapshot, type PrivateUpdate } from '../../src/client/index.js';
import type { ExchangeServer } from '../../src/server.js';
import { RawClient, until, withMarket } from './helpers.js';

const SYM = 'BTC-PERP';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type PrivateMessage = PrivateUpdate | PrivateSnapshot;

async function armedSwitches(server: ExchangeServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('exchange_cancel_all_after_armed '))!;
  return Number(line.split(' ')[1]);
}

function client(server: ExchangeServer, key?: { apiKey: string; secret: string }, extra = {}) {
  return new ExchangeClient({
    url: `ws://127.0.0.1:${server.port}/ws`,
    ...key,
    backoffInitialMs: 50,
    ...extra,
  });
}

/** Drops the typed client's sessions (those logged in with `apiKey`) from the server side. */
function blip(server: ExchangeServer, apiKey: string): void {
  for (const s of server.gateway.sessions) if (s.key?.apiKey === apiKey) s.close(4000, 'network blip');
}

describe('typed client: refusals on the way (a small connection budget)', () => {
  // 40 units of burst, 10 a second: a few requests spend it.
  const m = withMarket(['alice', 'bob'], { connRateBurst: 40, connRatePerSec: 10 });

  it('a refused second subscription leaves the first book and private handlers served', async () => {
    const alice = m.traders.alice!;
    const c = client(m.server, alice);
    await c.connect();
    const book = await c.subscribeBook(SYM, () => {});
    const first: PrivateMessage[] = [];
    await c.subscribePrivate((msg) => first.push(msg));
    // Spend the connection's budget, then subscribe again: refused.
    await Promise.all(Array.from({ length: 25 }, () => c.ping().catch(() => {})));
    await expect(c.subscribeBook(SYM, () => {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(c.subscribePrivate(() => {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const before = first.length;
    const b = client(m.server, m.traders.bob!);
    await b.connect();
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '900', quantity: '0.002' });
    const own = client(m.server, alice);
    await own.connect();
    await own.place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '10', quantity: '0.001' });
    await until(() => book.best('SELL') === '900' && first.length > before);
    for (const x of [own, b]) await x.cancelAll();
    for (const x of [own, b, c]) x.close();
  });

  it('a resync the server refuses is retried until the book is whole again', async () => {
    let deltas = 0;
    const errors: string[] = [];
    const c = client(m.server, undefined, {
      // Lose the second delta: the client resubscribes, which the spent budget refuses at first.
      dropIncoming: (msg: Record<string, unknown>) => msg.type === 'delta' && ++deltas === 2,
    });
    c.on('error', (e) => errors.push((e as { code?: string }).code ?? String(e)));
    await c.connect();
    const book = await c.subscribeBook(SYM, () => {});
    const b = client(m.server, m.traders.bob!);
    await b.connect();
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '950', quantity: '0.001' });
    await until(() => book.best('SELL') === '950');
    await Promise.all(Array.from({ length: 40 }, () => c.ping().catch(() => {})));
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '940', quantity: '0.001' }); // lost
    await b.place({ symbol: SYM, side: 'SELL', orderType: 'LIMIT', price: '930', quantity: '0.001' }); // gap
    await until(() => errors.includes('RATE_LIMITED'));
    await until(() => book.levels('SELL').length === 3);
    expect(book.levels('SELL').map(([p]) => p)).toEqual(['930', '940', '950']);
    await b.cancelAll();
    b.close();
    c.close();
  });
});

describe('typed client: one account, one stream and one switch', () => {
  // 30 units of burst, refilled one every 100 s: what a test spends stays spent.
  const m = withMarket(['carol', 'dave'], { accountRateBurst: 30, accountRatePerSec: 0.01 });

  it('the default account and its id are one private stream: both handlers are served', async () => {
    const carol = m.traders.carol!;
    const c = client(m.server, carol);
    await c.connect();
    const byDefault: PrivateMessage[] = [];
    const byId: PrivateMessage[] = [];
    await c.subscribePrivate((msg) => byDefault.push(msg));
    await c.subscribePrivate((msg) => byId.push(msg), carol.accountId);
    const before = byDefault.length;
    await c.place({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price: '10', quantity: '0.001' });
    await until(() => byId.some((msg) => msg.type === 'update') && byDefault.length > before);
    await c.cancelAll();
    c.close();
  });

  it('a switch armed for the default account and disarmed by its id stays disarmed after a reconnect', async () => {
    const carol = m.traders.carol!;
    const c = client(m.server, carol);
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    await c.cancelAllAfter(60_000);
    expect((await c.cancelAllAfter(0, carol.accountId)).accountId).toBe(carol.accountId);
    blip(m.server, carol.apiKey);
    await until(() => reconnected === 1);
    expect(await armedSwitches(m.server)).toBe(0);
    c.close();
  });

  it('a refused re-arm of the switch is reported, and the reconnect goes through', async () => {
    const dave = m.traders.dave!;
    const c = client(m.server, dave);
    const errors: string[] = [];
    c.on('error', (e) => errors.push((e as { code?: string }).code ?? String(e)));
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    await c.cancelAllAfter(60_000);
    // Another bot on the account spends the account's budget.
    const other = await RawClient.connect(m.server);
    await other.auth(dave);
    for (let i = 0; i < 40; i++)
      if ((await other.call('cancel_all_after', { timeoutMs: 60_000 })).error) break;
    await other.call('cancel_all_after', { timeoutMs: 0 });
    blip(m.server, dave.apiKey);
    await until(() => reconnected === 1);
    expect(errors).toContain('RATE_LIMITED');
    expect(c.connected).toBe(true);
    await sleep(50);
    c.close();
  });
});
