/** A test driver: stamps seq/ts on commands, applies them, and keeps every event. */

import type { EngineOptions } from '../../engine/api.js';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent, OrderEvent, TradeEvent } from '../../engine/events.js';

export const BTC = {
  type: 'create_instrument',
  symbol: 'BTC-PERP',
  kind: 'PERPETUAL',
  baseCurrency: 'BTC',
  quoteCurrency: 'USD',
  tickSize: '0.5',
  lotSize: '0.001',
  minQuantity: '0.001',
  maxQuantity: '1000',
  maxLeverage: '100',
  makerFeeRate: '0.0002',
  takerFeeRate: '0.001',
  fundingIntervalSeconds: 28800,
} as const satisfies CommandBody;

export class Harness {
  readonly engine: Engine;
  readonly log: EngineEvent[] = [];
  readonly commands: Command[] = [];
  ts = 1_700_000_000_000_000;

  constructor(options: EngineOptions = { risk: false }) {
    this.engine = new Engine(options);
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

export const orders = (events: EngineEvent[]): OrderEvent[] =>
  events.filter((e): e is OrderEvent => e.type === 'order');
export const trades = (events: EngineEvent[]): TradeEvent[] =>
  events.filter((e): e is TradeEvent => e.type === 'trade');
export const ofType = <T extends EngineEvent['type']>(events: EngineEvent[], type: T) =>
  events.filter((e) => e.type === type) as Extract<EngineEvent, { type: T }>[];
