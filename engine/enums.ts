/**
 * The engine's closed vocabularies. These exact strings travel in commands, events, the wire protocol and
 * the database's CHECK constraints, so a value added here must be added to sql/ as well.
 */

export const SIDES = ['BUY', 'SELL'] as const;
export type Side = (typeof SIDES)[number];

export const ORDER_TYPES = ['MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** DAY orders expire at the next `session_end` command (there is no clock inside the engine). */
export const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK', 'DAY'] as const;
export type TimeInForce = (typeof TIME_IN_FORCE)[number];

/**
 * PENDING_TRIGGER: a stop or stop-limit order waiting for its trigger price.
 * NEW / PARTIALLY_FILLED: live in the book. The rest are final.
 */
export const ORDER_STATUSES = [
  'PENDING_TRIGGER',
  'NEW',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const INSTRUMENT_KINDS = ['SPOT', 'PERPETUAL'] as const;
export type InstrumentKind = (typeof INSTRUMENT_KINDS)[number];

export const ACCOUNT_STATUSES = ['ACTIVE', 'SUSPENDED', 'CLOSED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export const POSITION_STATUSES = ['OPEN', 'CLOSED', 'LIQUIDATED'] as const;
export type PositionStatus = (typeof POSITION_STATUSES)[number];

/** Net position direction in one-way mode. FLAT only appears on a CLOSED/LIQUIDATED position. */
export const POSITION_SIDES = ['LONG', 'SHORT', 'FLAT'] as const;
export type PositionSide = (typeof POSITION_SIDES)[number];

export const LEDGER_ENTRY_TYPES = [
  'DEPOSIT',
  'WITHDRAWAL',
  'FEE',
  'PNL',
  'FUNDING',
  'LIQUIDATION',
  'INSURANCE',
  'TRADE', // spot: the quote amount paid or received for base bought or sold
] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

export const LIQUIDITY = ['MAKER', 'TAKER'] as const;
export type Liquidity = (typeof LIQUIDITY)[number];

/**
 * Every reason the engine refuses something. Stable: clients switch on these, and the database stores them
 * as `rejection_reason`. Never rename one; add new ones at the end.
 */
export const REJECT_REASONS = [
  // input shape
  'INVALID_COMMAND',
  'INVALID_PRICE',
  'INVALID_QUANTITY',
  'INVALID_AMOUNT',
  'INVALID_LEVERAGE',
  'PRICE_NOT_ON_TICK',
  'QUANTITY_NOT_ON_LOT',
  'QUANTITY_BELOW_MIN',
  'QUANTITY_ABOVE_MAX',
  'PRICE_OUT_OF_RANGE',
  'MISSING_PRICE',
  'MISSING_STOP_PRICE',
  'UNEXPECTED_PRICE',
  'INVALID_TIME_IN_FORCE',
  // references
  'UNKNOWN_INSTRUMENT',
  'UNKNOWN_ACCOUNT',
  'UNKNOWN_ORDER',
  'DUPLICATE_INSTRUMENT',
  'DUPLICATE_ACCOUNT',
  'DUPLICATE_CLIENT_ORDER_ID',
  'ORDER_NOT_LIVE',
  // matching
  'POST_ONLY_WOULD_TAKE',
  'FOK_NOT_FILLABLE',
  'NO_LIQUIDITY',
  'SELF_TRADE_PREVENTED',
  'AMEND_NO_CHANGE',
  'AMEND_BELOW_FILLED',
  // risk
  'ACCOUNT_NOT_ACTIVE',
  'INSUFFICIENT_MARGIN',
  'INSUFFICIENT_BALANCE',
  'LEVERAGE_TOO_HIGH',
  'REDUCE_ONLY_WOULD_INCREASE',
  'REDUCE_ONLY_NO_POSITION',
  'SHORT_NOT_ALLOWED',
  'WITHDRAWAL_EXCEEDS_AVAILABLE',
  'ACCOUNT_HAS_EXPOSURE',
  'NOT_PERPETUAL',
  'CURRENCY_MISMATCH',
  'NO_MARK_PRICE',
  'INVALID_INSTRUMENT',
  'DUPLICATE_INSURANCE_FUND',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Why a live order ended without filling, carried on the final order state.
 * CANCELLED_BY_USER and the like are not rejections: the order was accepted first.
 */
export const CANCEL_REASONS = [
  'USER',
  'CANCEL_ALL',
  'IOC_REMAINDER',
  'MARKET_REMAINDER',
  'SELF_TRADE_PREVENTED',
  'SESSION_END',
  'LIQUIDATION',
  'REDUCE_ONLY_CLIPPED',
  'ACCOUNT_SUSPENDED',
  'DISCONNECT',
  'CANCEL_ALL_AFTER',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];
