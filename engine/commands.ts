/**
 * Every command the engine takes. This module and events.ts are the one contract that the gateway, the
 * sequencer, the journal, the persistence workers and the tests share.
 *
 * A command is a plain JSON object: decimal values are strings (see numeric.ts), ids are positive integers
 * the engine assigned, and every command carries the `seq` and `ts` the sequencer stamped on it. The engine
 * has no clock and no randomness: `ts` (microseconds since the Unix epoch) is the only time it knows.
 */
import type { AccountStatus, InstrumentKind, OrderType, Side, TimeInForce } from './enums.js';

/** A decimal string with at most 12 integer and 8 fractional digits, e.g. "50000.5". */
export type Decimal = string;
/** Microseconds since the Unix epoch, stamped by the sequencer. */
export type Micros = number;

export interface Stamp {
  /** Gap-free, strictly increasing, assigned by the sequencer. */
  seq: number;
  ts: Micros;
}

// ---- operator commands -------------------------------------------------------------------------------

export interface CreateUser {
  type: 'create_user';
  name: string;
  email: string | null;
}

export interface CreateInstrument {
  type: 'create_instrument';
  symbol: string;
  kind: InstrumentKind;
  baseCurrency: string;
  quoteCurrency: string;
  tickSize: Decimal;
  lotSize: Decimal;
  minQuantity: Decimal;
  maxQuantity: Decimal;
  /** Whole number, 1..100. */
  maxLeverage: Decimal;
  makerFeeRate: Decimal;
  takerFeeRate: Decimal;
  /** Seconds between funding payments; 0 for spot. */
  fundingIntervalSeconds: number;
}

export interface OpenAccount {
  type: 'open_account';
  userId: number;
  currency: string;
  /** Whole number, 1..100. */
  maxLeverage: Decimal;
  marginEnabled: boolean;
  autoLiquidation: boolean;
  /** Margin ratio below which a margin call is raised; default "0.8". */
  marginCallThreshold?: Decimal;
  /** Margin ratio below which positions are liquidated; default "0.5". */
  liquidationThreshold?: Decimal;
  /**
   * Makes this account the insurance fund of its currency (at most one per currency): it takes over what
   * a liquidation cannot close in the book, and covers balances a liquidation leaves negative.
   */
  insuranceFund?: boolean;
}

export interface Deposit {
  type: 'deposit';
  accountId: number;
  amount: Decimal;
}

export interface Withdraw {
  type: 'withdraw';
  accountId: number;
  amount: Decimal;
}

export interface SetLeverageLimit {
  type: 'set_leverage_limit';
  accountId: number;
  maxLeverage: Decimal;
}

export interface SetAccountStatus {
  type: 'set_account_status';
  accountId: number;
  status: AccountStatus;
}

export interface MarkPrice {
  type: 'mark_price';
  symbol: string;
  price: Decimal;
}

/** Charges every open position of a perpetual `notional at mark * rate`; longs pay shorts when rate > 0. */
export interface Funding {
  type: 'funding';
  symbol: string;
  rate: Decimal; // may be negative
}

/** Expires every DAY order (all instruments). */
export interface SessionEnd {
  type: 'session_end';
}

/** Asks the engine to emit its state hash at this seq, so recovery can check itself against it. */
export interface Checkpoint {
  type: 'checkpoint';
}

// ---- trader commands ---------------------------------------------------------------------------------

export interface PlaceOrder {
  type: 'place_order';
  accountId: number;
  symbol: string;
  side: Side;
  orderType: OrderType;
  timeInForce: TimeInForce;
  quantity: Decimal;
  /** Required for LIMIT and STOP_LIMIT, absent otherwise. */
  price?: Decimal;
  /** Required for STOP and STOP_LIMIT: the last-trade price that triggers the order. */
  stopPrice?: Decimal;
  postOnly?: boolean;
  reduceOnly?: boolean;
  /** Unique per account among live orders. */
  clientOrderId?: string;
  /** Whole number; defaults to the account's max leverage capped by the instrument's. */
  leverage?: Decimal;
}

/** Identifies an order by engine id or by the account's client order id (exactly one of them). */
export type OrderRef =
  | { orderId: number; clientOrderId?: undefined }
  | { orderId?: undefined; clientOrderId: string };

export type AmendOrder = {
  type: 'amend_order';
  accountId: number;
  /** New limit price. Loses time priority. */
  price?: Decimal;
  /** New total quantity (filled part included). A decrease alone keeps time priority. */
  quantity?: Decimal;
} & OrderRef;

/**
 * Why a trader-side cancel was sent: by the trader (default), by the gateway's cancel-on-disconnect, or by
 * an account's dead-man's switch (`cancel_all_after`) running out. Recorded as the order's cancelReason
 * (USER / CANCEL_ALL, DISCONNECT, CANCEL_ALL_AFTER).
 */
export type CancelSource = 'TRADER' | 'DISCONNECT' | 'CANCEL_ALL_AFTER';

export type CancelOrder = {
  type: 'cancel_order';
  accountId: number;
  source?: CancelSource;
} & OrderRef;

export interface CancelAll {
  type: 'cancel_all';
  accountId: number;
  symbol?: string;
  source?: CancelSource;
}

/** Stop-loss / take-profit on a position: when the mark crosses one, a reduce-only market order closes it. */
export interface SetPositionTpSl {
  type: 'set_position_tpsl';
  accountId: number;
  symbol: string;
  /** null clears it; undefined leaves it as it is. */
  stopLoss?: Decimal | null;
  takeProfit?: Decimal | null;
}

export type CommandBody =
  | CreateUser
  | CreateInstrument
  | OpenAccount
  | Deposit
  | Withdraw
  | SetLeverageLimit
  | SetAccountStatus
  | MarkPrice
  | Funding
  | SessionEnd
  | Checkpoint
  | PlaceOrder
  | AmendOrder
  | CancelOrder
  | CancelAll
  | SetPositionTpSl;

export type CommandType = CommandBody['type'];

/** A command as the engine applies it and the journal stores it. */
export type Command = CommandBody & Stamp;

/** Who may issue each command: an operator (admin interface, CLI) or a trader (a gateway session). */
export const COMMAND_ISSUERS: Readonly<Record<CommandType, 'operator' | 'trader'>> = {
  create_user: 'operator',
  create_instrument: 'operator',
  open_account: 'operator',
  deposit: 'operator',
  withdraw: 'operator',
  set_leverage_limit: 'operator',
  set_account_status: 'operator',
  mark_price: 'operator',
  funding: 'operator',
  session_end: 'operator',
  checkpoint: 'operator',
  place_order: 'trader',
  amend_order: 'trader',
  cancel_order: 'trader',
  cancel_all: 'trader',
  set_position_tpsl: 'trader',
};

export const COMMAND_TYPES = Object.keys(COMMAND_ISSUERS) as readonly CommandType[];

/** Commands that only an operator may issue (never reachable from a trader's connection). */
export const OPERATOR_COMMANDS: ReadonlySet<CommandType> = new Set(
  COMMAND_TYPES.filter((t) => COMMAND_ISSUERS[t] === 'operator'),
);
