/** Rows read back into the engine's shapes (persistence/read-back.ts): no database needed. */
import { describe, expect, it } from 'vitest';
import type { OrderState } from '../../engine/events.js';
import { canonDecimal, canonValue, orderStateFromRow } from '../../persistence/read-back.js';

/** An `orders` row as the pool returns it for ORDER_STATE_COLUMNS: NUMERIC with 8 places, int8 as bigint. */
function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderId: 42n,
    accountId: 7n,
    clientOrderId: 'q-1842',
    symbol: 'BTC-PERP',
    side: 'SELL',
    orderType: 'LIMIT',
    timeInForce: 'GTC',
    price: '100.50000000',
    stopPrice: null,
    quantity: '2.00000000',
    filledQuantity: '1.25000000',
    remainingQuantity: '0.00000000',
    cancelledQuantity: '0.75000000',
    averagePrice: '100.12345679',
    filledNotional: '125.15432099',
    status: 'CANCELLED',
    postOnly: false,
    reduceOnly: true,
    leverage: '10.00000000',
    commissionRate: '0.00050000',
    rejectionReason: null,
    cancelReason: 'USER',
    createdAt: 1795586448290011n,
    updatedAt: 1795586448390012n,
    expiredAt: null,
    origin: 'USER',
    seq: 1234n,
    ...overrides,
  };
}

describe('canonDecimal', () => {
  it('writes NUMERIC(20,8) values in the engine shortest form', () => {
    expect(canonDecimal('1.50000000')).toBe('1.5');
    expect(canonDecimal('2.00000000')).toBe('2');
    expect(canonDecimal('0.00000000')).toBe('0');
    expect(canonDecimal('-0.00000000')).toBe('0');
    expect(canonDecimal('-3.10000000')).toBe('-3.1');
    expect(canonDecimal('0.00000001')).toBe('0.00000001');
    expect(canonDecimal('999999999999.99999999')).toBe('999999999999.99999999');
    expect(canonDecimal('100')).toBe('100');
  });

  it('canonValue: bigint to number, padded decimals shortened, the rest unchanged', () => {
    expect(canonValue(12n)).toBe(12);
    expect(canonValue('7.10000000')).toBe('7.1');
    expect(canonValue(null)).toBe(null);
    expect(canonValue(true)).toBe(true);
    expect(canonValue('FILLED')).toBe('FILLED');
  });
});

describe('orderStateFromRow', () => {
  it('maps every column to the OrderState field, decimals shortest, ids and timestamps as numbers', () => {
    const { order, seq } = orderStateFromRow(row());
    const expected: OrderState = {
      orderId: 42,
      accountId: 7,
      clientOrderId: 'q-1842',
      symbol: 'BTC-PERP',
      side: 'SELL',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price: '100.5',
      stopPrice: null,
      quantity: '2',
      filledQuantity: '1.25',
      remainingQuantity: '0',
      cancelledQuantity: '0.75',
      averagePrice: '100.12345679',
      filledNotional: '125.15432099',
      status: 'CANCELLED',
      postOnly: false,
      reduceOnly: true,
      leverage: '10',
      commissionRate: '0.0005',
      rejectionReason: null,
      cancelReason: 'USER',
      createdAt: 1795586448290011,
      updatedAt: 1795586448390012,
      expiredAt: null,
      origin: 'USER',
    };
    expect(order).toStrictEqual(expected);
    // Exactly the engine's fields, in its order: the JSON is byte-for-byte what the engine would write.
    expect(Object.keys(order)).toEqual(Object.keys(expected));
    expect(seq).toBe(1234);
  });

  it('keeps nulls null and fills in the nullable fields when set', () => {
    const { order } = orderStateFromRow(
      row({
        clientOrderId: null,
        orderType: 'STOP_LIMIT',
        price: '101.00000000',
        stopPrice: '99.90000000',
        averagePrice: null,
        filledQuantity: '0.00000000',
        filledNotional: '0.00000000',
        cancelReason: null,
        status: 'REJECTED',
        rejectionReason: 'INSUFFICIENT_MARGIN',
        expiredAt: 1795586448999999n,
        origin: 'STOP_LOSS',
      }),
    );
    expect(order).toMatchObject({
      clientOrderId: null,
      price: '101',
      stopPrice: '99.9',
      averagePrice: null,
      filledQuantity: '0',
      filledNotional: '0',
      cancelReason: null,
      rejectionReason: 'INSUFFICIENT_MARGIN',
      expiredAt: 1795586448999999,
      origin: 'STOP_LOSS',
    });
  });

  it('does not treat a client order id that looks like a decimal as one', () => {
    expect(orderStateFromRow(row({ clientOrderId: '1.50' })).order.clientOrderId).toBe('1.50');
  });

  it('refuses values that cannot be the engine’s (a lossy number, a missing decimal)', () => {
    expect(() => orderStateFromRow(row({ createdAt: 2n ** 60n }))).toThrow(/createdAt/);
    expect(() => orderStateFromRow(row({ quantity: null }))).toThrow(/quantity/);
    expect(() => orderStateFromRow(row({ price: 100.5 }))).toThrow(/price/);
  });
});
