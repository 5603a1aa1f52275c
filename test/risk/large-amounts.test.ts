/**
 * Exactness of the risk core for amounts at and beyond 2^53 units of 1e-8, i.e. above 90,071,992.54740991
 * in currency units, up to the NUMERIC(20,8) limit 999,999,999,999.99999999.
 *
 * A double holds every integer only up to 2^53 = 9,007,199,254,740,992; above it the spacing is 2 (then 4,
 * 8, ...), so 5e16 + 1 units, or 2^53 + 1 units, are not representable as a JavaScript number. Amounts stored
 * as numbers while they are safe integers must fall back to bigint beyond, and every string below pins that
 * the fallback is exact to the last 1e-8.
 *
 * Every expected value is worked by hand in the comments (rounding rules: engine/risk/money.ts); none is
 * read back from the engine. Ledger sums and chains are checked with BigInt arithmetic done here, on a
 * parser of our own (`units`), separate from the engine's.
 */
import { describe, expect, test } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { type Harness, ofType } from '../engine/harness.js';
import { lastAccount, lastPosition, ledgerOf, openInsuranceFund, riskSetup } from './setup.js';

/** 2^53 - 1 units: the largest amount a JavaScript number holds exactly (90,071,992.54740991). */
const MAX_SAFE_UNITS = 9_007_199_254_740_991n;

/** A decimal string as a bigint count of 1e-8 units, for the test's own arithmetic (not the engine's parser). */
function units(s: string): bigint {
  const negative = s.startsWith('-');
  const [int, frac = ''] = (negative ? s.slice(1) : s).split('.');
  const u = BigInt(int) * 100_000_000n + BigInt(frac.padEnd(8, '0'));
  return negative ? -u : u;
}

const rejection = (events: EngineEvent[]) =>
  ofType(events, 'order')[0]?.rejectionReason ?? ofType(events, 'rejected')[0]?.reason;

/**
 * Every ledger entry of an account chains (before = the previous after, starting at 0; before + amount =
 * after, in BigInt) and the amounts sum to the account's balance. Returns that sum.
 */
function checkLedger(h: Harness, accountId: number): bigint {
  let balance = 0n;
  for (const e of ledgerOf(h, accountId)) {
    expect(units(e.balanceBefore), `entry ${e.entryId} before`).toBe(balance);
    balance += units(e.amount);
    expect(units(e.balanceAfter), `entry ${e.entryId} after`).toBe(balance);
  }
  expect(units(lastAccount(h, accountId).balance)).toBe(balance);
  return balance;
}

/**
 * BIG-PERP: tick 0.01 and lot 0.001, so one tick times one lot is 0.00001 = 1000 units and a trade's
 * notional in units is ticks * lots * 1000. Fee rates chosen so products with notionals leave fractions of
 * 1e-8: taker 0.00070001 (charged, rounds up), maker -0.00012345 (a rebate, rounds down toward zero).
 */
const BIG_PERP = {
  type: 'create_instrument',
  symbol: 'BIG-PERP',
  kind: 'PERPETUAL',
  baseCurrency: 'BIG',
  quoteCurrency: 'USD',
  tickSize: '0.01',
  lotSize: '0.001',
  minQuantity: '0.001',
  maxQuantity: '1000000',
  maxLeverage: '100',
  makerFeeRate: '-0.00012345',
  takerFeeRate: '0.00070001',
  fundingIntervalSeconds: 28800,
} as const satisfies CommandBody;

/** ODD-PERP: as BIG-PERP but the maker pays too: maker 0.00020003, taker 0.00070001 (both round up). */
const ODD_PERP = {
  ...BIG_PERP,
  symbol: 'ODD-PERP',
  baseCurrency: 'ODD',
  makerFeeRate: '0.00020003',
} as const satisfies CommandBody;

const big = { symbol: 'BIG-PERP' };
const odd = { symbol: 'ODD-PERP' };

describe('deposits and withdrawals beyond 2^53 units', () => {
  test('balances and ledger chains stay exact past 2^53, up to the NUMERIC(20,8) limit', () => {
    const h = riskSetup(['0', '0']); // accounts 1 and 2, empty

    // 500,000,000 = 5e16 units, beyond 2^53 (~9.007e15)
    const d1 = h.run({ type: 'deposit', accountId: 1, amount: '500000000' });
    expect(ofType(d1, 'ledger')).toEqual([
      expect.objectContaining({
        entryType: 'DEPOSIT',
        amount: '500000000',
        balanceBefore: '0',
        balanceAfter: '500000000',
      }),
    ]);
    // 5e16 + 1 units: as a double it would be 5e16 (spacing 8 there), printed "500000000"
    const d2 = h.run({ type: 'deposit', accountId: 1, amount: '0.00000001' });
    expect(ofType(d2, 'ledger')[0]).toMatchObject({
      amount: '0.00000001',
      balanceBefore: '500000000',
      balanceAfter: '500000000.00000001',
    });
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '500000000.00000001',
      equity: '500000000.00000001',
      marginAvailable: '500000000.00000001',
      marginUsed: '0',
      orderMargin: '0',
    });

    // one unit more than the balance: 5e16 + 2 > 5e16 + 1 (as doubles both are 5e16, and it would pass)
    const over = h.run({ type: 'withdraw', accountId: 1, amount: '500000000.00000002' });
    expect(rejection(over)).toBe('WITHDRAWAL_EXCEEDS_AVAILABLE');
    expect(ofType(over, 'ledger')).toEqual([]);

    // 500000000.00000001 - 123456789.87654321 = 376543210.12345680 (trailing zero dropped)
    const w1 = h.run({ type: 'withdraw', accountId: 1, amount: '123456789.87654321' });
    expect(ofType(w1, 'ledger')[0]).toMatchObject({
      entryType: 'WITHDRAWAL',
      amount: '-123456789.87654321',
      balanceBefore: '500000000.00000001',
      balanceAfter: '376543210.1234568',
    });
    // down to exactly 2^53 - 1 units: 376543210.1234568 - 286471217.57604689 = 90071992.54740991
    const w2 = h.run({ type: 'withdraw', accountId: 1, amount: '286471217.57604689' });
    expect(ofType(w2, 'ledger')[0]).toMatchObject({
      amount: '-286471217.57604689',
      balanceAfter: '90071992.54740991',
    });
    // one unit at a time across the boundary: 2^53 units, then 2^53 + 1 (the first integer a double lacks)
    h.run({ type: 'deposit', accountId: 1, amount: '0.00000001' });
    expect(lastAccount(h, 1).balance).toBe('90071992.54740992');
    const up = h.run({ type: 'deposit', accountId: 1, amount: '0.00000001' });
    expect(ofType(up, 'ledger')[0]).toMatchObject({
      balanceBefore: '90071992.54740992',
      balanceAfter: '90071992.54740993',
    });
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '90071992.54740993',
      equity: '90071992.54740993',
      marginAvailable: '90071992.54740993',
    });
    // and back below it in one step: 90071992.54740993 - 0.00000002 = 90071992.54740991
    const down = h.run({ type: 'withdraw', accountId: 1, amount: '0.00000002' });
    expect(ofType(down, 'ledger')[0]).toMatchObject({
      amount: '-0.00000002',
      balanceBefore: '90071992.54740993',
      balanceAfter: '90071992.54740991',
    });

    // to the limit exactly: 999999999999.99999999 - 90071992.54740991 = 999909928007.45259008
    const top = h.run({ type: 'deposit', accountId: 1, amount: '999909928007.45259008' });
    expect(ofType(top, 'ledger')[0]).toMatchObject({
      balanceBefore: '90071992.54740991',
      balanceAfter: '999999999999.99999999',
    });
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '999999999999.99999999',
      marginAvailable: '999999999999.99999999',
    });
    // one unit more would not fit NUMERIC(20,8): refused, nothing booked, the balance unchanged
    const past = h.run({ type: 'deposit', accountId: 1, amount: '0.00000001' });
    expect(rejection(past)).toBe('INVALID_AMOUNT');
    expect(ofType(past, 'ledger')).toEqual([]);
    expect(ofType(past, 'account')).toEqual([]);
    expect(lastAccount(h, 1).balance).toBe('999999999999.99999999');
    // 1.5e-8 is not a decimal of 8 places, and the balance is still exact
    expect(rejection(h.run({ type: 'deposit', accountId: 1, amount: '0.000000015' }))).toBe('INVALID_AMOUNT');
    // the whole balance can be withdrawn, to the unit
    const all = h.run({ type: 'withdraw', accountId: 1, amount: '999999999999.99999999' });
    expect(ofType(all, 'ledger')[0]).toMatchObject({
      amount: '-999999999999.99999999',
      balanceBefore: '999999999999.99999999',
      balanceAfter: '0',
    });

    // account 2: the limit in a single deposit; then neither one unit nor 10^12 (13 integer digits) more
    h.run({ type: 'deposit', accountId: 2, amount: '999999999999.99999999' });
    expect(lastAccount(h, 2).balance).toBe('999999999999.99999999');
    expect(rejection(h.run({ type: 'deposit', accountId: 2, amount: '0.00000001' }))).toBe('INVALID_AMOUNT');
    expect(rejection(h.run({ type: 'deposit', accountId: 2, amount: '1000000000000' }))).toBe(
      'INVALID_AMOUNT',
    );
    // one unit short of everything: 999999999999.99999999 - 999999999999.99999998 = 0.00000001
    h.run({ type: 'withdraw', accountId: 2, amount: '999999999999.99999998' });
    expect(lastAccount(h, 2)).toMatchObject({ balance: '0.00000001', marginAvailable: '0.00000001' });

    // account 1: 500000000 + 0.00000001 - 123456789.87654321 - 286471217.57604689 + 0.00000001 + 0.00000001
    //   - 0.00000002 + 999909928007.45259008 - 999999999999.99999999 = 0
    // account 2: 999999999999.99999999 - 999999999999.99999998 = 0.00000001 = 1 unit
    expect(checkLedger(h, 1)).toBe(0n);
    expect(checkLedger(h, 2)).toBe(1n);
  });
});

/**
 * Accounts (USD, margin, max 100x):
 *   1: 123,456,789,012.34567891  the taker, long
 *   2: 500,000,000,000           maker, sells 99,999.999 at 2,718,281.83 at 7x
 *   3: 400,000,000,000.5         maker, sells 23,456.789 at 2,718,281.87 at 10x
 *   4: 600,000,000,000           maker of the partial close: bids 50,000.001 at 2,800,000.01 at 10x
 *
 * Account 1 buys 123,456.788 (99,999.999 + 23,456.789) at 2,718,281.87 at 10x and sweeps both asks:
 *   N1 = 2,718,281.83 * 99,999.999 = 271828183 ticks * 99999999 lots * 1000 = 27,182,818,028,171,817,000 units
 *      = 271,828,180,281.71817
 *   N2 = 2,718,281.87 * 23,456.789 = 271828187 * 23456789 * 1000 = 6,376,216,426,711,543,000 units
 *      = 63,762,164,267.11543
 * both far beyond 2^53 units.
 */
function openBig(): Harness {
  const h = riskSetup(['123456789012.34567891', '500000000000', '400000000000.5', '600000000000']);
  h.run(BIG_PERP);
  h.limit(2, 'SELL', '2718281.83', '99999.999', { ...big, leverage: '7' });
  h.limit(3, 'SELL', '2718281.87', '23456.789', { ...big, leverage: '10' });
  return h;
}

describe('a trade with a notional beyond 2^53 units', () => {
  test('margin, fees, entry price, account and ledger: exact', () => {
    const h = openBig();
    // Account 2's resting sell holds its initial margin at 7x plus the worst-case (taker) fee:
    //   N1 / 7 = 38,832,597,183.102595714... -> up -> 38,832,597,183.10259572
    //   N1 * 0.00070001 = 190,282,444.4790055361817 -> up -> 190,282,444.47900554
    //   38,832,597,183.10259572 + 190,282,444.47900554 = 39,022,879,627.58160126
    expect(lastAccount(h, 2)).toMatchObject({
      orderMargin: '39022879627.58160126',
      marginAvailable: '460977120372.41839874', // 500,000,000,000 - 39,022,879,627.58160126
    });

    const buy = h.limit(1, 'BUY', '2718281.87', '123456.788', { ...big, leverage: '10' });
    const trades = ofType(buy, 'trade');
    // taker fees (charged: up):
    //   N1 * 0.00070001 = 190,282,444.4790055361817  -> 190,282,444.47900554
    //   N2 * 0.00070001 =  44,634,152.6086234721543  ->  44,634,152.60862348
    // maker rebates (rate < 0: down, toward zero):
    //   N1 * -0.00012345 = -33,557,188.8557781080865 -> -33,557,188.8557781(0)
    //   N2 * -0.00012345 =  -7,871,439.1787753998335 ->  -7,871,439.17877539
    expect(
      trades.map((t) => [t.price, t.quantity, t.makerAccountId, t.makerFee, t.takerFee, t.takerRealizedPnl]),
    ).toEqual([
      ['2718281.83', '99999.999', 2, '-33557188.8557781', '190282444.47900554', '0'],
      ['2718281.87', '23456.789', 3, '-7871439.17877539', '44634152.60862348', '0'],
    ]);
    // The taker order: filled notional N1 + N2 = 335,590,344,548.8336 (33,559,034,454,883,360,000 units);
    // average price = 335,590,344,548.8336 / 123,456.788 = 2,718,281.8375999997667... -> half-even
    // at 8 places -> 2,718,281.8376
    const order = ofType(buy, 'order').find((o) => o.accountId === 1)!;
    expect(order).toMatchObject({
      status: 'FILLED',
      filledQuantity: '123456.788',
      filledNotional: '335590344548.8336',
      averagePrice: '2718281.8376',
    });

    // Position of account 1: basis N1 + N2 = 335,590,344,548.8336 over 123,456.788 (123,456,788 lots)
    expect(lastPosition(h, 1)).toMatchObject({
      side: 'LONG',
      quantity: '123456.788',
      // 335,590,344,548.8336 / 123,456.788 = 2,718,281.83759999976671... -> half-even -> 2,718,281.8376
      entryPrice: '2718281.8376',
      leverage: '10',
      // N1 / 10 + N2 / 10 = 27,182,818,028.171817 + 6,376,216,426.711543 = 33,559,034,454.88336 (exact)
      margin: '33559034454.88336',
      volume: '335590344548.8336',
      // 190,282,444.47900554 + 44,634,152.60862348 = 234,916,597.08762902
      fees: '234916597.08762902',
      tradeCount: 2,
      unrealizedPnl: '0',
    });
    // Account 1's ledger: 123,456,789,012.34567891 - 190,282,444.47900554 = 123,266,506,567.86667337
    //                                               -  44,634,152.60862348 = 123,221,872,415.25804989
    const [t1, t2] = trades;
    expect(
      ledgerOf(h, 1).map((e) => [e.entryType, e.amount, e.balanceBefore, e.balanceAfter, e.tradeId]),
    ).toEqual([
      ['DEPOSIT', '123456789012.34567891', '0', '123456789012.34567891', null],
      ['FEE', '-190282444.47900554', '123456789012.34567891', '123266506567.86667337', t1.tradeId],
      ['FEE', '-44634152.60862348', '123266506567.86667337', '123221872415.25804989', t2.tradeId],
    ]);
    // no mark yet: equity = balance; margin available = balance - margin used
    //   123,221,872,415.25804989 - 33,559,034,454.88336 = 89,662,837,960.37468989
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '123221872415.25804989',
      equity: '123221872415.25804989',
      marginUsed: '33559034454.88336',
      orderMargin: '0',
      marginAvailable: '89662837960.37468989',
      unrealizedPnl: '0',
    });

    // Account 2 (short 99,999.999 at 7x): rebate credited 500,000,000,000 + 33,557,188.8557781
    //   = 500,033,557,188.8557781; margin N1 / 7 rounded up = 38,832,597,183.10259572; order margin released;
    //   available 500,033,557,188.8557781 - 38,832,597,183.10259572 = 461,200,960,005.75318238
    expect(ledgerOf(h, 2).at(-1)).toMatchObject({
      entryType: 'FEE',
      amount: '33557188.8557781',
      balanceBefore: '500000000000',
      balanceAfter: '500033557188.8557781',
      tradeId: t1.tradeId,
    });
    expect(lastPosition(h, 2)).toMatchObject({
      side: 'SHORT',
      quantity: '99999.999',
      entryPrice: '2718281.83',
      leverage: '7',
      margin: '38832597183.10259572',
      fees: '-33557188.8557781',
    });
    expect(lastAccount(h, 2)).toMatchObject({
      balance: '500033557188.8557781',
      marginUsed: '38832597183.10259572',
      orderMargin: '0',
      marginAvailable: '461200960005.75318238',
    });
    // Account 3 (short 23,456.789 at 10x): 400,000,000,000.5 + 7,871,439.17877539 = 400,007,871,439.67877539;
    //   margin N2 / 10 = 6,376,216,426.711543; available 393,631,655,012.96723239
    expect(ledgerOf(h, 3).at(-1)).toMatchObject({
      amount: '7871439.17877539',
      balanceBefore: '400000000000.5',
      balanceAfter: '400007871439.67877539',
    });
    expect(lastAccount(h, 3)).toMatchObject({
      balance: '400007871439.67877539',
      marginUsed: '6376216426.711543',
      orderMargin: '0',
      marginAvailable: '393631655012.96723239',
    });
    for (const id of [1, 2, 3]) checkLedger(h, id);
  });
});

describe('reducing, revaluing and funding a position beyond 2^53 units', () => {
  test('partial close, mark revaluation and funding: exact', () => {
    const h = openBig();
    h.limit(1, 'BUY', '2718281.87', '123456.788', { ...big, leverage: '10' });
    // After the open (previous test): account 1 long 123,456.788, basis B = 335,590,344,548.8336,
    // margin M = 33,559,034,454.88336, balance 123,221,872,415.25804989.

    // Account 4 bids 50,000.001 at 2,800,000.01 at 10x; account 1 sells 50,000.001 at market, reduce-only.
    //   N3 = 280000001 ticks * 50000001 lots * 1000 = 14,000,000,330,000,001,000 units = 140,000,003,300.00001
    //   reservation of the bid: N3 / 10 = 14,000,000,330.000001 (exact) + fee N3 * 0.00070001
    //   = 98,001,402.3100330070001 -> up -> 98,001,402.31003301; together 14,098,001,732.31003401
    h.limit(4, 'BUY', '2800000.01', '50000.001', { ...big, leverage: '10' });
    expect(lastAccount(h, 4).orderMargin).toBe('14098001732.31003401');
    const close = h.market(1, 'SELL', '50000.001', { ...big, reduceOnly: true });
    // cost released (half-even): B * 50,000,001 / 123,456,788 = 135,914,094,598.281825935999... -> .28182594
    // realized PnL = N3 - released = 140,000,003,300.00001 - 135,914,094,598.28182594 = 4,085,908,701.71818406
    // taker fee (up) 98,001,402.31003301; maker rebate N3 * -0.00012345 = -17,283,000.4073850012345 -> down
    //   (toward zero) -> -17,283,000.407385
    expect(ofType(close, 'trade')).toEqual([
      expect.objectContaining({
        price: '2800000.01',
        quantity: '50000.001',
        takerAccountId: 1,
        makerAccountId: 4,
        takerFee: '98001402.31003301',
        makerFee: '-17283000.407385',
        takerRealizedPnl: '4085908701.71818406',
        makerRealizedPnl: '0',
      }),
    ]);
    // ledger: 123,221,872,415.25804989 - 98,001,402.31003301 = 123,123,871,012.94801688
    //                                  + 4,085,908,701.71818406 = 127,209,779,714.66620094
    expect(
      ledgerOf(h, 1)
        .slice(-2)
        .map((e) => [e.entryType, e.amount, e.balanceBefore, e.balanceAfter]),
    ).toEqual([
      ['FEE', '-98001402.31003301', '123221872415.25804989', '123123871012.94801688'],
      ['PNL', '4085908701.71818406', '123123871012.94801688', '127209779714.66620094'],
    ]);
    // margin released (down): M * 50,000,001 / 123,456,788 = 13,591,409,459.8281825935999... -> .82818259
    //   left: 33,559,034,454.88336 - 13,591,409,459.82818259 = 19,967,624,995.05517741
    // basis left: 335,590,344,548.8336 - 135,914,094,598.28182594 = 199,676,249,950.55177406 over 73,456.787
    //   entry = 2,718,281.8375999997666... -> half-even -> 2,718,281.8376
    expect(lastPosition(h, 1)).toMatchObject({
      side: 'LONG',
      quantity: '73456.787',
      entryPrice: '2718281.8376',
      margin: '19967624995.05517741',
      realizedPnl: '4085908701.71818406',
      // 234,916,597.08762902 + 98,001,402.31003301 = 332,917,999.39766203
      fees: '332917999.39766203',
      // 335,590,344,548.8336 + 140,000,003,300.00001 = 475,590,347,848.83361
      volume: '475590347848.83361',
      tradeCount: 3,
    });
    // available: 127,209,779,714.66620094 - 19,967,624,995.05517741 = 107,242,154,719.61102353
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '127209779714.66620094',
      marginUsed: '19967624995.05517741',
      orderMargin: '0',
      realizedPnl: '4085908701.71818406',
      marginAvailable: '107242154719.61102353',
    });
    // account 4: 600,000,000,000 + 17,283,000.407385 = 600,017,283,000.407385, margin N3 / 10
    expect(lastAccount(h, 4)).toMatchObject({
      balance: '600017283000.407385',
      marginUsed: '14000000330.000001',
      orderMargin: '0',
      marginAvailable: '586017282670.407384',
    });

    // Mark 3,141,592.65. Value at mark = 3,141,592.65 * quantity (exact: 2 + 3 decimals).
    //   1 long 73,456.787:   230,771,302,131.81555 - 199,676,249,950.55177406 = +31,095,052,181.26377594
    //   2 short 99,999.999:  271,828,180,281.71817 - 314,159,261,858.40735    = -42,331,081,576.68918
    //   3 short 23,456.789:   63,762,164,267.11543 -  73,691,675,915.00085    =  -9,929,511,647.88542
    //   4 long 50,000.001:   157,079,635,641.59265 - 140,000,003,300.00001    = +17,079,632,341.59264
    const mark = h.run({ type: 'mark_price', symbol: 'BIG-PERP', price: '3141592.65' });
    expect(ofType(mark, 'margin_call')).toEqual([]);
    expect(ofType(mark, 'liquidation')).toEqual([]);
    const upnl = (id: number) => ofType(mark, 'position').find((p) => p.accountId === id)!.unrealizedPnl;
    expect([1, 2, 3, 4].map(upnl)).toEqual([
      '31095052181.26377594',
      '-42331081576.68918',
      '-9929511647.88542',
      '17079632341.59264',
    ]);
    expect(lastPosition(h, 1)).toMatchObject({
      markPrice: '3141592.65',
      unrealizedPnl: '31095052181.26377594',
    });
    // 1: equity 127,209,779,714.66620094 + 31,095,052,181.26377594 = 158,304,831,895.92997688; a gain does
    //    not add to what is available (min(balance, equity) = balance): still 107,242,154,719.61102353
    expect(lastAccount(h, 1)).toMatchObject({
      equity: '158304831895.92997688',
      unrealizedPnl: '31095052181.26377594',
      marginAvailable: '107242154719.61102353',
    });
    // 2: equity 500,033,557,188.8557781 - 42,331,081,576.68918 = 457,702,475,612.1665981; a loss does:
    //    457,702,475,612.1665981 - 38,832,597,183.10259572 = 418,869,878,429.06400238
    expect(lastAccount(h, 2)).toMatchObject({
      balance: '500033557188.8557781',
      equity: '457702475612.1665981',
      unrealizedPnl: '-42331081576.68918',
      marginAvailable: '418869878429.06400238',
    });
    // 4: 600,017,283,000.407385 + 17,079,632,341.59264 = 617,096,915,342.000025
    expect(lastAccount(h, 4)).toMatchObject({ equity: '617096915342.000025' });

    // An insurance fund (account 5) to take the funding dust, then funding at +0.00012347: longs pay.
    expect(openInsuranceFund(h, '1000')).toBe(5);
    // notional at mark * 0.00012347:
    //   1 pays     230,771,302,131.81555 * r = 28,493,332.6742152659585 -> up   -> -28,493,332.67421527
    //   2 receives 314,159,261,858.40735 * r = 38,789,244.0616575555045 -> down -> +38,789,244.06165755
    //   3 receives  73,691,675,915.00085 * r =  9,098,711.2252251549495 -> down ->  +9,098,711.22522515
    //   4 pays     157,079,635,641.59265 * r = 19,394,622.6126674444955 -> up   -> -19,394,622.61266745
    // net -0.00000002 (payers paid 2 units more than receivers got): the fund books +0.00000002
    const funding = h.run({ type: 'funding', symbol: 'BIG-PERP', rate: '0.00012347' });
    expect(ofType(funding, 'funding')[0]).toMatchObject({ rate: '0.00012347', markPrice: '3141592.65' });
    // (sorted by account: the order of the entries is not what this test is about)
    const booked = ofType(funding, 'ledger').sort((a, b) => a.accountId - b.accountId);
    expect(booked.map((e) => [e.accountId, e.entryType, e.amount, e.balanceAfter])).toEqual([
      // 127,209,779,714.66620094 - 28,493,332.67421527 = 127,181,286,381.99198567
      [1, 'FUNDING', '-28493332.67421527', '127181286381.99198567'],
      // 500,033,557,188.8557781 + 38,789,244.06165755 = 500,072,346,432.91743565
      [2, 'FUNDING', '38789244.06165755', '500072346432.91743565'],
      // 400,007,871,439.67877539 + 9,098,711.22522515 = 400,016,970,150.90400054
      [3, 'FUNDING', '9098711.22522515', '400016970150.90400054'],
      // 600,017,283,000.407385 - 19,394,622.61266745 = 599,997,888,377.79471755
      [4, 'FUNDING', '-19394622.61266745', '599997888377.79471755'],
      [5, 'INSURANCE', '0.00000002', '1000.00000002'],
    ]);
    expect(lastPosition(h, 1).funding).toBe('-28493332.67421527');
    expect(lastPosition(h, 2).funding).toBe('38789244.06165755');
    // 127,181,286,381.99198567 + 31,095,052,181.26377594 = 158,276,338,563.25576161
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '127181286381.99198567',
      equity: '158276338563.25576161',
    });
    for (const id of [1, 2, 3, 4, 5]) checkLedger(h, id);
  });
});

describe('a balance crossing 2^53 units up and back down through fills', () => {
  test('every entry chains and the amounts sum to the balance, on both sides of 2^53', () => {
    // account 1 starts at exactly 2^53 - 1 units; account 2 is the counterparty
    const h = riskSetup(['90071992.54740991', '999000000000']);
    h.run(ODD_PERP);

    // a) 1 rests a buy of 10 at 1,000,000.01 (maker); 2 sells into it. N = 10,000,000.1;
    //    maker fee 10,000,000.1 * 0.00020003 = 2,000.300020003 -> up -> 2,000.30002001
    //    balance 90,071,992.54740991 - 2,000.30002001 = 90,069,992.2473899 (below 2^53)
    h.limit(1, 'BUY', '1000000.01', '10', { ...odd, leverage: '10' });
    h.market(2, 'SELL', '10', { ...odd, leverage: '10' });
    expect(lastAccount(h, 1)).toMatchObject({ balance: '90069992.2473899', marginUsed: '1000000.01' });

    // b) 2 bids 10 at 1,500,000.03; 1 sells 10 at market (taker, reduce-only). N = 15,000,000.3;
    //    taker fee 15,000,000.3 * 0.00070001 = 10,500.150210003 -> up -> 10,500.15021001
    //    PnL (1,500,000.03 - 1,000,000.01) * 10 = 5,000,000.2
    //    90,069,992.2473899 - 10,500.15021001 = 90,059,492.09717989; + 5,000,000.2 = 95,059,492.29717989 (above)
    h.limit(2, 'BUY', '1500000.03', '10', { ...odd, leverage: '10' });
    h.market(1, 'SELL', '10', { ...odd, reduceOnly: true });
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '95059492.29717989',
      marginUsed: '0',
      realizedPnl: '5000000.2',
    });

    // c) 2 bids 7.777 at 1,400,000.07; 1 sells 7.777 at market at 10x: short. N = 10,887,800.54439;
    //    taker fee 10,887,800.54439 * 0.00070001 = 7,621.5692590784439 -> up -> 7,621.56925908
    //    balance 95,059,492.29717989 - 7,621.56925908 = 95,051,870.72792081; margin N / 10 = 1,088,780.054439
    h.limit(2, 'BUY', '1400000.07', '7.777', { ...odd, leverage: '10' });
    h.market(1, 'SELL', '7.777', { ...odd, leverage: '10' });
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '95051870.72792081',
      marginUsed: '1088780.054439',
    });

    // d) 1 rests a reduce-only buy of 7.777 at 2,300,000.11 (maker); 2 sells into it. N = 17,887,100.85547;
    //    maker fee 17,887,100.85547 * 0.00020003 = 3,577.9567841196641 -> up -> 3,577.95678412
    //    PnL (1,400,000.07 - 2,300,000.11) * 7.777 = -6,999,300.31108
    //    95,051,870.72792081 - 3,577.95678412 = 95,048,292.77113669; - 6,999,300.31108 = 88,048,992.46005669
    h.limit(1, 'BUY', '2300000.11', '7.777', { ...odd, reduceOnly: true });
    h.market(2, 'SELL', '7.777', { ...odd, leverage: '10' });

    const entries = ledgerOf(h, 1).map((e) => [e.entryType, e.amount, e.balanceAfter]);
    expect(entries).toEqual([
      ['DEPOSIT', '90071992.54740991', '90071992.54740991'],
      ['FEE', '-2000.30002001', '90069992.2473899'],
      ['FEE', '-10500.15021001', '90059492.09717989'],
      ['PNL', '5000000.2', '95059492.29717989'],
      ['FEE', '-7621.56925908', '95051870.72792081'],
      ['FEE', '-3577.95678412', '95048292.77113669'],
      ['PNL', '-6999300.31108', '88048992.46005669'],
    ]);
    // the balance went from 2^53 - 1 units below 2^53, above it, and back below
    const afters = ledgerOf(h, 1).map((e) => units(e.balanceAfter));
    expect(afters.map((b) => b > MAX_SAFE_UNITS)).toEqual([false, false, false, true, true, true, false]);

    // The expected final balance from the deposit, fees and PnL above, in BigInt:
    const fees = [2000_30002001n, 10500_15021001n, 7621_56925908n, 3577_95678412n];
    const pnl = [5000000_20000000n, -6999300_31108000n];
    const expected = 90071992_54740991n - fees.reduce((a, b) => a + b, 0n) + pnl.reduce((a, b) => a + b, 0n);
    expect(expected).toBe(88048992_46005669n);
    expect(checkLedger(h, 1)).toBe(expected);
    expect(lastAccount(h, 1)).toMatchObject({
      balance: '88048992.46005669',
      equity: '88048992.46005669',
      marginUsed: '0',
      orderMargin: '0',
      marginAvailable: '88048992.46005669',
      // 5,000,000.2 - 6,999,300.31108 = -1,999,300.11108
      realizedPnl: '-1999300.11108',
    });
    expect(lastPosition(h, 1)).toMatchObject({ status: 'CLOSED', realizedPnl: '-6999300.31108' });
    // the counterparty's ledger holds too (its balance stays beyond 2^53 throughout)
    checkLedger(h, 2);
  });
});
