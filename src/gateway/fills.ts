/**
 * A trade as one side's fill: the same conversion for acks (the command's own fills) and private streams
 * (every fill of a watched account), so both say the same thing.
 */
import type { TradeEvent } from '../../engine/events.js';
import type { Fill } from '../protocol/types.js';

export function fillOf(t: TradeEvent, maker: boolean, clientOrderId: string | null): Fill {
  return {
    tradeId: t.tradeId,
    orderId: maker ? t.makerOrderId : t.takerOrderId,
    clientOrderId,
    symbol: t.symbol,
    side: maker ? (t.takerSide === 'BUY' ? 'SELL' : 'BUY') : t.takerSide,
    price: t.price,
    quantity: t.quantity,
    liquidity: maker ? 'MAKER' : 'TAKER',
    fee: maker ? t.makerFee : t.takerFee,
    feeRate: maker ? t.makerFeeRate : t.takerFeeRate,
    realizedPnl: maker ? t.makerRealizedPnl : t.takerRealizedPnl,
    seq: t.seq,
    ts: t.ts,
  };
}
