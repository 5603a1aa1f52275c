/**
 * Rows read back into the engine's shapes: what the writer (rows.ts) put into a table, turned back into
 * exactly the values the engine emitted. Used by the consistency check (src/recovery/compare.ts) and by the
 * gateway's order archive (src/gateway/order-archive.ts).
 *
 * The pool (db.ts) hands NUMERIC back as the string PostgreSQL sent (always 8 places for NUMERIC(20,8)),
 * int8 as a bigint; timestamps are selected as the engine's microseconds (exch_ts_to_us, an int8).
 */
import { type FragmentSqlToken, sql } from 'slonik';
import type { OrderState } from '../engine/events.js';

const PADDED_DECIMAL = /^-?\d+\.\d+$/;

/**
 * A NUMERIC as the engine writes it: the shortest form ("1.50000000" -> "1.5", "2.00000000" -> "2",
 * "-0.00000000" -> "0"). Integers ("7") pass unchanged.
 */
export function canonDecimal(value: string): string {
  if (!PADDED_DECIMAL.test(value)) return value;
  const s = value.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/**
 * Any column value the way the engine would have it, without knowing the column: bigint -> number, a padded
 * decimal string -> its shortest form. Only for comparisons: a text column that happens to look like a
 * decimal (a client order id "1.50") is changed too; typed mappings (orderStateFromRow) do not do that.
 */
export function canonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'string') return value;
  return canonDecimal(value);
}

export function canonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = canonValue(v);
  return out;
}

/**
 * The `orders` columns under the engine's OrderState names (plus `seq`), for `SELECT ${ORDER_STATE_COLUMNS}
 * FROM orders ...`. orderStateFromRow maps such a row.
 */
export const ORDER_STATE_COLUMNS: FragmentSqlToken = sql.fragment`
  engine_id AS "orderId", exch_uuid_id(account_id) AS "accountId", client_order_id AS "clientOrderId",
  symbol, side, order_type AS "orderType", time_in_force AS "timeInForce", price, stop_price AS "stopPrice",
  quantity, filled_quantity AS "filledQuantity", remaining_quantity AS "remainingQuantity",
  cancelled_quantity AS "cancelledQuantity", average_price AS "averagePrice",
  filled_notional AS "filledNotional", status, post_only AS "postOnly", reduce_only AS "reduceOnly",
  leverage, commission_rate AS "commissionRate", rejection_reason AS "rejectionReason",
  cancel_reason AS "cancelReason", exch_ts_to_us(created_at) AS "createdAt",
  exch_ts_to_us(updated_at) AS "updatedAt", exch_ts_to_us(expired_at) AS "expiredAt", origin, seq`;

function int(value: unknown, field: string): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new TypeError(`orders.${field}: not an integer: ${String(value)}`);
  return n;
}

function intOrNull(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : int(value, field);
}

function dec(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new TypeError(`orders.${field}: not a decimal: ${String(value)}`);
  return canonDecimal(value);
}

function decOrNull(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : dec(value, field);
}

function textOrNull<T extends string>(value: unknown): T | null {
  return value === null || value === undefined ? null : (String(value) as T);
}

/**
 * One row selected with ORDER_STATE_COLUMNS as the engine's OrderState (every field, in the engine's field
 * order, nothing else) and the row's seq (the sequencer seq of the order's last persisted change).
 */
export function orderStateFromRow(row: Record<string, unknown>): { order: OrderState; seq: number } {
  const order: OrderState = {
    orderId: int(row.orderId, 'orderId'),
    accountId: int(row.accountId, 'accountId'),
    clientOrderId: textOrNull(row.clientOrderId),
    symbol: String(row.symbol),
    side: String(row.side) as OrderState['side'],
    orderType: String(row.orderType) as OrderState['orderType'],
    timeInForce: String(row.timeInForce) as OrderState['timeInForce'],
    price: decOrNull(row.price, 'price'),
    stopPrice: decOrNull(row.stopPrice, 'stopPrice'),
    quantity: dec(row.quantity, 'quantity'),
    filledQuantity: dec(row.filledQuantity, 'filledQuantity'),
    remainingQuantity: dec(row.remainingQuantity, 'remainingQuantity'),
    cancelledQuantity: dec(row.cancelledQuantity, 'cancelledQuantity'),
    averagePrice: decOrNull(row.averagePrice, 'averagePrice'),
    filledNotional: dec(row.filledNotional, 'filledNotional'),
    status: String(row.status) as OrderState['status'],
    postOnly: row.postOnly === true,
    reduceOnly: row.reduceOnly === true,
    leverage: dec(row.leverage, 'leverage'),
    commissionRate: dec(row.commissionRate, 'commissionRate'),
    rejectionReason: textOrNull<NonNullable<OrderState['rejectionReason']>>(row.rejectionReason),
    cancelReason: textOrNull<NonNullable<OrderState['cancelReason']>>(row.cancelReason),
    createdAt: int(row.createdAt, 'createdAt'),
    updatedAt: int(row.updatedAt, 'updatedAt'),
    expiredAt: intOrNull(row.expiredAt, 'expiredAt'),
    origin: String(row.origin) as OrderState['origin'],
  };
  return { order, seq: int(row.seq, 'seq') };
}
