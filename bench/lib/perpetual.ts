/**
 * The USD perpetual that the end-to-end and persistence benchmarks trade: tick 0.5, lot 0.001, at most
 * 1000 an order, 100x, maker 0.02% and taker 0.05%, funding every 8 hours.
 */
import type { CreateInstrument } from '../../engine/commands.js';

export function benchPerpetual(symbol: string, baseCurrency: string): CreateInstrument {
  return {
    type: 'create_instrument',
    symbol,
    kind: 'PERPETUAL',
    baseCurrency,
    quoteCurrency: 'USD',
    tickSize: '0.5',
    lotSize: '0.001',
    minQuantity: '0.001',
    maxQuantity: '1000',
    maxLeverage: '100',
    makerFeeRate: '0.0002',
    takerFeeRate: '0.0005',
    fundingIntervalSeconds: 28_800,
  };
}
