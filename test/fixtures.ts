/**
 * The instrument every suite trades, in one place: BTC-PERP, tick 0.5, lot 0.001, maker 0.0002, taker 0.001.
 * Tests' hand-worked numbers (test/risk, test/engine) assume exactly these values.
 */
import type { CreateInstrument } from '../engine/commands.js';

export const BTC_PERP = {
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
} as const satisfies Omit<CreateInstrument, 'type'>;
