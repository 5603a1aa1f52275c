/**
 * `npm run bench -- core`: a benchmark.js suite of the engine's core operations, one at a time, on a book
 * that already holds resting orders:
 * - add: a resting GTC limit order (buys spread over 50 levels below the mid);
 * - cancel: a resting order, chosen in placement order among many live ones;
 * - match: a limit order that crosses exactly one level (one maker, filled fully);
 * - amend price: a resting order moved to another level (loses time priority);
 * - amend qty down: a resting order's quantity reduced (keeps time priority).
 *
 * benchmark.js decides how many calls make a cycle; the cycle's `setup` (untimed) builds a fresh engine
 * and exactly that many prepared commands, so every timed call does the same work on the same book.
 */
import Benchmark from 'benchmark';
import type { Command } from '../engine/commands.js';
import type { EngineEvent } from '../engine/events.js';
import { BENCH_EPOCH_MICROS, BENCH_SYMBOL, MID_TICK, tickToDecimal } from './flow.js';
import { Flags } from './lib/args.js';
import { openSession, type Session, step } from './lib/engine-session.js';
import { status } from './lib/progress.js';

// Benchmark.js otherwise recompiles fn/setup from their source text, which loses closures.
Benchmark.support.decompilation = false;

const BASE_ORDERS_DEFAULT = 10_000;

type Prepared = { session: Session; cmds: Command[] };

interface OpSpec {
  name: string;
  what: string;
  /** Builds a fresh engine and `count` commands, each doing one operation. */
  prepare(count: number, baseOrders: number): Prepared;
  /** Checks one command's events: the timed call must do what the name says (null when it does). */
  check(out: readonly EngineEvent[]): string | null;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const flags = new Flags(args);
  const maxTime = flags.num('max-time', 5);
  const baseOrders = flags.int('base-orders', BASE_ORDERS_DEFAULT, 0);
  const only = flags.str('only', '');
  flags.done();

  const specs = OPS.filter((o) => only === '' || only.split(',').includes(o.name));
  if (specs.length === 0)
    throw new Error(`--only matches no operation; operations: ${OPS.map((o) => o.name).join(', ')}`);
  const results: Record<string, unknown> = {};
  for (const spec of specs) {
    verify(spec, baseOrders);
    status(`core: ${spec.name} (${spec.what}), up to ${maxTime} s`);
    results[spec.name] = await measure(spec, maxTime, baseOrders);
  }
  return {
    workload:
      `benchmark.js (max ${maxTime} s per operation); one engine (risk off), ${BENCH_SYMBOL} with ` +
      `${baseOrders.toLocaleString('en-US')} resting orders on both sides before each cycle; ` +
      specs.map((s) => `${s.name}: ${s.what}`).join('; '),
    ...Object.fromEntries(
      Object.entries(results).map(([k, v]) => [
        `${camel(k)}OpsPerSec`,
        (v as { opsPerSec: number }).opsPerSec,
      ]),
    ),
    operations: results,
  };
}

/** Runs a small prepared set untimed and checks every command's events. */
function verify(spec: OpSpec, baseOrders: number): void {
  const { session, cmds } = spec.prepare(200, baseOrders);
  for (const cmd of cmds) {
    session.out.length = 0;
    session.engine.apply(cmd, session.out);
    const problem = spec.check(session.out);
    if (problem) throw new Error(`core ${spec.name}: the operation does not do what it should: ${problem}`);
  }
}

const orderStatus = (out: readonly EngineEvent[]) =>
  out.filter((e) => e.type === 'order').map((e) => e.status);
const trades = (out: readonly EngineEvent[]) => out.filter((e) => e.type === 'trade').length;
const refused = (out: readonly EngineEvent[]) =>
  out.some((e) => e.type === 'rejected' || (e.type === 'order' && e.status === 'REJECTED'));

function measure(
  spec: OpSpec,
  maxTime: number,
  baseOrders: number,
): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    let prepared: Prepared | null = null;
    let i = 0;
    const bench = new Benchmark(spec.name, {
      maxTime,
      setup(this: Benchmark) {
        prepared = spec.prepare(this.count, baseOrders);
        i = 0;
      },
      fn() {
        const p = prepared as Prepared;
        step(p.session, p.cmds[i++]);
      },
      teardown() {
        prepared = null;
      },
      onError(event: { target: { error?: unknown } }) {
        reject(
          event.target.error instanceof Error ? event.target.error : new Error(String(event.target.error)),
        );
      },
      onComplete(this: Benchmark) {
        if (this.error) return;
        const s = this.stats;
        resolve({
          opsPerSec: Math.round(this.hz),
          rmePct: Math.round(s.rme * 100) / 100,
          meanNs: Math.round(s.mean * 1e9),
          samples: s.sample.length,
          summary: String(this),
        });
      },
    });
    bench.run({ async: false });
  });
}

// ---- operations ----------------------------------------------------------------------------------------

/** A fresh engine with `base` resting orders: bids below the mid, asks above, over 50 levels a side. */
function baseBook(base: number): { session: Session; seq: number; ids: number[] } {
  const session = openSession({ risk: false, accounts: 1000, deposit: '0', leverage: '1' });
  let seq = session.firstSeq;
  const ids: number[] = [];
  for (let k = 0; k < base; k++) {
    const buy = (k & 1) === 0;
    const level = 1 + ((k >> 1) % 50);
    ids.push(
      place(session, seq++, buy, buy ? MID_TICK - level : MID_TICK + level, 1 + (k % 5), 1 + (k % 1000)),
    );
  }
  return { session, seq, ids };
}

function limitCmd(seq: number, buy: boolean, tick: number, lots: number, accountId: number): Command {
  return {
    type: 'place_order',
    accountId,
    symbol: BENCH_SYMBOL,
    side: buy ? 'BUY' : 'SELL',
    orderType: 'LIMIT',
    timeInForce: 'GTC',
    quantity: String(lots),
    price: tickToDecimal(tick),
    seq,
    ts: BENCH_EPOCH_MICROS + seq,
  };
}

/** Places a limit order during setup and returns the engine's id for it. */
function place(s: Session, seq: number, buy: boolean, tick: number, lots: number, accountId: number): number {
  s.out.length = 0;
  s.engine.apply(limitCmd(seq, buy, tick, lots, accountId), s.out);
  for (const e of s.out) if (e.type === 'order' && e.status !== 'REJECTED') return e.orderId;
  throw new Error(`setup order refused: ${JSON.stringify(s.out)}`);
}

const OPS: OpSpec[] = [
  {
    name: 'add',
    what: 'a resting limit buy, 1 of 50 levels below the mid',
    prepare(count, base) {
      const { session, seq } = baseBook(base);
      const cmds: Command[] = [];
      for (let k = 0; k < count; k++)
        cmds.push(limitCmd(seq + k, true, MID_TICK - 1 - (k % 50), 1 + (k % 5), 1 + (k % 1000)));
      return { session, cmds };
    },
    check: (out) => (orderStatus(out).join() === 'NEW' && trades(out) === 0 ? null : JSON.stringify(out)),
  },
  {
    name: 'cancel',
    what: 'a resting order among base + count live orders',
    prepare(count, base) {
      const b = baseBook(base);
      const targets: Array<[number, number]> = [];
      for (let k = 0; k < count; k++) {
        const account = 1 + (k % 1000);
        targets.push([
          place(b.session, b.seq++, true, MID_TICK - 1 - (k % 50), 1 + (k % 5), account),
          account,
        ]);
      }
      const cmds: Command[] = targets.map(([orderId, accountId], k) => ({
        type: 'cancel_order',
        accountId,
        orderId,
        seq: b.seq + k,
        ts: BENCH_EPOCH_MICROS + b.seq + k,
      }));
      return { session: b.session, cmds };
    },
    check: (out) => (orderStatus(out).join() === 'CANCELLED' ? null : JSON.stringify(out)),
  },
  {
    name: 'match',
    what: 'a limit buy that fills the single maker of the best ask level, taking the level out',
    prepare(count, base) {
      const b = baseBook(base);
      // One maker per level above the base book's asks, placed from the far end inwards (each new one is
      // the new best), so the takers below remove levels from the top of the book one by one.
      const first = MID_TICK + 51;
      for (let k = count - 1; k >= 0; k--) place(b.session, b.seq++, false, first + k, 5, 1 + (k % 1000));
      // The base book's asks (ticks mid+1..mid+50) sit in front: clear them with one sweep before timing.
      const sweep = limitCmd(b.seq++, true, MID_TICK + 50, 1_000_000, 1001);
      b.session.out.length = 0;
      b.session.engine.apply({ ...sweep, timeInForce: 'IOC' } as Command, b.session.out);
      const cmds: Command[] = [];
      for (let k = 0; k < count; k++) cmds.push(limitCmd(b.seq + k, true, first + k, 5, 1001 + (k % 1000)));
      return { session: b.session, cmds };
    },
    check: (out) =>
      trades(out) === 1 && orderStatus(out).every((st) => st === 'FILLED') ? null : JSON.stringify(out),
  },
  {
    name: 'amend-price',
    what: 'a resting buy moved one level down (loses time priority)',
    prepare(count, base) {
      return amendPrepared(count, base, (k) => ({ price: tickToDecimal(MID_TICK - 2 - (k % 50)) }));
    },
    check: (out) => (!refused(out) && orderStatus(out).join() === 'NEW' ? null : JSON.stringify(out)),
  },
  {
    name: 'amend-qty-down',
    what: "a resting buy's quantity reduced from 10 to 5 lots (keeps time priority)",
    prepare(count, base) {
      return amendPrepared(count, base, () => ({ quantity: '5' }));
    },
    check: (out) => (!refused(out) && orderStatus(out).join() === 'NEW' ? null : JSON.stringify(out)),
  },
];

function amendPrepared(
  count: number,
  base: number,
  change: (k: number) => { price?: string; quantity?: string },
): Prepared {
  const b = baseBook(base);
  const targets: Array<[number, number]> = [];
  for (let k = 0; k < count; k++) {
    const account = 1 + (k % 1000);
    targets.push([place(b.session, b.seq++, true, MID_TICK - 1 - (k % 50), 10, account), account]);
  }
  const cmds: Command[] = targets.map(([orderId, accountId], k) => ({
    type: 'amend_order',
    accountId,
    orderId,
    ...change(k),
    seq: b.seq + k,
    ts: BENCH_EPOCH_MICROS + b.seq + k,
  }));
  return { session: b.session, cmds };
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
