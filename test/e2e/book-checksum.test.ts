/**
 * Every book message carries the checksum of the book's best levels after it: equal to one computed from
 * the messages themselves and, at the end, from the engine's own book; the typed client verifies it on
 * every delta without finding a difference.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../src/client/index.js';
import { BookLevels } from '../../src/protocol/book-levels.js';
import { bookChecksum, CHECKSUM_LEVELS } from '../../src/protocol/checksum.js';
import type { Level } from '../../src/protocol/types.js';
import { type Json, RawClient, until, withMarket } from './helpers.js';

const SYM = 'BTC-PERP';

describe('book checksum', () => {
  const m = withMarket(['alice', 'bob']);

  it('matches the book the messages build and the engine’s book', async () => {
    const watcher = await RawClient.connect(m.server);
    await watcher.call('subscribe', { channel: `book.${SYM}` });
    // Two typed clients (one client keeps one book per symbol, at the widest depth asked): the whole book,
    // and the best 10 levels.
    const gaps: unknown[] = [];
    const clients = [0, 1].map(() => new ExchangeClient({ url: `ws://127.0.0.1:${m.server.port}/ws` }));
    for (const c of clients) {
      c.on('gap', (g) => gaps.push(g));
      await c.connect();
    }
    const full = await clients[0]!.subscribeBook(SYM, () => {});
    const deep = await clients[1]!.subscribeBook(SYM, () => {}, CHECKSUM_LEVELS);

    const a = await RawClient.connect(m.server);
    const b = await RawClient.connect(m.server);
    await a.auth(m.traders.alice!);
    await b.auth(m.traders.bob!);
    // A seeded walk: resting orders over 30 ticks on both sides, crossing orders, cancels.
    let x = 7;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x % n;
    };
    const live: number[] = [];
    for (let i = 0; i < 120; i++) {
      const who = rnd(2) === 0 ? a : b;
      const r = rnd(10);
      if (r < 2 && live.length > 0) {
        await who.call('cancel', { orderId: live.splice(rnd(live.length), 1)[0] });
      } else {
        const buy = rnd(2) === 0;
        // Mostly behind the mid (resting), sometimes through it (taking).
        const offset = r === 9 ? -rnd(5) : 1 + rnd(30);
        const price = String((buy ? 50_000 - offset * 0.5 : 50_000 + offset * 0.5).toFixed(1)).replace(
          /\.0$/,
          '',
        );
        const reply = await who.call('place', {
          symbol: SYM,
          side: buy ? 'BUY' : 'SELL',
          orderType: 'LIMIT',
          price,
          quantity: String((1 + rnd(5)) / 1000),
        });
        if (reply.result?.order.status === 'NEW') live.push(reply.result.order.orderId);
      }
    }
    // A last order far from the rest: once everyone has its level, everyone has everything before it.
    await a.call('place', {
      symbol: SYM,
      side: 'BUY',
      orderType: 'LIMIT',
      price: '40000',
      quantity: '0.001',
    });
    const hasSentinel = (m: Json) =>
      m.channel === `book.${SYM}` && m.bids.some(([p]: Level) => p === '40000');
    await until(() => watcher.messages.some(hasSentinel));
    const last = watcher.messages.find(hasSentinel).engineSeq;
    // (The depth-10 book does not keep a level behind its snapshot's horizon: it is up to date once its
    // engineSeq is.)
    await until(() => full.bids.has('40000') && deep.engineSeq >= last);

    // Rebuild the book from the watcher's messages: every checksum matches the book after its message.
    const bids = new BookLevels(true);
    const asks = new BookLevels(false);
    const books = watcher.messages.filter((m: Json) => m.channel === `book.${SYM}`);
    expect(books.length).toBeGreaterThan(50);
    for (const m of books) {
      if (m.type === 'snapshot') {
        bids.clear();
        asks.clear();
      }
      for (const [p, q] of m.bids as Level[]) bids.set(p, q);
      for (const [p, q] of m.asks as Level[]) asks.set(p, q);
      expect(m.checksum).toBe(bookChecksum(bids.top(CHECKSUM_LEVELS), asks.top(CHECKSUM_LEVELS)));
    }
    // ... and the last one is the engine's book.
    const engineBook = m.server.engine.book(SYM, CHECKSUM_LEVELS)!;
    const levels = (side: { price: string; quantity: string }[]): Level[] =>
      side.map((l) => [l.price, l.quantity]);
    expect(books.at(-1).checksum).toBe(bookChecksum(levels(engineBook.bids), levels(engineBook.asks)));
    expect(full.checksum()).toBe(books.at(-1).checksum);
    expect(deep.checksum()).toBe(books.at(-1).checksum);
    expect(gaps).toEqual([]);
    for (const c of clients) c.close();
    for (const r of [watcher, a, b]) r.close();
  });
});
