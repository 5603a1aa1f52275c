/**
 * The benchmark flow generator: deterministic per seed, close to the requested mix, and honest about the
 * book: every cancel targets an order that is live at that point. The checks replay the flow through a
 * deliberately naive book written here (independent of bench/lib/refbook.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  BENCH_SYMBOL,
  type Flow,
  generateFlow,
  OP_CANCEL,
  OP_LIMIT,
  OP_MARKET,
  tickToDecimal,
  toEngineCommands,
  toPeerOps,
} from '../../bench/flow.js';

interface Resting {
  id: number;
  side: number;
  tick: number;
  lots: number;
  account: number;
}

/** Replays a flow through a naive price-time book; fails on a cancel of a non-live order or a self-trade. */
function replayNaive(flow: Flow): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
  let book: Resting[] = []; // arrival order
  for (let i = 0; i < flow.length; i++) {
    const kind = flow.kind[i];
    if (kind === OP_CANCEL) {
      const id = flow.ref[i];
      const at = book.findIndex((o) => o.id === id);
      expect(at, `op ${i} cancels order ${id}, which is not live`).toBeGreaterThanOrEqual(0);
      expect(book[at].account).toBe(flow.account[i]);
      book.splice(at, 1);
      continue;
    }
    const side = flow.side[i];
    const limit = kind === OP_LIMIT ? flow.priceTick[i] : null;
    let left = flow.lots[i];
    while (left > 0) {
      const opp = book.filter(
        (o) => o.side !== side && (limit === null || (side === 0 ? o.tick <= limit : o.tick >= limit)),
      );
      if (opp.length === 0) break;
      const best = side === 0 ? Math.min(...opp.map((o) => o.tick)) : Math.max(...opp.map((o) => o.tick));
      const maker = opp.find((o) => o.tick === best) as Resting; // first in arrival order: time priority
      expect(maker.account, `op ${i} would trade with its own account`).not.toBe(flow.account[i]);
      const lots = Math.min(left, maker.lots);
      maker.lots -= lots;
      left -= lots;
      book = book.filter((o) => o.lots > 0);
    }
    if (limit !== null && left > 0)
      book.push({ id: flow.ref[i], side, tick: limit, lots: left, account: flow.account[i] });
  }
  const levels = (side: number, desc: boolean) => {
    const m = new Map<number, number>();
    for (const o of book) if (o.side === side) m.set(o.tick, (m.get(o.tick) ?? 0) + o.lots);
    return [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
  };
  return { bids: levels(0, true), asks: levels(1, false) };
}

function fraction(flow: Flow, kind: number): number {
  let n = 0;
  for (let i = 0; i < flow.length; i++) if (flow.kind[i] === kind) n++;
  return n / flow.length;
}

describe('bench flow generator', () => {
  it('is deterministic for a seed, and a shorter flow is a prefix of a longer one', () => {
    const a = generateFlow({ ops: 20_000, seed: 7 });
    const b = generateFlow({ ops: 20_000, seed: 7 });
    for (const col of ['kind', 'side', 'priceTick', 'lots', 'ref', 'account'] as const) {
      expect(Buffer.from(a[col].buffer).equals(Buffer.from(b[col].buffer))).toBe(true);
    }
    expect(a.stats).toEqual(b.stats);
    expect(a.finalDepth).toEqual(b.finalDepth);

    const short = generateFlow({ ops: 5_000, seed: 7 });
    expect([...short.kind]).toEqual([...a.kind.subarray(0, 5_000)]);
    expect([...short.ref]).toEqual([...a.ref.subarray(0, 5_000)]);

    const other = generateFlow({ ops: 20_000, seed: 8 });
    expect(Buffer.from(other.priceTick.buffer).equals(Buffer.from(a.priceTick.buffer))).toBe(false);
  });

  it('respects the requested mix approximately', () => {
    const flow = generateFlow({ ops: 100_000, seed: 1 });
    expect(fraction(flow, OP_LIMIT)).toBeCloseTo(0.6, 1);
    expect(fraction(flow, OP_CANCEL)).toBeCloseTo(0.3, 1);
    expect(fraction(flow, OP_MARKET)).toBeCloseTo(0.1, 1);
    expect(Math.abs(fraction(flow, OP_LIMIT) - 0.6)).toBeLessThan(0.01);
    expect(Math.abs(fraction(flow, OP_CANCEL) - 0.3)).toBeLessThan(0.01);

    const custom = generateFlow({ ops: 100_000, seed: 2, limitPct: 55, cancelPct: 30, marketPct: 15 });
    expect(Math.abs(fraction(custom, OP_LIMIT) - 0.55)).toBeLessThan(0.01);
    expect(Math.abs(fraction(custom, OP_CANCEL) - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(fraction(custom, OP_MARKET) - 0.15)).toBeLessThan(0.01);

    // A cancel drawn on an empty book becomes a limit order, and the stats say how often.
    const draining = generateFlow({ ops: 100_000, seed: 2, limitPct: 40, cancelPct: 30, marketPct: 30 });
    expect(draining.stats.cancelFallbacks).toBeGreaterThan(0);
    expect(draining.stats.limits).toBe(Math.round(fraction(draining, OP_LIMIT) * 100_000));
    expect(Math.abs((draining.stats.cancels + draining.stats.cancelFallbacks) / 100_000 - 0.3)).toBeLessThan(
      0.01,
    );

    expect(() => generateFlow({ ops: 10, limitPct: 60, cancelPct: 30, marketPct: 20 })).toThrow(
      /must be 100/,
    );
  });

  it('keeps limit prices within the spread of the mid', () => {
    for (const placement of ['passive', 'uniform'] as const) {
      const flow = generateFlow({ ops: 20_000, seed: 3, spreadTicks: 50, placement });
      const outside: number[] = [];
      const wrongSide: number[] = [];
      for (let i = 0; i < flow.length; i++) {
        if (flow.kind[i] !== OP_LIMIT) continue;
        const t = flow.priceTick[i];
        if (Math.abs(t - 10_000) > 50) outside.push(i);
        if (placement === 'passive' && (flow.side[i] === 0 ? t > 10_000 : t < 10_000)) wrongSide.push(i);
      }
      expect(outside).toEqual([]);
      expect(wrongSide).toEqual([]);
    }
  });

  it('cancels only live orders, never self-trades, and predicts the final book', () => {
    for (const placement of ['passive', 'uniform'] as const) {
      const flow = generateFlow({ ops: 4_000, seed: 11, accounts: 50, spreadTicks: 5, placement });
      expect(flow.stats.selfTradeRisks).toBe(0);
      expect(flow.stats.cancels).toBeGreaterThan(0);
      expect(flow.stats.fills).toBeGreaterThan(0);
      expect(replayNaive(flow)).toEqual(flow.finalDepth);
    }
  });

  it('renders the same orders for the engine and the peer', () => {
    const flow = generateFlow({ ops: 2_000, seed: 5, accounts: 3 });
    const cmds = toEngineCommands(flow, { accountIds: [101, 102, 103], firstSeq: 10 });
    const peer = toPeerOps(flow);
    const placed = new Set<number>();
    let nextId = 1;
    cmds.forEach((cmd, i) => {
      expect(cmd.seq).toBe(10 + i);
      const op = peer[i];
      if (cmd.type === 'cancel_order') {
        expect(placed.has(cmd.orderId as number)).toBe(true);
        expect(op).toEqual({ kind: OP_CANCEL, id: String(cmd.orderId) });
      } else if (cmd.type === 'place_order') {
        placed.add(nextId);
        expect(cmd.symbol).toBe(BENCH_SYMBOL);
        expect([101, 102, 103]).toContain(cmd.accountId);
        if (cmd.orderType === 'LIMIT') {
          expect(op.kind).toBe(OP_LIMIT);
          if (op.kind === OP_LIMIT) {
            expect(op.opts.id).toBe(String(nextId));
            expect(op.opts.price).toBe(Number(cmd.price));
            expect(op.opts.size).toBe(Number(cmd.quantity));
          }
        } else {
          expect(op.kind).toBe(OP_MARKET);
        }
        nextId++;
      } else {
        throw new Error(`unexpected command ${cmd.type}`);
      }
    });
  });

  it('formats ticks as canonical decimals', () => {
    expect(tickToDecimal(10_000)).toBe('100');
    expect(tickToDecimal(10_050)).toBe('100.5');
    expect(tickToDecimal(10_037)).toBe('100.37');
    expect(tickToDecimal(9_901)).toBe('99.01');
    expect(tickToDecimal(5)).toBe('0.05');
  });
});
