/**
 * Property tests of the risk core over random streams of deposits, withdrawals, orders, cancels, mark
 * prices and funding across many accounts. Checked after every command:
 * - per account, the ledger chains (each entry's balanceBefore is the previous balanceAfter) and its
 *   amounts sum to the balance;
 * - money is conserved: balances (insurance fund included) + fees collected + funding dust
 *   = deposits - withdrawals + the signed cost of the open positions (realized PnL is the cash flow
 *   not still tied up in an open position, and cash flows sum to zero across accounts);
 * - no limit order is accepted whose margin plus worst-case fee exceeds what was available before it;
 * - no auto-liquidating account ends a command below its liquidation threshold (an insurance fund
 *   exists, so every position can be absorbed);
 * - two engines fed the same stream agree on every event and on the state hash.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import type { AccountEvent, EngineEvent } from '../../engine/events.js';
import { divRound, parseUnits, UNIT } from '../../engine/numeric.js';
import { toBig } from '../../engine/units.js';
import { ofType } from '../engine/harness.js';
import { openInsuranceFund, riskSetup } from './setup.js';

const TRADERS = 8;
const FUND = TRADERS + 1;

type Op =
  | { k: 'limit'; acct: number; buy: boolean; offset: number; lots: number; lev: number; tif: number }
  | { k: 'market'; acct: number; buy: boolean; lots: number; reduce: boolean }
  | { k: 'cancel'; pick: number }
  | { k: 'cancelAll'; acct: number }
  | { k: 'deposit'; acct: number; amount: number }
  | { k: 'withdraw'; acct: number; amount: number }
  | { k: 'mark'; move: number }
  | { k: 'funding'; rate: number };

const acct = fc.integer({ min: 1, max: TRADERS });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('limit' as const),
      acct,
      buy: fc.boolean(),
      offset: fc.integer({ min: -20, max: 40 }),
      lots: fc.integer({ min: 1, max: 3000 }),
      lev: fc.integer({ min: 1, max: 100 }),
      tif: fc.integer({ min: 0, max: 7 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('market' as const),
      acct,
      buy: fc.boolean(),
      lots: fc.integer({ min: 1, max: 3000 }),
      reduce: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancelAll' as const), acct }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('deposit' as const),
      acct,
      amount: fc.integer({ min: 1, max: 50000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('withdraw' as const),
      acct,
      amount: fc.integer({ min: 1, max: 50000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('mark' as const), move: fc.integer({ min: -100, max: 100 }) }),
  },
  // Occasional jumps of up to 15%, so accounts get margin-called and liquidated.
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('mark' as const), move: fc.integer({ min: -3000, max: 3000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('funding' as const), rate: fc.integer({ min: -300, max: 300 }) }),
  },
);

// Mostly resting orders, so books fill and trades happen.
const TIFS = ['GTC', 'GTC', 'GTC', 'GTC', 'DAY', 'IOC', 'FOK', 'GTC'] as const;

/** 1e-8 units of a decimal string. */
const u = (s: string): bigint => parseUnits(s, true)!;

function run(ops: Op[]): { events: EngineEvent[]; hash: string } {
  const h = riskSetup(Array.from({ length: TRADERS }, () => '3000'));
  expect(openInsuranceFund(h, '1000000')).toBe(FUND);
  let mark = 20000; // in ticks of 0.5: price = mark / 2
  h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: String(mark / 2) });
  const live: number[] = [];
  const latestAccount = new Map<number, AccountEvent>();
  for (const a of ofType(h.log, 'account')) latestAccount.set(a.accountId, a);
  const risk = h.engine.risk!;

  for (const o of ops) {
    let body: CommandBody;
    switch (o.k) {
      case 'limit': {
        const ticks = Math.max(1, mark + (o.buy ? -o.offset : o.offset));
        body = {
          type: 'place_order',
          accountId: o.acct,
          symbol: 'BTC-PERP',
          side: o.buy ? 'BUY' : 'SELL',
          orderType: 'LIMIT',
          timeInForce: TIFS[o.tif],
          price: String(ticks / 2),
          quantity: String(o.lots / 1000),
          leverage: String(o.lev),
        };
        break;
      }
      case 'market':
        body = {
          type: 'place_order',
          accountId: o.acct,
          symbol: 'BTC-PERP',
          side: o.buy ? 'BUY' : 'SELL',
          orderType: 'MARKET',
          timeInForce: 'IOC',
          quantity: String(o.lots / 1000),
          reduceOnly: o.reduce,
        };
        break;
      case 'cancel':
        if (live.length === 0) continue;
        body = { type: 'cancel_order', accountId: 0, orderId: live[o.pick % live.length] } as CommandBody;
        (body as { accountId: number }).accountId = h.engine.order(
          (body as { orderId: number }).orderId,
        )!.accountId;
        break;
      case 'cancelAll':
        body = { type: 'cancel_all', accountId: o.acct };
        break;
      case 'deposit':
        body = { type: 'deposit', accountId: o.acct, amount: String(o.amount) };
        break;
      case 'withdraw':
        body = { type: 'withdraw', accountId: o.acct, amount: String(o.amount) };
        break;
      case 'mark':
        mark = Math.max(2000, mark + o.move);
        body = { type: 'mark_price', symbol: 'BTC-PERP', price: String(mark / 2) };
        break;
      case 'funding':
        body = { type: 'funding', symbol: 'BTC-PERP', rate: (o.rate / 100000).toFixed(5) };
        break;
    }
    const events = h.run(body);

    // No limit order accepted beyond what was available before it.
    if (o.k === 'limit') {
      const placed = ofType(events, 'order').find((e) => e.origin === 'USER' && e.accountId === o.acct);
      if (placed !== undefined && placed.status !== 'REJECTED') {
        const notional = (u(placed.price!) * u(placed.quantity)) / UNIT;
        const required =
          divRound(notional, BigInt(o.lev), 'up') + divRound(notional * u('0.001'), UNIT, 'up');
        expect(required).toBeLessThanOrEqual(u(latestAccount.get(o.acct)!.marginAvailable));
      }
    }
    for (const a of ofType(events, 'account')) latestAccount.set(a.accountId, a);
    for (const e of ofType(events, 'order')) {
      const i = live.indexOf(e.orderId);
      const isLive = e.status === 'NEW' || e.status === 'PARTIALLY_FILLED' || e.status === 'PENDING_TRIGGER';
      if (isLive && i < 0) live.push(e.orderId);
      if (!isLive && i >= 0) live.splice(i, 1);
    }

    // Conservation of money.
    let balances = 0n;
    let openCost = 0n;
    for (const a of risk.accounts.values()) {
      balances += toBig(a.balance);
      for (const p of a.positions.values()) openCost += toBig(p.signedBasis);
    }
    const t = risk.totalsOf('USD');
    expect(balances + toBig(t.fees) + toBig(t.fundingDust)).toBe(
      toBig(t.deposits) - toBig(t.withdrawals) + openCost,
    );

    // Nobody with auto-liquidation stays below the liquidation threshold.
    for (const a of risk.accounts.values()) {
      if (!a.autoLiquidation || a.marginUsed === 0) continue;
      expect(toBig(a.equity()) * UNIT).toBeGreaterThanOrEqual(
        toBig(a.liquidationThreshold) * toBig(a.marginUsed),
      );
    }
  }

  // Ledger chains, per account, and their sums.
  const ledger = ofType(h.log, 'ledger');
  for (const a of risk.accounts.values()) {
    let balance = 0n;
    for (const e of ledger.filter((x) => x.accountId === a.id)) {
      expect(u(e.balanceBefore)).toBe(balance);
      expect(u(e.balanceAfter)).toBe(balance + u(e.amount));
      balance = u(e.balanceAfter);
    }
    expect(balance).toBe(toBig(a.balance));
  }
  return { events: h.log, hash: h.engine.stateHash() };
}

describe('risk core properties', () => {
  test('ledger chains, conservation, margin checks and liquidation hold over random streams', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
        run(ops);
      }),
      { numRuns: 100 },
    );
  });

  test('the same stream gives the same events and state hash', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 300 }), (ops) => {
        const a = run(ops);
        const b = run(ops);
        expect(b.hash).toBe(a.hash);
        expect(b.events).toEqual(a.events);
      }),
      { numRuns: 15 },
    );
  });
});
