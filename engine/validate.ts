/**
 * Shape checks of trader commands, before anything is looked up or changed. Each failure maps to one stable
 * reason. The checks are written out by hand (not a schema library) because they run on the hot path.
 */
import type { PlaceOrder } from './commands.js';
import { ORDER_TYPES, type RejectReason, TIME_IN_FORCE } from './enums.js';
import { type Instrument, MAX_LEVERAGE } from './instrument.js';

/** Longest client order id accepted (and the database column's width). */
export const MAX_CLIENT_ORDER_ID = 64;
const CLIENT_ID = /^[\x21-\x7e]{1,64}$/;

export interface PlaceFields {
  priceTicks: number;
  stopTicks: number;
  quantityLots: number;
  /** 0 when the command names none (the risk core picks the default). */
  leverage: number;
}

const scratch: PlaceFields = { priceTicks: 0, stopTicks: 0, quantityLots: 0, leverage: 0 };

/**
 * Validates a place_order against its instrument. Returns the parsed fields in a reused object (copy them
 * before the next call) or the reason to refuse.
 */
export function validatePlace(cmd: PlaceOrder, ins: Instrument): PlaceFields | RejectReason {
  // The common values are compared first; `includes` on the vocabularies is the complete check.
  const side = cmd.side;
  if (side !== 'BUY' && side !== 'SELL') return 'INVALID_COMMAND';
  const t = cmd.orderType;
  if (t !== 'LIMIT' && t !== 'MARKET' && !ORDER_TYPES.includes(t)) return 'INVALID_COMMAND';
  const tif = cmd.timeInForce;
  if (tif !== 'GTC' && tif !== 'IOC' && !TIME_IN_FORCE.includes(tif)) return 'INVALID_TIME_IN_FORCE';
  if (cmd.postOnly !== undefined && typeof cmd.postOnly !== 'boolean') return 'INVALID_COMMAND';
  if (cmd.reduceOnly !== undefined && typeof cmd.reduceOnly !== 'boolean') return 'INVALID_COMMAND';
  if (
    cmd.clientOrderId !== undefined &&
    (typeof cmd.clientOrderId !== 'string' || !CLIENT_ID.test(cmd.clientOrderId))
  )
    return 'INVALID_COMMAND';

  const type = cmd.orderType;
  const hasLimit = type === 'LIMIT' || type === 'STOP_LIMIT';
  const hasStop = type === 'STOP' || type === 'STOP_LIMIT';
  let priceTicks = 0;
  if (hasLimit) {
    if (cmd.price === undefined) return 'MISSING_PRICE';
    const p = ins.priceToTicks(cmd.price);
    if (typeof p === 'string') return p;
    priceTicks = p;
  } else if (cmd.price !== undefined) return 'UNEXPECTED_PRICE';
  let stopTicks = 0;
  if (hasStop) {
    if (cmd.stopPrice === undefined) return 'MISSING_STOP_PRICE';
    const s = ins.priceToTicks(cmd.stopPrice);
    if (typeof s === 'string') return s;
    stopTicks = s;
  } else if (cmd.stopPrice !== undefined) return 'UNEXPECTED_PRICE';

  // Post-only makes sense only for an order that may rest.
  if (cmd.postOnly === true && (!hasLimit || cmd.timeInForce === 'IOC' || cmd.timeInForce === 'FOK'))
    return 'INVALID_TIME_IN_FORCE';

  const q = ins.qtyToLots(cmd.quantity);
  if (typeof q === 'string') return q;

  let leverage = 0;
  if (cmd.leverage !== undefined) {
    leverage = parseLeverage(cmd.leverage);
    if (leverage === 0) return 'INVALID_LEVERAGE';
  }
  scratch.priceTicks = priceTicks;
  scratch.stopTicks = stopTicks;
  scratch.quantityLots = q;
  scratch.leverage = leverage;
  return scratch;
}

/** A whole-number leverage string "1".."100", or 0 if it is not one. */
export function parseLeverage(value: unknown): number {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,2}$/.test(value)) return 0;
  const n = Number(value);
  return n <= MAX_LEVERAGE ? n : 0;
}

export function isPositiveId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export function isClientOrderId(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_ID.test(value);
}
