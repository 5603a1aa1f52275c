/**
 * Hand-written JSON for the two objects every ack carries (the order state and its fills): several times
 * faster than JSON.stringify on these flat objects, which matters at one ack per order.
 *
 * Safe without escaping: decimals are engine-formatted digit strings, enums are fixed identifiers, numbers are
 * integers. Free-form strings (symbol, client order id) still go through JSON.stringify. A test compares the
 * output with JSON.stringify field by field, so a field added to OrderState cannot be dropped unnoticed.
 */
import type { OrderEvent, OrderState } from '../../engine/events.js';
import type { Fill } from '../protocol/types.js';

function q(s: string | null): string {
  return s === null ? 'null' : `"${s}"`;
}

function text(s: string | null): string {
  return s === null ? 'null' : JSON.stringify(s);
}

export function orderJson(o: OrderState): string {
  return `{"orderId":${o.orderId},"accountId":${o.accountId},"clientOrderId":${text(o.clientOrderId)},"symbol":${text(o.symbol)},"side":"${o.side}","orderType":"${o.orderType}","timeInForce":"${o.timeInForce}","price":${q(o.price)},"stopPrice":${q(o.stopPrice)},"quantity":"${o.quantity}","filledQuantity":"${o.filledQuantity}","remainingQuantity":"${o.remainingQuantity}","cancelledQuantity":"${o.cancelledQuantity}","averagePrice":${q(o.averagePrice)},"filledNotional":"${o.filledNotional}","status":"${o.status}","postOnly":${o.postOnly},"reduceOnly":${o.reduceOnly},"leverage":"${o.leverage}","commissionRate":"${o.commissionRate}","rejectionReason":${q(o.rejectionReason)},"cancelReason":${q(o.cancelReason)},"createdAt":${o.createdAt},"updatedAt":${o.updatedAt},"expiredAt":${o.expiredAt},"origin":"${o.origin}"}`;
}

export function fillJson(f: Fill): string {
  return `{"tradeId":${f.tradeId},"orderId":${f.orderId},"clientOrderId":${text(f.clientOrderId)},"symbol":${text(f.symbol)},"side":"${f.side}","price":"${f.price}","quantity":"${f.quantity}","liquidity":"${f.liquidity}","fee":"${f.fee}","feeRate":"${f.feeRate}","realizedPnl":"${f.realizedPnl}","seq":${f.seq},"ts":${f.ts}}`;
}

export function fillsJson(fills: Fill[]): string {
  if (fills.length === 0) return '[]';
  let s = '[';
  for (let i = 0; i < fills.length; i++) s += (i === 0 ? '' : ',') + fillJson(fills[i]!);
  return `${s}]`;
}

/**
 * An order without the engine event's stamp (`type`, `seq`, `ts`), for the places the protocol promises the
 * bare OrderState (error data): the view keeps the events themselves.
 */
export function withoutStamp(o: OrderState | OrderEvent): OrderState {
  if (!('type' in o)) return o;
  const { type: _type, seq: _seq, ts: _ts, ...state } = o;
  return state;
}
