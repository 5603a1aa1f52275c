/** Every input rejection with its stable reason, and the engine's refusal of a seq gap. */
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { BTC, brief, btc, Harness, ofType } from './harness.js';

/** Places a BTC-PERP order built from a valid GTC limit buy with `patch` applied; returns the brief. */
function place(patch: Record<string, unknown>, h = btc()): string[] {
  const body: Record<string, unknown> = {
    type: 'place_order',
    accountId: 1,
    symbol: 'BTC-PERP',
    side: 'BUY',
    orderType: 'LIMIT',
    timeInForce: 'GTC',
    price: '100',
    quantity: '1',
    ...patch,
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return brief(h.run(body as unknown as CommandBody));
}

const rejected = (reason: string) => [`rejected place_order ${reason}`];

describe('place_order input rejections', () => {
  test('a valid order is accepted (the baseline the cases below break)', () => {
    expect(place({})).toEqual(['order #1 NEW 0/1/0', 'book BUY 100 1']);
  });

  test.each([
    ['wrong tick', { price: '100.2' }, 'PRICE_NOT_ON_TICK'],
    ['wrong tick, smallest step', { price: '100.00000001' }, 'PRICE_NOT_ON_TICK'],
    ['zero price', { price: '0' }, 'INVALID_PRICE'],
    ['zero price with decimals', { price: '0.00' }, 'INVALID_PRICE'],
    ['negative price', { price: '-100' }, 'INVALID_PRICE'],
    ['NaN price', { price: 'NaN' }, 'INVALID_PRICE'],
    ['Infinity price', { price: 'Infinity' }, 'INVALID_PRICE'],
    ['exponent price', { price: '1e5' }, 'INVALID_PRICE'],
    ['leading space', { price: ' 100' }, 'INVALID_PRICE'],
    ['trailing space', { price: '100 ' }, 'INVALID_PRICE'],
    ['plus sign', { price: '+100' }, 'INVALID_PRICE'],
    ['leading zero', { price: '0100' }, 'INVALID_PRICE'],
    ['bare dot', { price: '100.' }, 'INVALID_PRICE'],
    ['leading dot', { price: '.5' }, 'INVALID_PRICE'],
    ['comma', { price: '100,5' }, 'INVALID_PRICE'],
    ['hex', { price: '0x64' }, 'INVALID_PRICE'],
    ['13 integer digits', { price: '1000000000000' }, 'INVALID_PRICE'],
    ['9 fractional digits', { price: '100.000000000' }, 'INVALID_PRICE'],
    ['empty string', { price: '' }, 'INVALID_PRICE'],
    ['JSON number price', { price: 100 }, 'INVALID_PRICE'],
    ['null price', { price: null }, 'INVALID_PRICE'],
    ['wrong lot', { quantity: '0.0005' }, 'QUANTITY_NOT_ON_LOT'],
    ['above max', { quantity: '1000.001' }, 'QUANTITY_ABOVE_MAX'],
    ['zero quantity', { quantity: '0' }, 'INVALID_QUANTITY'],
    ['negative quantity', { quantity: '-1' }, 'INVALID_QUANTITY'],
    ['NaN quantity', { quantity: 'NaN' }, 'INVALID_QUANTITY'],
    ['exponent quantity', { quantity: '1e0' }, 'INVALID_QUANTITY'],
    ['leading space quantity', { quantity: ' 1' }, 'INVALID_QUANTITY'],
    ['plus quantity', { quantity: '+1' }, 'INVALID_QUANTITY'],
    ['leading zero quantity', { quantity: '01' }, 'INVALID_QUANTITY'],
    ['13 integer digits quantity', { quantity: '1000000000000' }, 'INVALID_QUANTITY'],
    ['9 fractional digits quantity', { quantity: '1.000000000' }, 'INVALID_QUANTITY'],
    ['JSON number quantity', { quantity: 1 }, 'INVALID_QUANTITY'],
    ['missing quantity', { quantity: undefined }, 'INVALID_QUANTITY'],
    ['missing limit price', { price: undefined }, 'MISSING_PRICE'],
    [
      'stop-limit without price',
      { orderType: 'STOP_LIMIT', price: undefined, stopPrice: '90' },
      'MISSING_PRICE',
    ],
    ['stop-limit without stop', { orderType: 'STOP_LIMIT' }, 'MISSING_STOP_PRICE'],
    ['stop without stop', { orderType: 'STOP', price: undefined }, 'MISSING_STOP_PRICE'],
    ['market with a price', { orderType: 'MARKET' }, 'UNEXPECTED_PRICE'],
    ['stop with a price', { orderType: 'STOP', stopPrice: '110' }, 'UNEXPECTED_PRICE'],
    ['limit with a stop price', { stopPrice: '110' }, 'UNEXPECTED_PRICE'],
    ['stop price off tick', { orderType: 'STOP', price: undefined, stopPrice: '110.1' }, 'PRICE_NOT_ON_TICK'],
    ['stop price as a number', { orderType: 'STOP', price: undefined, stopPrice: 110 }, 'INVALID_PRICE'],
    ['unknown instrument', { symbol: 'DOGE-PERP' }, 'UNKNOWN_INSTRUMENT'],
    ['lower-case side', { side: 'buy' }, 'INVALID_COMMAND'],
    ['unknown side', { side: 'HOLD' }, 'INVALID_COMMAND'],
    ['missing side', { side: undefined }, 'INVALID_COMMAND'],
    ['unknown type', { orderType: 'ICEBERG' }, 'INVALID_COMMAND'],
    ['unknown time in force', { timeInForce: 'GTD' }, 'INVALID_TIME_IN_FORCE'],
    ['missing time in force', { timeInForce: undefined }, 'INVALID_TIME_IN_FORCE'],
    ['account id zero', { accountId: 0 }, 'INVALID_COMMAND'],
    ['account id as a string', { accountId: '1' }, 'INVALID_COMMAND'],
    ['post-only not a boolean', { postOnly: 'true' }, 'INVALID_COMMAND'],
    ['leverage zero', { leverage: '0' }, 'INVALID_LEVERAGE'],
    ['leverage above 100', { leverage: '101' }, 'INVALID_LEVERAGE'],
    ['fractional leverage', { leverage: '2.5' }, 'INVALID_LEVERAGE'],
  ])('%s', (_name, patch, reason) => {
    expect(place(patch)).toEqual(rejected(reason));
  });

  test('the largest values NUMERIC(20,8) holds are accepted where the grid allows', () => {
    const h = new Harness();
    h.run({ ...BTC, tickSize: '0.5', lotSize: '1', minQuantity: '1', maxQuantity: '999999999999' });
    expect(place({ price: '999999999999.5', quantity: '999999999999' }, h)[0]).toBe(
      'order #1 NEW 0/999999999999/0',
    );
  });

  test('ticks and lots are safe integers: a finer grid caps the price at 2^53 ticks (PRICE_OUT_OF_RANGE)', () => {
    const h = new Harness();
    // 1e-8 ticks: 2^53 - 1 ticks is 90071992.54740991
    h.run({ ...BTC, tickSize: '0.00000001', lotSize: '1', minQuantity: '1', maxQuantity: '1000' });
    expect(place({ price: '90071992.54740991' }, h)[0]).toBe('order #1 NEW 0/1/0');
    expect(place({ price: '90071992.54740992' }, h)).toEqual(rejected('PRICE_OUT_OF_RANGE'));
    expect(place({ price: '999999999999.99999999' }, h)).toEqual(rejected('PRICE_OUT_OF_RANGE'));
  });

  test('below the instrument minimum', () => {
    const h = new Harness();
    h.run({ ...BTC, minQuantity: '0.01' });
    expect(place({ quantity: '0.009' }, h)).toEqual(rejected('QUANTITY_BELOW_MIN'));
    expect(place({ quantity: '0.01' }, h)[0]).toBe('order #1 NEW 0/0.01/0');
  });

  test('the rejected event names the command, account and client order id; no order id is used up', () => {
    const h = btc();
    const ev = h.limit(7, 'BUY', '100.2', '1', { clientOrderId: 'c-1' });
    expect(ev).toEqual([
      {
        type: 'rejected',
        seq: 2,
        ts: ev[0].ts,
        command: 'place_order',
        reason: 'PRICE_NOT_ON_TICK',
        accountId: 7,
        orderId: null,
        clientOrderId: 'c-1',
      },
    ]);
    expect(brief(h.limit(7, 'BUY', '100', '1', { clientOrderId: 'c-1' }))[0]).toBe('order #1 NEW 0/1/0');
  });

  test('input rejections change nothing: same state hash as before', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const before = h.engine.stateHash();
    const probe = btc();
    probe.limit(1, 'BUY', '100', '1');
    probe.limit(1, 'BUY', '1e2', '1');
    probe.market(1, 'SELL', '1', { price: '100' });
    probe.cancel(2, 1);
    // The hash covers the seq, so compare against an engine that ran as many harmless commands.
    h.run({ type: 'cancel_all', accountId: 99 });
    h.run({ type: 'cancel_all', accountId: 99 });
    h.run({ type: 'cancel_all', accountId: 99 });
    expect(probe.engine.stateHash()).toBe(h.engine.stateHash());
    expect(probe.engine.stateHash()).not.toBe(before);
  });
});

describe('other commands', () => {
  test('unknown command types are refused INVALID_COMMAND (risk off: risk commands too)', () => {
    const h = btc();
    expect(brief(h.run({ type: 'teleport' } as unknown as CommandBody))).toEqual([
      'rejected teleport INVALID_COMMAND',
    ]);
    expect(brief(h.run({ type: 'deposit', accountId: 1, amount: '1' }))).toEqual([
      'rejected deposit INVALID_COMMAND',
    ]);
  });

  test('a second instrument with the same symbol is DUPLICATE_INSTRUMENT', () => {
    const h = btc();
    expect(brief(h.run(BTC))).toEqual(['rejected create_instrument DUPLICATE_INSTRUMENT']);
  });

  test('cancel_all with a bad account is INVALID_COMMAND', () => {
    const h = btc();
    expect(brief(h.run({ type: 'cancel_all', accountId: -1 }))).toEqual([
      'rejected cancel_all INVALID_COMMAND',
    ]);
  });

  test('checkpoint emits the state hash at its seq', () => {
    const h = btc();
    h.limit(1, 'BUY', '100', '1');
    const [e] = ofType(h.run({ type: 'checkpoint' }), 'state_hash');
    expect(e).toMatchObject({ seq: 3, hash: h.engine.stateHash() });
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('sequencing', () => {
  const cmd = (seq: number): Command => ({ type: 'session_end', seq, ts: 1 });

  test('the engine throws on a seq gap, and on a repeated seq, and applies nothing', () => {
    const h = btc();
    const hash = h.engine.stateHash();
    expect(() => h.engine.apply(cmd(3), [])).toThrow(/expected seq 2/);
    expect(() => h.engine.apply(cmd(1), [])).toThrow(/expected seq 2/);
    expect(() => h.engine.apply(cmd(0), [])).toThrow();
    expect(h.engine.lastSeq).toBe(1);
    expect(h.engine.stateHash()).toBe(hash);
    const out: never[] = [];
    h.engine.apply(cmd(2), out);
    expect(h.engine.lastSeq).toBe(2);
  });

  test('a fresh engine starts at seq 1', () => {
    const h = new Harness();
    expect(h.engine.lastSeq).toBe(0);
    expect(() => h.engine.apply(cmd(2), [])).toThrow();
    h.engine.apply(cmd(1), []);
    expect(h.engine.lastSeq).toBe(1);
  });
});
