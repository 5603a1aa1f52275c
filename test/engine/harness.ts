/** A test driver: stamps seq/ts on commands, applies them, and keeps every event. */

import type { EngineOptions } from '../../engine/api.js';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent, OrderEvent, TradeEvent } from '../../engine/events.js';
import { BTC_PERP } from '../fixtures.js';

export const BTC = { type: 'create_instrument', ...BTC_PERP } as const satisfies CommandBody;

export type Extra = Record<string, unknown>;

const refOf = (ref: number | string) => (typeof ref === 'number' ? { orderId: ref } : { clientOrderId: ref });

export class Harness {
  readonly engine: Engine;
  readonly log: EngineEvent[] = [];
  readonly commands: Command[] = [];
  ts = 1_700_000_000_000_000;

  /** A fresh engine, or `engine` (one restored from a snapshot, say) to go on with. */
  constructor(options: EngineOptions = { risk: false }, engine?: Engine) {
    this.engine = engine ?? new Engine(options);
  }

  /** Applies one command and returns its events. */
  run(body: CommandBody): EngineEvent[] {
    this.ts += 1000;
    const cmd = { ...body, seq: this.engine.lastSeq + 1, ts: this.ts } as Command;
    this.commands.push(cmd);
    const out: EngineEvent[] = [];
    this.engine.apply(cmd, out);
    this.log.push(...out);
    return out;
  }

  /** Places a limit order and returns the order's state event. */
  limit(
    accountId: number,
    side: 'BUY' | 'SELL',
    price: string,
    quantity: string,
    extra: Record<string, unknown> = {},
  ) {
    return this.run({
      type: 'place_order',
      accountId,
      symbol: 'BTC-PERP',
      side,
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price,
      quantity,
      ...extra,
    } as CommandBody);
  }

  /** Places any order type on BTC-PERP (GTC unless `extra` says otherwise; `extra` overrides any field). */
  place(accountId: number, side: 'BUY' | 'SELL', orderType: string, quantity: string, extra: Extra = {}) {
    return this.run({
      type: 'place_order',
      accountId,
      symbol: 'BTC-PERP',
      side,
      orderType,
      timeInForce: 'GTC',
      quantity,
      ...extra,
    } as CommandBody);
  }

  stop(accountId: number, side: 'BUY' | 'SELL', stopPrice: string, quantity: string, extra: Extra = {}) {
    return this.place(accountId, side, 'STOP', quantity, { stopPrice, ...extra });
  }

  stopLimit(
    accountId: number,
    side: 'BUY' | 'SELL',
    stopPrice: string,
    price: string,
    quantity: string,
    extra: Extra = {},
  ) {
    return this.place(accountId, side, 'STOP_LIMIT', quantity, { stopPrice, price, ...extra });
  }

  cancel(accountId: number, ref: number | string) {
    return this.run({ type: 'cancel_order', accountId, ...refOf(ref) } as CommandBody);
  }

  amend(accountId: number, ref: number | string, change: { price?: string; quantity?: string }) {
    return this.run({ type: 'amend_order', accountId, ...refOf(ref), ...change } as CommandBody);
  }

  cancelAll(accountId: number, symbol?: string) {
    return this.run({ type: 'cancel_all', accountId, ...(symbol === undefined ? {} : { symbol }) });
  }

  sessionEnd() {
    return this.run({ type: 'session_end' });
  }

  /** The id of the most recently created order. */
  lastOrderId(): number {
    return this.engine.nextOrderId - 1;
  }

  /** L2 snapshot of BTC-PERP as [price, quantity] pairs, best first. */
  levels(side: 'BUY' | 'SELL'): [string, string][] {
    const snap = this.engine.book('BTC-PERP', 1_000_000)!;
    return (side === 'BUY' ? snap.bids : snap.asks).map((l) => [l.price, l.quantity]);
  }

  market(accountId: number, side: 'BUY' | 'SELL', quantity: string, extra: Record<string, unknown> = {}) {
    return this.run({
      type: 'place_order',
      accountId,
      symbol: 'BTC-PERP',
      side,
      orderType: 'MARKET',
      timeInForce: 'IOC',
      quantity,
      ...extra,
    } as CommandBody);
  }
}

/** A harness (risk off) with BTC-PERP created: tick 0.5, lot 0.001, min 0.001, max 1000. */
export function btc(): Harness {
  const h = new Harness();
  h.run(BTC);
  return h;
}

export const orders = (events: EngineEvent[]): OrderEvent[] =>
  events.filter((e): e is OrderEvent => e.type === 'order');
export const trades = (events: EngineEvent[]): TradeEvent[] =>
  events.filter((e): e is TradeEvent => e.type === 'trade');
export const ofType = <T extends EngineEvent['type']>(events: EngineEvent[], type: T) =>
  events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];

/**
 * One terse line per event, for message-by-message assertions:
 *   trade #1 100x0.4 maker=1 taker=2 BUY
 *   order #2 FILLED 0.4/0/0            (filled/remaining/cancelled, then the reject or cancel reason if any)
 *   book SELL 100 0.6
 *   rejected cancel_order UNKNOWN_ORDER
 */
export function brief(events: EngineEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case 'trade':
        return `trade #${e.tradeId} ${e.price}x${e.quantity} maker=${e.makerOrderId} taker=${e.takerOrderId} ${e.takerSide}`;
      case 'order': {
        const reason = e.rejectionReason ?? e.cancelReason;
        const tail = reason === null ? '' : ` ${reason}`;
        return `order #${e.orderId} ${e.status} ${e.filledQuantity}/${e.remainingQuantity}/${e.cancelledQuantity}${tail}`;
      }
      case 'book':
        return `book ${e.side} ${e.price} ${e.quantity}`;
      case 'rejected':
        return `rejected ${e.command} ${e.reason}`;
      case 'session_end':
        return `session_end ${e.expiredOrders}`;
      default:
        return e.type;
    }
  });
}
