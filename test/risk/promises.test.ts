/**
 * Orders whose size a position promises stay within it after admission (engine/risk/reclip.ts): reduce-only
 * orders, and a cash account's sells. A fuzz campaign over random command streams (a helper, 2M+ commands)
 * found each of these ways round the rules; every test here failed before the fix.
 *
 * Account 1 is a cash account (marginEnabled false), accounts 2 and 3 margin accounts; all funded. Prices in
 * BTC-PERP (tick 0.5, lot 0.001).
 */
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { BTC, Harness, ofType } from '../engine/harness.js';
import { riskSetup } from './setup.js';

function setup(): Harness {
  const h = new Harness({ risk: true });
  h.run(BTC);
  h.run({ type: 'create_user', name: 't', email: null });
  const open = (maxLeverage: string, marginEnabled: boolean) =>
    h.run({
      type: 'open_account',
      userId: 1,
      currency: 'USD',
      maxLeverage,
      marginEnabled,
      autoLiquidation: false,
    } as CommandBody);
  open('1', false);
  open('100', true);
  open('100', true);
  for (const accountId of [1, 2, 3]) h.run({ type: 'deposit', accountId, amount: '1000000' });
  return h;
}

const positions = (h: Harness, accountId: number) =>
  h.engine.positions(accountId).map((p) => `${p.side} ${p.quantity}`);
const outcome = (events: ReturnType<Harness['run']>) =>
  ofType(events, 'order').map((o) => `${o.status}${o.rejectionReason ? `:${o.rejectionReason}` : ''}`);

/** Account `id` buys 1 from account 3 at 100: long 1. */
function long1(h: Harness, id: number): void {
  h.limit(3, 'SELL', '100', '1');
  h.limit(id, 'BUY', '100', '1');
  expect(positions(h, id)).toEqual(['LONG 1']);
}

describe('a cash account never goes short', () => {
  test('a reduce-only sell counts the plain sells that already promise the holding', () => {
    const h = setup();
    long1(h, 1);
    expect(outcome(h.limit(1, 'SELL', '105', '1'))).toEqual(['NEW']);
    expect(outcome(h.limit(1, 'SELL', '106', '1'))).toEqual(['REJECTED:SHORT_NOT_ALLOWED']);
    expect(outcome(h.limit(1, 'SELL', '110', '1', { reduceOnly: true }))).toEqual([
      'REJECTED:REDUCE_ONLY_WOULD_INCREASE',
    ]);
    h.limit(3, 'BUY', '110', '2');
    expect(positions(h, 1)).toEqual([]);
  });

  test('an amend may not raise a sell past the holding', () => {
    const h = setup();
    long1(h, 1);
    h.limit(1, 'SELL', '105', '1');
    const sellId = h.lastOrderId();
    const amended = h.amend(1, sellId, { quantity: '5' });
    expect(ofType(amended, 'rejected').map((e) => e.reason)).toEqual(['SHORT_NOT_ALLOWED']);
    h.limit(3, 'BUY', '105', '5');
    expect(positions(h, 1)).toEqual([]);
  });

  test('a take-profit that sells the holding cancels a reduce-only sell that promised it', () => {
    const h = setup();
    h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '100' });
    long1(h, 1);
    h.limit(1, 'SELL', '120', '1', { reduceOnly: true });
    const roId = h.lastOrderId();
    h.run({ type: 'set_position_tpsl', accountId: 1, symbol: 'BTC-PERP', takeProfit: '105' } as CommandBody);
    h.limit(2, 'BUY', '104', '1');
    const tp = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '106' });
    expect(positions(h, 1)).toEqual([]);
    const ro = ofType(tp, 'order').find((o) => o.orderId === roId);
    expect(ro).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'REDUCE_ONLY_CLIPPED',
      remainingQuantity: '0',
    });
    expect(h.levels('SELL')).toEqual([]);
    h.limit(2, 'BUY', '120', '1');
    expect(positions(h, 1)).toEqual([]);
  });

  test('a stop-loss that sells the holding cancels a plain sell that promised part of it', () => {
    const h = setup();
    h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '100' });
    long1(h, 1);
    h.limit(1, 'SELL', '120', '0.4');
    const sellId = h.lastOrderId();
    h.run({ type: 'set_position_tpsl', accountId: 1, symbol: 'BTC-PERP', stopLoss: '95' } as CommandBody);
    h.limit(2, 'BUY', '96', '1');
    h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '94' });
    expect(positions(h, 1)).toEqual([]);
    expect(h.engine.order(sellId)).toBeUndefined(); // no longer live
    h.limit(2, 'BUY', '120', '0.4');
    expect(positions(h, 1)).toEqual([]);
  });

  test('a sale through one promised sell leaves the others as they were', () => {
    const h = setup();
    long1(h, 1);
    h.limit(1, 'SELL', '120', '0.6');
    const older = h.lastOrderId();
    h.limit(1, 'SELL', '121', '0.4');
    const newer = h.lastOrderId();
    // Both promise the whole holding: a third sell is refused.
    expect(outcome(h.limit(1, 'SELL', '100', '0.5'))).toEqual(['REJECTED:SHORT_NOT_ALLOWED']);
    // A buyer lifts part of the older one: 0.7 left, still all of what the two promise (0.3 + 0.4).
    h.limit(2, 'BUY', '120', '0.3');
    expect(positions(h, 1)).toEqual(['LONG 0.7']);
    expect(h.engine.order(older)?.remainingQuantity).toBe('0.3');
    expect(h.engine.order(newer)?.remainingQuantity).toBe('0.4');
  });
});

describe('a reduce-only order never opens or grows a position', () => {
  test('one left resting after the position closed is cancelled with it, and margin never goes negative', () => {
    const h = setup();
    long1(h, 2);
    h.limit(2, 'SELL', '110', '1', { reduceOnly: true });
    const roId = h.lastOrderId();
    h.limit(3, 'BUY', '100', '1');
    const close = h.limit(2, 'SELL', '100', '1'); // a plain sell closes the long
    expect(positions(h, 2)).toEqual([]);
    const ro = ofType(close, 'order').find((o) => o.orderId === roId);
    expect(ro).toMatchObject({ status: 'CANCELLED', cancelReason: 'REDUCE_ONLY_CLIPPED' });
    h.limit(3, 'BUY', '110', '1');
    expect(positions(h, 2)).toEqual([]);
    expect(Number(h.engine.account(2)!.marginAvailable)).toBeGreaterThanOrEqual(0);
  });

  test('a position that shrinks clips the reduce-only orders to its size, keeping the oldest', () => {
    const h = setup();
    h.limit(3, 'SELL', '100', '2');
    h.limit(2, 'BUY', '100', '2');
    h.limit(2, 'SELL', '110', '1.5', { reduceOnly: true });
    const older = h.lastOrderId();
    h.limit(2, 'SELL', '111', '0.5', { reduceOnly: true });
    const newer = h.lastOrderId();
    h.limit(3, 'BUY', '100', '1');
    const shrink = h.limit(2, 'SELL', '100', '1'); // long 2 -> long 1
    expect(positions(h, 2)).toEqual(['LONG 1']);
    expect(h.engine.order(older)).toMatchObject({ remainingQuantity: '1', cancelledQuantity: '0.5' });
    const gone = ofType(shrink, 'order').find((o) => o.orderId === newer);
    expect(gone).toMatchObject({ status: 'CANCELLED', cancelReason: 'REDUCE_ONLY_CLIPPED' });
    // The book shows what is left.
    expect(h.levels('SELL')).toEqual([['110', '1']]);
  });

  test('after a flip, a reduce-only order on the old closing side is cancelled; an amend cannot revive it', () => {
    const h = setup();
    long1(h, 2);
    h.limit(2, 'SELL', '120', '0.5', { reduceOnly: true });
    const roId = h.lastOrderId();
    h.limit(3, 'BUY', '100', '3');
    h.limit(2, 'SELL', '100', '3'); // long 1 -> short 2
    expect(positions(h, 2)).toEqual(['SHORT 2']);
    expect(h.engine.order(roId)).toBeUndefined();
    const amended = h.amend(2, roId, { quantity: '2' });
    expect(ofType(amended, 'rejected').map((e) => e.reason)).toEqual(['UNKNOWN_ORDER']);
  });

  test('an amend may raise a reduce-only order up to the position, not past it', () => {
    const h = setup();
    long1(h, 2);
    h.limit(2, 'SELL', '120', '0.5', { reduceOnly: true });
    const roId = h.lastOrderId();
    const up = h.amend(2, roId, { quantity: '1' });
    expect(ofType(up, 'order')[0]).toMatchObject({ quantity: '1', status: 'NEW' });
    const tooMuch = h.amend(2, roId, { quantity: '1.5' });
    expect(ofType(tooMuch, 'rejected').map((e) => e.reason)).toEqual(['REDUCE_ONLY_WOULD_INCREASE']);
  });
});

describe('checked again when an order executes', () => {
  test('a sweep that closes the position through a plain order clips the reduce-only order behind it', () => {
    const h = setup();
    long1(h, 2);
    h.limit(2, 'SELL', '100', '1'); // plain: closes the long when filled
    h.limit(2, 'SELL', '101', '1', { reduceOnly: true });
    const roId = h.lastOrderId();
    const sweep = h.limit(3, 'BUY', '101', '2');
    expect(ofType(sweep, 'trade').map((t) => `${t.price} ${t.quantity}`)).toEqual(['100 1']);
    expect(ofType(sweep, 'order').find((o) => o.orderId === roId)).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'REDUCE_ONLY_CLIPPED',
      filledQuantity: '0',
    });
    expect(positions(h, 2)).toEqual([]);
    // The buyer's rest waits at 101 instead.
    expect(h.levels('BUY')).toEqual([['101', '1']]);
  });

  test('an FOK that a clipped reduce-only maker would have completed is refused, not filled in part', () => {
    const h = setup();
    long1(h, 2);
    h.limit(2, 'SELL', '100', '1');
    h.limit(2, 'SELL', '101', '1', { reduceOnly: true });
    const fok = h.limit(3, 'BUY', '101', '2', { timeInForce: 'FOK' });
    expect(outcome(fok)).toEqual(['REJECTED:FOK_NOT_FILLABLE']);
    expect(ofType(fok, 'trade')).toEqual([]);
  });

  test('a reduce-only stop placed against a long, triggered after the position flipped, is cancelled', () => {
    const h = setup();
    long1(h, 2);
    h.stop(2, 'SELL', '95', '1', { reduceOnly: true });
    const stopId = h.lastOrderId();
    // Flip to short 2 (the stop stays: its side closes a long, and the reclip of this flip cancels it)...
    h.limit(3, 'BUY', '100', '3');
    const flip = h.limit(2, 'SELL', '100', '3');
    expect(positions(h, 2)).toEqual(['SHORT 2']);
    expect(ofType(flip, 'order').find((o) => o.orderId === stopId)).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'REDUCE_ONLY_CLIPPED',
    });
    // ...so a trade at 95 triggers nothing that would grow the short.
    h.limit(3, 'BUY', '95', '1');
    h.limit(2, 'SELL', '95', '0.001');
    expect(positions(h, 2)).toEqual(['SHORT 2.001']);
  });
});

describe('found by review of the clip', () => {
  test('in a sweep the older reduce-only order keeps its share of the position; the newer one is clipped', () => {
    const h = setup();
    h.limit(3, 'SELL', '100', '20');
    h.limit(2, 'BUY', '100', '20'); // long 20
    h.limit(2, 'SELL', '101', '10', { reduceOnly: true });
    const older = h.lastOrderId();
    h.limit(2, 'SELL', '102', '10', { reduceOnly: true });
    const newer = h.lastOrderId();
    h.limit(2, 'SELL', '100', '10'); // plain, better priced: fills first
    const sweep = h.limit(3, 'BUY', '101', '20');
    expect(ofType(sweep, 'trade').map((t) => `${t.price} ${t.quantity}`)).toEqual(['100 10', '101 10']);
    const last = (id: number) => ofType(sweep, 'order').find((o) => o.orderId === id);
    expect(last(older)?.status).toBe('FILLED');
    expect(last(newer)).toMatchObject({ status: 'CANCELLED', cancelReason: 'REDUCE_ONLY_CLIPPED' });
    expect(positions(h, 2)).toEqual([]);
  });

  test("a liquidation that closes a maker's position clips its reduce-only orders in that command", () => {
    const h = riskSetup(['1000', '100000', '100000']);
    h.limit(3, 'SELL', '10000', '1');
    h.limit(2, 'BUY', '10000', '1'); // account 3 short 1
    h.limit(2, 'SELL', '10000', '1', { leverage: '20' });
    h.limit(1, 'BUY', '10000', '1', { leverage: '20' }); // account 1 long 1 at 20x
    h.limit(3, 'BUY', '9200', '1'); // closes account 3's short when filled
    h.limit(3, 'BUY', '9100', '1', { reduceOnly: true });
    const roId = h.lastOrderId();
    const mark = h.run({ type: 'mark_price', symbol: 'BTC-PERP', price: '9200' }); // liquidates account 1
    expect(positions(h, 3)).toEqual([]);
    expect(ofType(mark, 'order').find((o) => o.orderId === roId)).toMatchObject({
      status: 'CANCELLED',
      cancelReason: 'REDUCE_ONLY_CLIPPED',
    });
    // Nothing is left over for the next command, so an engine restored here continues the same way.
    const restored = restoreEngine(snapshotEngine(h.engine), { risk: true });
    const next = {
      type: 'deposit',
      accountId: 2,
      amount: '1',
      seq: h.engine.lastSeq + 1,
      ts: h.ts + 1000,
    } as Command;
    const a: EngineEvent[] = [];
    const b: EngineEvent[] = [];
    h.engine.apply(next, a);
    restored.apply(next, b);
    expect(b).toEqual(a);
    expect(restored.stateHash()).toBe(h.engine.stateHash());
  });
});
