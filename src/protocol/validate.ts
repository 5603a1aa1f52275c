/**
 * Request validation: every way a request can be malformed ends here in a ParamError naming the field and
 * what was expected, which the gateway answers as INVALID_PARAMS. Runs once per request, so it is written
 * for speed: no schema library, no allocation on the success path beyond the typed params object.
 *
 * Decimals must be strings (numeric.ts grammar). A JSON number for a price or a quantity is refused: it has
 * already been through binary floating point in the sender's JSON encoder, and 0.1 + 0.2 is not 0.3.
 */

import { ORDER_TYPES, SIDES, TIME_IN_FORCE } from '../../engine/enums.js';
import { MAX_UNITS, parseUnits } from '../../engine/numeric.js';
import {
  type AccountScoped,
  type AmendParams,
  type AuthParams,
  CANCEL_ALL_AFTER_MAX_MS,
  CANCEL_ALL_AFTER_MIN_MS,
  type CancelAllAfterParams,
  type CancelAllParams,
  type CancelOnDisconnectParams,
  MAX_BATCH_ORDERS,
  type Method,
  type OpenOrdersParams,
  type OrderRefParams,
  type PlaceBatchParams,
  type PlaceParams,
  type RecentFillsParams,
  type SetPositionTpSlParams,
  type SubscribeParams,
  type UnsubscribeParams,
} from './types.js';

export class ParamError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
  ) {
    super(`${field}: expected ${expected}`);
  }
}

type Obj = Record<string, unknown>;

const CLIENT_ORDER_ID = /^[A-Za-z0-9_:.-]{1,64}$/;
const SYMBOL = /^[A-Za-z0-9_./-]{1,32}$/;
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const API_KEY = /^[A-Za-z0-9_-]{8,128}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const SIDE_SET: ReadonlySet<string> = new Set(SIDES);
const TYPE_SET: ReadonlySet<string> = new Set(ORDER_TYPES);
const TIF_SET: ReadonlySet<string> = new Set(TIME_IN_FORCE);

function obj(params: unknown): Obj {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new ParamError('params', 'an object');
  return params as Obj;
}

/** Unknown fields are refused: a typo ("qty") must not silently become a default. */
function onlyKeys(p: Obj, allowed: ReadonlySet<string>): void {
  for (const k in p) if (!allowed.has(k)) throw new ParamError(k, 'no such parameter');
}

/** A positive decimal string, within NUMERIC(20,8). */
export function positiveDecimal(p: Obj, field: string, required: boolean): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (required) throw new ParamError(field, 'a decimal string (required)');
    return undefined;
  }
  if (typeof v === 'number') throw new ParamError(field, 'a decimal string such as "1.5", not a JSON number');
  if (typeof v !== 'string') throw new ParamError(field, 'a decimal string');
  const units = parseUnits(v, true);
  if (units === undefined) {
    throw new ParamError(field, 'a decimal string with at most 12 integer and 8 fractional digits');
  }
  if (units <= 0n) throw new ParamError(field, 'a value greater than zero');
  if (units > MAX_UNITS) throw new ParamError(field, 'a value that fits NUMERIC(20,8)');
  return v;
}

function positiveInt(
  p: Obj,
  field: string,
  required: boolean,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (required) throw new ParamError(field, 'a positive integer (required)');
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) {
    throw new ParamError(field, `a positive integer up to ${max}`);
  }
  return v;
}

function bool(p: Obj, field: string): boolean | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ParamError(field, 'true or false');
  return v;
}

function str(p: Obj, field: string, re: RegExp, what: string, required: boolean): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (required) throw new ParamError(field, `${what} (required)`);
    return undefined;
  }
  if (typeof v !== 'string' || !re.test(v)) throw new ParamError(field, what);
  return v;
}

function oneOf<T extends string>(
  p: Obj,
  field: string,
  set: ReadonlySet<string>,
  required: boolean,
): T | undefined {
  const v = p[field];
  if (v === undefined || v === null) {
    if (required) throw new ParamError(field, `one of ${[...set].join(', ')} (required)`);
    return undefined;
  }
  if (typeof v !== 'string' || !set.has(v)) throw new ParamError(field, `one of ${[...set].join(', ')}`);
  return v as T;
}

const ACCOUNT_ONLY = new Set(['accountId']);
const PLACE_KEYS = new Set([
  'accountId',
  'symbol',
  'side',
  'orderType',
  'timeInForce',
  'quantity',
  'price',
  'stopPrice',
  'postOnly',
  'reduceOnly',
  'clientOrderId',
  'leverage',
]);
const REF_KEYS = new Set(['accountId', 'orderId', 'clientOrderId']);
const AMEND_KEYS = new Set(['accountId', 'orderId', 'clientOrderId', 'price', 'quantity']);
const SYMBOL_KEYS = new Set(['accountId', 'symbol']);
const FILLS_KEYS = new Set(['accountId', 'limit']);
const SUB_KEYS = new Set(['accountId', 'channel', 'fromSeq', 'epoch', 'depth']);
const UNSUB_KEYS = new Set(['accountId', 'channel']);
const AUTH_KEYS = new Set(['apiKey', 'timestamp', 'nonce', 'signature']);
const COD_KEYS = new Set(['enabled', 'scope']);
const CAA_KEYS = new Set(['accountId', 'timeoutMs']);
const TPSL_KEYS = new Set(['accountId', 'symbol', 'stopLoss', 'takeProfit']);
const NO_KEYS = new Set<string>();

function accountScoped(p: Obj): AccountScoped {
  return { accountId: positiveInt(p, 'accountId', false) };
}

export function validatePlace(params: unknown): PlaceParams {
  const p = obj(params);
  onlyKeys(p, PLACE_KEYS);
  const orderType = oneOf<PlaceParams['orderType']>(p, 'orderType', TYPE_SET, true)!;
  const price = positiveDecimal(p, 'price', orderType === 'LIMIT' || orderType === 'STOP_LIMIT');
  if (price !== undefined && (orderType === 'MARKET' || orderType === 'STOP')) {
    throw new ParamError('price', `absent for ${orderType} orders`);
  }
  const stopPrice = positiveDecimal(p, 'stopPrice', orderType === 'STOP' || orderType === 'STOP_LIMIT');
  if (stopPrice !== undefined && (orderType === 'MARKET' || orderType === 'LIMIT')) {
    throw new ParamError('stopPrice', `absent for ${orderType} orders`);
  }
  return {
    accountId: positiveInt(p, 'accountId', false),
    symbol: str(p, 'symbol', SYMBOL, 'an instrument symbol', true)!,
    side: oneOf<PlaceParams['side']>(p, 'side', SIDE_SET, true)!,
    orderType,
    timeInForce: oneOf<NonNullable<PlaceParams['timeInForce']>>(p, 'timeInForce', TIF_SET, false) ?? 'GTC',
    quantity: positiveDecimal(p, 'quantity', true)!,
    price,
    stopPrice,
    postOnly: bool(p, 'postOnly'),
    reduceOnly: bool(p, 'reduceOnly'),
    clientOrderId: str(p, 'clientOrderId', CLIENT_ORDER_ID, '1-64 characters of [A-Za-z0-9_:.-]', false),
    leverage: positiveDecimal(p, 'leverage', false),
  };
}

const BATCH_KEYS = new Set(['accountId', 'orders']);

/** place_batch: every order valid as `place` takes it (a field in error is named `orders[i].field`). */
export function validatePlaceBatch(params: unknown): PlaceBatchParams {
  const p = obj(params);
  onlyKeys(p, BATCH_KEYS);
  const orders = p.orders;
  if (!Array.isArray(orders) || orders.length === 0 || orders.length > MAX_BATCH_ORDERS) {
    throw new ParamError('orders', `an array of 1 to ${MAX_BATCH_ORDERS} orders (required)`);
  }
  const valid = orders.map((o, i) => {
    try {
      const v = validatePlace(o);
      if (v.accountId !== undefined) throw new ParamError('accountId', 'absent: set accountId on the batch');
      return v;
    } catch (e) {
      if (e instanceof ParamError) throw new ParamError(`orders[${i}].${e.field}`, e.expected);
      throw e;
    }
  });
  return { accountId: positiveInt(p, 'accountId', false), orders: valid };
}

function orderRef(p: Obj): OrderRefParams {
  const orderId = positiveInt(p, 'orderId', false);
  const clientOrderId = str(p, 'clientOrderId', CLIENT_ORDER_ID, '1-64 characters of [A-Za-z0-9_:.-]', false);
  if ((orderId === undefined) === (clientOrderId === undefined)) {
    throw new ParamError('orderId', 'exactly one of orderId and clientOrderId');
  }
  return { accountId: positiveInt(p, 'accountId', false), orderId, clientOrderId };
}

export function validateOrderRef(params: unknown): OrderRefParams {
  const p = obj(params);
  onlyKeys(p, REF_KEYS);
  return orderRef(p);
}

export function validateAmend(params: unknown): AmendParams {
  const p = obj(params);
  onlyKeys(p, AMEND_KEYS);
  const ref: AmendParams = orderRef(p);
  ref.price = positiveDecimal(p, 'price', false);
  ref.quantity = positiveDecimal(p, 'quantity', false);
  if (ref.price === undefined && ref.quantity === undefined) {
    throw new ParamError('price', 'price and/or quantity');
  }
  return ref;
}

export function validateSymbolScoped(params: unknown): CancelAllParams & OpenOrdersParams {
  const p = obj(params);
  onlyKeys(p, SYMBOL_KEYS);
  return {
    accountId: positiveInt(p, 'accountId', false),
    symbol: str(p, 'symbol', SYMBOL, 'an instrument symbol', false),
  };
}

export function validateAccountScoped(params: unknown): AccountScoped {
  const p = obj(params);
  onlyKeys(p, ACCOUNT_ONLY);
  return accountScoped(p);
}

export function validateRecentFills(params: unknown): RecentFillsParams {
  const p = obj(params);
  onlyKeys(p, FILLS_KEYS);
  return { accountId: positiveInt(p, 'accountId', false), limit: positiveInt(p, 'limit', false, 1000) };
}

export function validateSubscribe(params: unknown): SubscribeParams {
  const p = obj(params);
  onlyKeys(p, SUB_KEYS);
  const channel = p.channel;
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 64) {
    throw new ParamError('channel', 'a channel name such as "private" or "book.BTC-USD"');
  }
  const fromSeq = p.fromSeq;
  if (fromSeq !== undefined && (typeof fromSeq !== 'number' || !Number.isInteger(fromSeq) || fromSeq < 0)) {
    throw new ParamError('fromSeq', 'a non-negative integer');
  }
  return {
    accountId: positiveInt(p, 'accountId', false),
    channel,
    fromSeq: fromSeq as number | undefined,
    epoch: str(p, 'epoch', /^[A-Za-z0-9_-]{1,64}$/, 'the epoch of an earlier stream message', false),
    depth: positiveInt(p, 'depth', false, 10_000),
  };
}

export function validateUnsubscribe(params: unknown): UnsubscribeParams {
  const p = obj(params);
  onlyKeys(p, UNSUB_KEYS);
  const channel = p.channel;
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 64) {
    throw new ParamError('channel', 'a channel name');
  }
  return { accountId: positiveInt(p, 'accountId', false), channel };
}

export function validateAuth(params: unknown): AuthParams {
  const p = obj(params);
  onlyKeys(p, AUTH_KEYS);
  const timestamp = p.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw new ParamError('timestamp', 'milliseconds since the Unix epoch, an integer');
  }
  return {
    apiKey: str(p, 'apiKey', API_KEY, 'an API key', true)!,
    timestamp,
    nonce: str(p, 'nonce', NONCE, '8-64 characters of [A-Za-z0-9_-]', true)!,
    signature: str(p, 'signature', HEX64, '64 lowercase hex digits (HMAC-SHA256)', true)!,
  };
}

export function validateCancelOnDisconnect(params: unknown): CancelOnDisconnectParams {
  const p = obj(params);
  onlyKeys(p, COD_KEYS);
  const enabled = bool(p, 'enabled');
  if (enabled === undefined) throw new ParamError('enabled', 'true or false (required)');
  const scope = oneOf<'connection' | 'account'>(p, 'scope', new Set(['connection', 'account']), false);
  return { enabled, scope: scope ?? 'connection' };
}

export function validateCancelAllAfter(params: unknown): CancelAllAfterParams {
  const p = obj(params);
  onlyKeys(p, CAA_KEYS);
  const t = p.timeoutMs;
  if (
    typeof t !== 'number' ||
    !Number.isInteger(t) ||
    (t !== 0 && (t < CANCEL_ALL_AFTER_MIN_MS || t > CANCEL_ALL_AFTER_MAX_MS))
  ) {
    throw new ParamError(
      'timeoutMs',
      `0 (disarm) or an integer from ${CANCEL_ALL_AFTER_MIN_MS} to ${CANCEL_ALL_AFTER_MAX_MS} (required)`,
    );
  }
  return { ...accountScoped(p), timeoutMs: t };
}

export function validateSetPositionTpSl(params: unknown): SetPositionTpSlParams {
  const p = obj(params);
  onlyKeys(p, TPSL_KEYS);
  const out: SetPositionTpSlParams = {
    accountId: positiveInt(p, 'accountId', false),
    symbol: str(p, 'symbol', SYMBOL, 'an instrument symbol', true)!,
  };
  for (const field of ['stopLoss', 'takeProfit'] as const) {
    if (!(field in p)) continue;
    // null clears the level: positiveDecimal reads null as absent, so it is told apart here.
    out[field] = p[field] === null ? null : positiveDecimal(p, field, true);
  }
  if (out.stopLoss === undefined && out.takeProfit === undefined) {
    throw new ParamError('stopLoss', 'stopLoss or takeProfit (a decimal string, or null to clear it)');
  }
  return out;
}

export function validateEmpty(params: unknown): Record<string, never> {
  const p = obj(params);
  onlyKeys(p, NO_KEYS);
  return {};
}

/** Methods whose validator is generic enough to be looked up by name. */
export const VALIDATORS: { [M in Method]: (params: unknown) => unknown } = {
  auth: validateAuth,
  place: validatePlace,
  place_batch: validatePlaceBatch,
  amend: validateAmend,
  cancel: validateOrderRef,
  cancel_all: validateSymbolScoped,
  open_orders: validateSymbolScoped,
  order_status: validateOrderRef,
  positions: validateAccountScoped,
  account: validateAccountScoped,
  recent_fills: validateRecentFills,
  subscribe: validateSubscribe,
  unsubscribe: validateUnsubscribe,
  cancel_on_disconnect: validateCancelOnDisconnect,
  cancel_all_after: validateCancelAllAfter,
  set_position_tpsl: validateSetPositionTpSl,
  rate_limits: validateAccountScoped,
  time: validateEmpty,
  ping: validateEmpty,
};
