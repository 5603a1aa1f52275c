/**
 * A small market-making bot: keeps one bid and one ask around the mid of the book, re-quoting when the mid
 * moves. Shows the client's pieces: auth, a book subscription with automatic resync, the private stream,
 * place/cancel with typed errors, cancel-on-disconnect and the dead-man's switch as safety nets.
 *
 *   EXCHANGE_URL=ws://127.0.0.1:8080/ws API_KEY=ak_... API_SECRET=... SYMBOL=BTC-PERP \
 *   SPREAD=1 SIZE=0.01 TICK=0.5 node dist/src/client/examples/quoter.js
 *
 * Prices are computed in integer ticks and printed as decimal strings: no floating point touches a price.
 */
import { ExchangeClient, ExchangeError, type LocalBook } from '../index.js';

const url = process.env.EXCHANGE_URL ?? 'ws://127.0.0.1:8080/ws';
const symbol = process.env.SYMBOL ?? 'BTC-PERP';
const size = process.env.SIZE ?? '0.01';
/** Tick size as a decimal string, and the half-spread in ticks. */
const tick = process.env.TICK ?? '0.5';
const halfSpreadTicks = BigInt(process.env.SPREAD ?? '1');
const fallbackMid = process.env.MID ?? '50000';

const SCALE = 100_000_000n;
function toUnits(s: string): bigint {
  const [i, f = ''] = s.split('.');
  return BigInt(i!) * SCALE + BigInt(`${f}00000000`.slice(0, 8));
}
function fromUnits(u: bigint): string {
  const i = u / SCALE;
  const f = (u % SCALE).toString().padStart(8, '0').replace(/0+$/, '');
  return f ? `${i}.${f}` : `${i}`;
}

const tickUnits = toUnits(tick);

/** Mid of the best bid and ask, rounded down to a tick (or the fallback on an empty side). */
function midTicks(book: LocalBook): bigint {
  const bid = book.best('BUY');
  const ask = book.best('SELL');
  const mid = bid && ask ? (toUnits(bid) + toUnits(ask)) / 2n : toUnits(bid ?? ask ?? fallbackMid);
  return mid / tickUnits;
}

async function main(): Promise<void> {
  const client = new ExchangeClient({ url, apiKey: process.env.API_KEY, secret: process.env.API_SECRET });
  client.on('gap', (g) => console.log('gap, resyncing', g));
  client.on('reconnected', () => console.log('reconnected'));
  await client.connect();
  // If this process dies, the exchange pulls our quotes.
  await client.cancelOnDisconnect(true);
  // If this process hangs while its connection stays up, the exchange pulls our quotes 30 s later: the
  // switch is refreshed from the bot's own event loop, so a stuck bot stops refreshing it.
  await client.cancelAllAfter(30_000);
  const refresh = setInterval(() => void client.cancelAllAfter(30_000).catch(() => {}), 10_000);
  await client.subscribePrivate((m) => {
    if (m.type === 'update') for (const f of m.fills) console.log(`fill ${f.side} ${f.quantity}@${f.price}`);
  });

  let quotedMid = -1n;
  let busy = false;
  const requote = async (book: LocalBook) => {
    const mid = midTicks(book);
    if (busy || mid === quotedMid) return;
    busy = true;
    try {
      await client.cancelAll({ symbol });
      const bid = fromUnits((mid - halfSpreadTicks) * tickUnits);
      const ask = fromUnits((mid + halfSpreadTicks) * tickUnits);
      // Post-only: a quote that would cross is refused instead of taking liquidity.
      await Promise.all([
        client.place({ symbol, side: 'BUY', orderType: 'LIMIT', price: bid, quantity: size, postOnly: true }),
        client.place({
          symbol,
          side: 'SELL',
          orderType: 'LIMIT',
          price: ask,
          quantity: size,
          postOnly: true,
        }),
      ]);
      quotedMid = mid;
      console.log(`quoting ${bid} / ${ask}`);
    } catch (e) {
      if (e instanceof ExchangeError && e.code === 'RATE_LIMITED') {
        await new Promise((r) => setTimeout(r, Number(e.data?.retryAfterMs ?? 100)));
      } else if (e instanceof ExchangeError) console.log(`refused: ${e.code} ${e.message}`);
      else throw e;
    } finally {
      busy = false;
    }
  };
  const book = await client.subscribeBook(symbol, (b) => void requote(b));
  await requote(book);
  process.on('SIGINT', async () => {
    clearInterval(refresh);
    await client.cancelAll({ symbol }).catch(() => {});
    await client.cancelAllAfter(0).catch(() => {});
    client.close();
    process.exit(0);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
