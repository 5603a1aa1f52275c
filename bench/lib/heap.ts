/**
 * Heap bytes per resting order: a fresh `node --expose-gc` process builds N resting orders that do not
 * cross (buys below the mid, sells above, over 100 levels), and reports (heapUsed after - heapUsed before)
 * / N, each side of the build measured after full collections.
 *
 * A separate process, so that nothing else (the flow's command arrays, a previous engine, JIT garbage)
 * is in the heap; each order's command is built fresh and dropped, so whatever the book keeps of it is
 * counted, as it would be for orders arriving over the wire.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import { BENCH_EPOCH_MICROS, BENCH_INSTRUMENT, BENCH_SYMBOL, MID_TICK, tickToDecimal } from '../flow.js';
import { newPeerBook } from './peer.js';

export interface HeapResult {
  book: 'engine' | 'peer';
  orders: number;
  restingOrders: number;
  heapBytesPerRestingOrder: number;
  heapUsedBeforeMiB: number;
  heapUsedAfterMiB: number;
  buildSeconds: number;
}

const LEVELS_PER_SIDE = 50;

/** Runs the measurement in a child process and returns its result. */
export function measureHeap(book: 'engine' | 'peer', orders: number): HeapResult {
  const res = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), book, String(orders)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (res.status !== 0) throw new Error(`heap probe (${book}) failed: ${res.stderr || res.error?.message}`);
  const lines = res.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as HeapResult;
}

function gcHard(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap probe needs --expose-gc');
  for (let i = 0; i < 4; i++) gc();
}

function priceTick(i: number): { buy: boolean; tick: number } {
  const buy = (i & 1) === 0;
  const level = 1 + ((i >> 1) % LEVELS_PER_SIDE);
  return { buy, tick: buy ? MID_TICK - level : MID_TICK + level };
}

function probeEngine(orders: number): HeapResult {
  const engine = new Engine({ risk: false });
  const out: EngineEvent[] = [];
  let seq = 1;
  engine.apply({ ...BENCH_INSTRUMENT, seq, ts: BENCH_EPOCH_MICROS } as Command, out);
  gcHard();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < orders; i++) {
    const { buy, tick } = priceTick(i);
    seq++;
    out.length = 0;
    engine.apply(
      {
        type: 'place_order',
        accountId: 1 + (i % 1000),
        symbol: BENCH_SYMBOL,
        side: buy ? 'BUY' : 'SELL',
        orderType: 'LIMIT',
        timeInForce: 'GTC',
        quantity: String(1 + (i % 10)),
        price: tickToDecimal(tick),
        seq,
        ts: BENCH_EPOCH_MICROS + seq,
      },
      out,
    );
  }
  out.length = 0;
  const buildSeconds = (performance.now() - t0) / 1000;
  gcHard();
  const after = process.memoryUsage().heapUsed;
  const snap = engine.book(BENCH_SYMBOL, Number.MAX_SAFE_INTEGER);
  let resting = 0;
  for (const l of [...(snap?.bids ?? []), ...(snap?.asks ?? [])]) resting += l.orders;
  return result('engine', orders, resting, before, after, buildSeconds);
}

function probePeer(orders: number): HeapResult {
  const ob = newPeerBook();
  gcHard();
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < orders; i++) {
    const { buy, tick } = priceTick(i);
    ob.limit({
      id: String(i + 1),
      side: (buy ? 'buy' : 'sell') as never,
      size: 1 + (i % 10),
      price: Number(tickToDecimal(tick)),
    });
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  gcHard();
  const after = process.memoryUsage().heapUsed;
  const [asks, bids] = ob.depth();
  // The peer reports volume per level, not order counts: every order rested (none cross) if volumes add up.
  const volume = [...asks, ...bids].reduce((s, [, q]) => s + q, 0);
  let expected = 0;
  for (let i = 0; i < orders; i++) expected += 1 + (i % 10);
  return result('peer', orders, volume === expected ? orders : -1, before, after, buildSeconds);
}

function result(
  book: HeapResult['book'],
  orders: number,
  resting: number,
  before: number,
  after: number,
  secs: number,
) {
  return {
    book,
    orders,
    restingOrders: resting,
    heapBytesPerRestingOrder: Math.round((after - before) / orders),
    heapUsedBeforeMiB: Math.round((before / 2 ** 20) * 10) / 10,
    heapUsedAfterMiB: Math.round((after / 2 ** 20) * 10) / 10,
    buildSeconds: Math.round(secs * 100) / 100,
  } satisfies HeapResult;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [book, n] = process.argv.slice(2);
  const orders = Number(n);
  const res = book === 'peer' ? probePeer(orders) : probeEngine(orders);
  process.stdout.write(`${JSON.stringify(res)}\n`);
}
