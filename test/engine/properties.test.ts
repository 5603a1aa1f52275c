/**
 * Property-based tests: long random command streams (one instrument, several accounts, every order type,
 * time in force and flag, amends, cancels, cancel-all, session ends) checked after every command by an
 * independent model (checker.ts), and replayed on a second engine (and, from mid-stream, on one restored
 * from a snapshot) that must emit identical events and reach an identical state hash.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { Checker } from './checker.js';
import { BTC } from './harness.js';

const SYMBOL = 'PROP';
const INSTRUMENT = { ...BTC, symbol: SYMBOL, tickSize: '0.5', lotSize: '0.01', minQuantity: '0.01' } as const;
const MID = 200; // ticks: price 100
const ACCOUNTS = 4;

const price = (ticks: number): string => String(ticks / 2); // tick 0.5: halves print exactly
const qty = (lots: number): string => (lots / 100).toFixed(2).replace(/\.?0+$/, '');

/** Commands as generated: order references are resolved against the live orders when the command runs. */
type Abstract =
  | {
      k: 'place';
      account: number;
      side: 'BUY' | 'SELL';
      type: 'LIMIT' | 'MARKET' | 'STOP' | 'STOP_LIMIT';
      tif: 'GTC' | 'IOC' | 'FOK' | 'DAY';
      priceOff: number;
      stopOff: number;
      lots: number;
      postOnly: boolean;
      reduceOnly: boolean;
      coid: string | null;
    }
  | {
      k: 'amend';
      account: number;
      pick: number;
      priceOff: number | null;
      lots: number | null;
      byCoid: boolean;
    }
  | { k: 'cancel'; account: number; pick: number; byCoid: boolean; foreign: boolean }
  | { k: 'cancelAll'; account: number; withSymbol: boolean }
  | { k: 'sessionEnd' }
  | { k: 'garbage'; account: number; which: number };

/** Malformed place_order fields: each must be refused with a single `rejected` event and change nothing. */
const GARBAGE: Record<string, unknown>[] = [
  { price: '1e2' },
  { price: '100.25' }, // off the 0.5 tick
  { price: 100 },
  { price: ' 100' },
  { quantity: '0' },
  { quantity: '0.001' }, // off the 0.01 lot
  { quantity: '-1' },
  { quantity: '01' },
  { side: 'buy' },
  { timeInForce: 'GTD' },
  { symbol: 'NOPE' },
  { orderType: 'MARKET' }, // with a price
  { postOnly: true, timeInForce: 'IOC' },
];

const account = fc.integer({ min: 1, max: ACCOUNTS });
const place: fc.Arbitrary<Abstract> = fc.record({
  k: fc.constant('place' as const),
  account,
  side: fc.constantFrom('BUY' as const, 'SELL' as const),
  type: fc.constantFrom(
    ...(['LIMIT', 'LIMIT', 'LIMIT', 'LIMIT', 'MARKET', 'STOP', 'STOP_LIMIT', 'STOP_LIMIT'] as const),
  ),
  tif: fc.constantFrom(...(['GTC', 'GTC', 'GTC', 'IOC', 'FOK', 'DAY', 'DAY'] as const)),
  priceOff: fc.integer({ min: -8, max: 8 }),
  stopOff: fc.integer({ min: -6, max: 6 }),
  lots: fc.integer({ min: 1, max: 12 }),
  postOnly: fc.boolean(),
  reduceOnly: fc.boolean(),
  coid: fc.option(fc.constantFrom('a', 'b', 'c'), { freq: 2, nil: null }),
});
const amend: fc.Arbitrary<Abstract> = fc.record({
  k: fc.constant('amend' as const),
  account,
  pick: fc.nat(50),
  priceOff: fc.option(fc.integer({ min: -8, max: 8 }), { freq: 2, nil: null }),
  lots: fc.option(fc.integer({ min: 1, max: 14 }), { freq: 4, nil: null }),
  byCoid: fc.boolean(),
});
const cancel: fc.Arbitrary<Abstract> = fc.record({
  k: fc.constant('cancel' as const),
  account,
  pick: fc.nat(50),
  byCoid: fc.boolean(),
  foreign: fc.constant(false),
});
const abstractCommand: fc.Arbitrary<Abstract> = fc.oneof(
  { weight: 60, arbitrary: place },
  { weight: 14, arbitrary: amend },
  { weight: 12, arbitrary: cancel },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('cancel' as const),
      account,
      pick: fc.nat(50),
      byCoid: fc.boolean(),
      foreign: fc.constant(true),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('cancelAll' as const), account, withSymbol: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.constant({ k: 'sessionEnd' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('garbage' as const),
      account,
      which: fc.nat(GARBAGE.length - 1),
    }),
  },
);

/** Turns a generated command into a concrete one against the engine's current live orders. */
function resolve(a: Abstract, engine: Engine): CommandBody {
  switch (a.k) {
    case 'place': {
      const hasLimit = a.type === 'LIMIT' || a.type === 'STOP_LIMIT';
      const hasStop = a.type === 'STOP' || a.type === 'STOP_LIMIT';
      const lastTicks = engine.markets.get(SYMBOL)!.instrument.lastTradeTicks || MID;
      return {
        type: 'place_order',
        accountId: a.account,
        symbol: SYMBOL,
        side: a.side,
        orderType: a.type,
        timeInForce: a.tif,
        quantity: qty(a.lots),
        ...(hasLimit ? { price: price(MID + a.priceOff) } : {}),
        // stops around the last trade price, so that some wait and some trigger at once
        ...(hasStop ? { stopPrice: price(Math.max(1, lastTicks + a.stopOff)) } : {}),
        // post-only only where it is allowed (anything else is an input rejection, tested elsewhere)
        ...(a.postOnly && hasLimit && (a.tif === 'GTC' || a.tif === 'DAY') ? { postOnly: true } : {}),
        ...(a.reduceOnly ? { reduceOnly: true } : {}),
        ...(a.coid === null ? {} : { clientOrderId: a.coid }),
      };
    }
    case 'amend':
    case 'cancel': {
      const owner = a.k === 'cancel' && a.foreign ? (a.account % ACCOUNTS) + 1 : a.account;
      const live = engine.openOrders(owner).sort((x, y) => x.orderId - y.orderId);
      const target = live.length === 0 ? undefined : live[a.pick % live.length];
      const ref =
        target === undefined
          ? { orderId: 1_000_000 }
          : a.byCoid && target.clientOrderId !== null
            ? { clientOrderId: target.clientOrderId }
            : { orderId: target.orderId };
      if (a.k === 'cancel') return { type: 'cancel_order', accountId: a.account, ...ref };
      return {
        type: 'amend_order',
        accountId: a.account,
        ...ref,
        ...(a.priceOff === null ? {} : { price: price(MID + a.priceOff) }),
        ...(a.lots === null ? {} : { quantity: qty(a.lots) }),
      };
    }
    case 'cancelAll':
      return { type: 'cancel_all', accountId: a.account, ...(a.withSymbol ? { symbol: SYMBOL } : {}) };
    case 'sessionEnd':
      return { type: 'session_end' };
    case 'garbage':
      return {
        type: 'place_order',
        accountId: a.account,
        symbol: SYMBOL,
        side: 'BUY',
        orderType: 'LIMIT',
        timeInForce: 'GTC',
        price: '100',
        quantity: '1',
        ...GARBAGE[a.which],
      } as CommandBody;
  }
}

/**
 * Runs a stream on engines in lockstep, checking the first with the model after every command: a second
 * engine fed the same commands from the start, and (from the middle of the stream on) a third restored from
 * a snapshot of the first, must emit identical events and end with the identical state hash.
 */
function runStream(stream: Abstract[], risk = false): Checker {
  const a = new Engine({ risk });
  const b = new Engine({ risk });
  let c: Engine | null = null;
  const checker = new Checker(SYMBOL);
  let ts = 1_700_000_000_000_000;
  const apply = (body: CommandBody): EngineEvent[] => {
    ts += 1000;
    const cmd = { ...body, seq: a.lastSeq + 1, ts } as Command;
    const outA: EngineEvent[] = [];
    const outB: EngineEvent[] = [];
    a.apply(cmd, outA);
    b.apply(structuredClone(cmd), outB);
    expect(outB, `seq ${cmd.seq}: second engine's events`).toEqual(outA);
    if (c !== null) {
      const outC: EngineEvent[] = [];
      c.apply(structuredClone(cmd), outC);
      expect(outC, `seq ${cmd.seq}: restored engine's events`).toEqual(outA);
    }
    checker.check(cmd, outA, a);
    return outA;
  };
  apply(INSTRUMENT);
  if (risk) {
    // funded margin accounts 1..ACCOUNTS (small enough that some orders are refused for margin)
    apply({ type: 'create_user', name: 'prop', email: null });
    for (let i = 1; i <= ACCOUNTS; i++) {
      apply({
        type: 'open_account',
        userId: 1,
        currency: 'USD',
        maxLeverage: '100',
        marginEnabled: true,
        autoLiquidation: true,
      });
      apply({ type: 'deposit', accountId: i, amount: '5000' });
    }
  }
  const half = stream.length >> 1;
  for (let i = 0; i < stream.length; i++) {
    if (i === half) {
      c = restoreEngine(snapshotEngine(a), { risk });
      expect(c.stateHash()).toBe(a.stateHash());
    }
    const x = stream[i];
    const view = (): unknown => {
      const { seq: _seq, ...book } = a.book(SYMBOL, 1_000_000)!;
      const live = [...Array(ACCOUNTS).keys()].map((k) => a.openOrders(k + 1));
      return { book, live, ids: [a.nextOrderId, a.nextTradeId], last: a.lastTradePrice(SYMBOL) };
    };
    const before = x.k === 'garbage' ? view() : null;
    const out = apply(resolve(x, a));
    if (x.k === 'garbage') {
      expect(out.map((e) => e.type)).toEqual(['rejected']);
      expect(view()).toEqual(before);
    }
  }
  expect(b.stateHash()).toBe(a.stateHash());
  if (c !== null) expect(c.stateHash()).toBe(a.stateHash());
  return checker;
}

describe('random command streams', () => {
  test('every invariant holds after every command, and two engines agree', () => {
    const totals = { commands: 0, trades: 0, rests: 0, amendsKept: 0, amendsLost: 0, expired: 0, stp: 0 };
    fc.assert(
      fc.property(fc.array(abstractCommand, { minLength: 200, maxLength: 400 }), (stream) => {
        const s = runStream(stream).stats;
        for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s[k];
      }),
      { numRuns: 100 },
    );
    // The streams exercise what they are meant to: matching, resting, both kinds of amend.
    expect(totals.trades).toBeGreaterThan(1000);
    expect(totals.rests).toBeGreaterThan(1000);
    expect(totals.amendsKept).toBeGreaterThan(50);
    expect(totals.amendsLost).toBeGreaterThan(50);
    expect(totals.expired).toBeGreaterThan(50);
    expect(totals.stp).toBeGreaterThan(50);
  });

  test('a tight book (few prices, many accounts) with long streams', () => {
    const tight = abstractCommand.map((x) =>
      x.k === 'place' ? { ...x, priceOff: x.priceOff % 3, stopOff: x.stopOff % 2 } : x,
    );
    fc.assert(
      fc.property(fc.array(tight, { minLength: 500, maxLength: 1500 }), (stream) => {
        runStream(stream);
      }),
      { numRuns: 12 },
    );
  });

  test('the same with the risk core on: margin refusals and reduce-only clipping keep the invariants', () => {
    fc.assert(
      fc.property(fc.array(abstractCommand, { minLength: 200, maxLength: 400 }), (stream) => {
        runStream(stream, true);
      }),
      { numRuns: 25 },
    );
  });

  test('state hashes agree command by command, and differ when the state differs', () => {
    fc.assert(
      fc.property(fc.array(abstractCommand, { minLength: 50, maxLength: 150 }), (stream) => {
        const a = new Engine({ risk: false });
        const b = new Engine({ risk: false });
        let seq = 0;
        const apply = (e: Engine, body: CommandBody, s: number): void =>
          e.apply({ ...body, seq: s, ts: s } as Command, []);
        seq++;
        apply(a, INSTRUMENT, seq);
        apply(b, INSTRUMENT, seq);
        for (const x of stream) {
          const body = resolve(x, a);
          seq++;
          apply(a, body, seq);
          apply(b, body, seq);
          expect(b.stateHash()).toBe(a.stateHash());
        }
        // one more resting order on one engine only changes its hash
        const extra = {
          type: 'place_order',
          accountId: 1,
          symbol: SYMBOL,
          side: 'BUY',
          orderType: 'LIMIT',
          timeInForce: 'GTC',
          price: '1',
          quantity: '0.01',
        } as const;
        apply(a, extra, seq + 1);
        apply(b, { type: 'session_end' }, seq + 1);
        expect(b.stateHash()).not.toBe(a.stateHash());
      }),
      { numRuns: 40 },
    );
  });
});
