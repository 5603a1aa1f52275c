/** The hand-written ack JSON must say exactly what JSON.stringify would, for every field of the contract. */
import { describe, expect, it } from 'vitest';
import type { EngineEvent, OrderState } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import { fillJson, orderJson } from '../../src/gateway/serialize.js';
import type { Fill } from '../../src/protocol/types.js';
import { BTC } from './helpers.js';

describe('ack serialisation', () => {
  it('writes every OrderState field, equal to JSON.stringify', () => {
    const e = new Engine({ risk: false });
    const out: EngineEvent[] = [];
    let seq = 0;
    const run = (c: Record<string, unknown>) => {
      out.length = 0;
      e.apply({ ...c, seq: ++seq, ts: 1_700_000_000_000_000 + seq } as never, out);
      return [...out];
    };
    run({ type: 'create_instrument', ...BTC });
    run({
      type: 'place_order',
      accountId: 1,
      symbol: 'BTC-PERP',
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price: '100.5',
      quantity: '2',
      clientOrderId: 'c-1',
    });
    const evs = run({
      type: 'place_order',
      accountId: 2,
      symbol: 'BTC-PERP',
      side: 'SELL',
      orderType: 'MARKET',
      timeInForce: 'IOC',
      quantity: '0.5',
    });
    const orders: OrderState[] = [e.openOrders(1)[0]!];
    for (const ev of evs) if (ev.type === 'order') orders.push(e.order(ev.orderId) ?? (ev as OrderState));
    for (const o of orders) {
      const {
        type: _t,
        seq: _s,
        ts: _ts,
        ...state
      } = o as OrderState & { type?: string; seq?: number; ts?: number };
      expect(JSON.parse(orderJson(o))).toEqual(state);
      expect(Object.keys(JSON.parse(orderJson(o))).sort()).toEqual(Object.keys(state).sort());
    }
    const fill: Fill = {
      tradeId: 1,
      orderId: 2,
      clientOrderId: 'a"b',
      symbol: 'BTC-PERP',
      side: 'SELL',
      price: '100.5',
      quantity: '0.5',
      liquidity: 'TAKER',
      fee: '0.05025',
      feeRate: '0.001',
      realizedPnl: '0',
      seq: 3,
      ts: 5,
    };
    expect(JSON.parse(fillJson(fill))).toEqual(fill);
  });
});
