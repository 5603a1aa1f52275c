/**
 * The dead-man's switch (`cancel_all_after`): an account's orders are cancelled when it runs out, across a
 * disconnect; re-arming replaces the deadline, 0 disarms; bad timeouts are refused; the typed client arms it
 * again after a reconnect.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import type { ExchangeServer } from '../../src/server.js';
import { type Json, RawClient, until, withMarket } from './helpers.js';

const SYM = 'BTC-PERP';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bid = (price: string) => ({ symbol: SYM, side: 'BUY', orderType: 'LIMIT', price, quantity: '0.001' });

/** The value of an unlabelled metric on /metrics. */
async function metric(server: ExchangeServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

describe('cancel_all_after (dead-man switch)', () => {
  const m = withMarket(['alice', 'bob', 'carol']);

  it('cancels every order of the account when it runs out, though the connection that armed it is gone', async () => {
    // A second connection watches the private stream from before the switch is armed.
    const w = await RawClient.connect(m.server);
    await w.auth(m.traders.alice!);
    await w.call('subscribe', { channel: 'private' });
    const a = await RawClient.connect(m.server);
    await a.auth(m.traders.alice!);
    const ids: number[] = [];
    for (const price of ['10', '11']) ids.push((await a.call('place', bid(price))).result.order.orderId);
    const armed = await a.call('cancel_all_after', { timeoutMs: 1000 });
    expect(armed.result).toEqual({
      accountId: m.traders.alice!.accountId,
      timeoutMs: 1000,
      triggerAt: armed.usIn + 1_000_000,
    });
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(1);
    a.close();
    await a.waitClosed();
    await until(() => ids.every((id) => m.server.engine.order(id) === undefined));
    for (const orderId of ids) {
      const st = await w.call('order_status', { orderId });
      expect(st.result.order).toMatchObject({ status: 'CANCELLED', cancelReason: 'CANCEL_ALL_AFTER' });
    }
    // The private stream tells the trader why.
    const update = await w.next(
      (m: Json) => m.channel === 'private' && m.type === 'update' && m.orders?.length === 2,
    );
    expect(update.orders.map((o: Json) => o.cancelReason)).toEqual(['CANCEL_ALL_AFTER', 'CANCEL_ALL_AFTER']);
    expect(await metric(m.server, 'exchange_cancel_all_after_fired_total')).toBe(1);
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(0);
    w.close();
  });

  it('re-arming replaces the deadline and 0 disarms it: nothing is cancelled', async () => {
    const b = await RawClient.connect(m.server);
    await b.auth(m.traders.bob!);
    const orderId = (await b.call('place', bid('12'))).result.order.orderId;
    await b.call('cancel_all_after', { timeoutMs: 1000 });
    const rearmed = await b.call('cancel_all_after', { timeoutMs: 60_000 });
    expect(rearmed.result).toMatchObject({ timeoutMs: 60_000, triggerAt: rearmed.usIn + 60_000_000 });
    // Past the first deadline: the re-arm replaced it.
    await sleep(1500);
    expect(m.server.engine.order(orderId)).toBeDefined();
    await b.call('cancel_all_after', { timeoutMs: 1000 });
    const off = await b.call('cancel_all_after', { timeoutMs: 0 });
    expect(off.result).toEqual({ accountId: m.traders.bob!.accountId, timeoutMs: 0, triggerAt: null });
    await sleep(1500);
    expect(m.server.engine.order(orderId)).toBeDefined();
    await b.call('cancel', { orderId });
    b.close();
  });

  it('refuses a timeout out of range, another account, and an unauthenticated call', async () => {
    const c = await RawClient.connect(m.server);
    expect((await c.call('cancel_all_after', { timeoutMs: 5000 })).error.code).toBe('UNAUTHENTICATED');
    await c.auth(m.traders.carol!);
    for (const timeoutMs of [undefined, 999, 1.5, '5000', -1, 86_400_001]) {
      const r = await c.call('cancel_all_after', timeoutMs === undefined ? {} : { timeoutMs });
      expect(r.error).toMatchObject({ code: 'INVALID_PARAMS', data: { field: 'timeoutMs' } });
    }
    const other = await c.call('cancel_all_after', {
      timeoutMs: 5000,
      accountId: m.traders.alice!.accountId,
    });
    expect(other.error.code).toBe('FORBIDDEN');
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(0);
    c.close();
  });

  it('the typed client arms the switch again after it reconnects', async () => {
    const c = new ExchangeClient({
      url: `ws://127.0.0.1:${m.server.port}/ws`,
      apiKey: m.traders.carol!.apiKey,
      secret: m.traders.carol!.secret,
    });
    let reconnected = 0;
    c.on('reconnected', () => reconnected++);
    await c.connect();
    expect(await c.cancelAllAfter(60_000)).toMatchObject({
      accountId: m.traders.carol!.accountId,
      timeoutMs: 60_000,
    });
    // The m.server forgets it (as a restart would); the client's next connection arms it again.
    const raw = await RawClient.connect(m.server);
    await raw.auth(m.traders.carol!);
    await raw.call('cancel_all_after', { timeoutMs: 0 });
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(0);
    for (const s of m.server.gateway.sessions)
      if (s.key?.apiKey === m.traders.carol!.apiKey) s.close(4000, 'blip');
    await until(() => reconnected === 1);
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(1);
    await c.cancelAllAfter(0);
    expect(await metric(m.server, 'exchange_cancel_all_after_armed')).toBe(0);
    c.close();
    raw.close();
  });
});
