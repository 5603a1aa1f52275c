/**
 * The wire protocol's types, shared by the gateway and the typed client. docs/protocol.md is the prose
 * version of this file, with an example for every message.
 */
import type { Decimal, Micros } from '../../engine/commands.js';
import type { OrderType, Side, TimeInForce } from '../../engine/enums.js';
import type { AccountState, LedgerEntry, OrderState, PositionState } from '../../engine/events.js';
import type { ErrorBody } from './errors.js';

export type RequestId = number | string;

export interface Request<M extends Method = Method> {
  id: RequestId;
  method: M;
  params?: ParamsOf<M>;
}

/** Server receive and send times of the request, in microseconds since the Unix epoch. */
export interface ReplyTimes {
  usIn: Micros;
  usOut: Micros;
}

export interface SuccessReply<R = unknown> extends ReplyTimes {
  id: RequestId;
  result: R;
}

export interface ErrorReply extends ReplyTimes {
  /** null when the request's id could not be read (malformed JSON, a message over the size limit). */
  id: RequestId | null;
  error: ErrorBody;
}

export type Reply<R = unknown> = SuccessReply<R> | ErrorReply;

// ---- method parameters -------------------------------------------------------------------------------

export interface AuthParams {
  apiKey: string;
  /** Milliseconds since the Unix epoch, as a number. */
  timestamp: number;
  /** 8..64 characters of [A-Za-z0-9_-]; never reused with the same key inside the window. */
  nonce: string;
  /** hex HMAC-SHA256, see sign.ts. */
  signature: string;
}

/** Every account-scoped method takes an optional accountId: default the user's first account. */
export interface AccountScoped {
  accountId?: number;
}

export interface PlaceParams extends AccountScoped {
  symbol: string;
  side: Side;
  orderType: OrderType;
  /** Default GTC. */
  timeInForce?: TimeInForce;
  quantity: Decimal;
  price?: Decimal;
  stopPrice?: Decimal;
  postOnly?: boolean;
  reduceOnly?: boolean;
  clientOrderId?: string;
  leverage?: Decimal;
}

export interface OrderRefParams extends AccountScoped {
  orderId?: number;
  clientOrderId?: string;
}

export interface AmendParams extends OrderRefParams {
  price?: Decimal;
  quantity?: Decimal;
}

export interface CancelAllParams extends AccountScoped {
  symbol?: string;
}

export interface OpenOrdersParams extends AccountScoped {
  symbol?: string;
}

export interface RecentFillsParams extends AccountScoped {
  /** At most this many, newest last. Default 100, max 1000. */
  limit?: number;
}

export type Channel = 'private' | `book.${string}` | `trades.${string}` | `ticker.${string}`;

export interface SubscribeParams extends AccountScoped {
  channel: string;
  /** private: resume after this stream seq (served from the buffer when it still reaches back). */
  fromSeq?: number;
  /** private: the epoch the client's fromSeq belongs to (streams restart with a new epoch on restart). */
  epoch?: string;
  /** book: number of levels per side in the snapshot; default all. */
  depth?: number;
}

export interface UnsubscribeParams extends AccountScoped {
  channel: string;
}

export interface CancelOnDisconnectParams {
  enabled: boolean;
  /** connection (default): only orders placed over this connection; account: every order of the accounts. */
  scope?: 'connection' | 'account';
}

/** Up to MAX_BATCH_ORDERS orders for one account, placed back to back (each its own command). */
export interface PlaceBatchParams extends AccountScoped {
  /** Each as `place` takes it, without `accountId` (the batch's applies). */
  orders: PlaceParams[];
}

export const MAX_BATCH_ORDERS = 20;

/**
 * A position's stop-loss and take-profit: when the mark crosses one, a reduce-only market order closes the
 * position. A price sets it, null clears it, an absent field leaves it as it is (at least one is given).
 */
export interface SetPositionTpSlParams extends AccountScoped {
  symbol: string;
  stopLoss?: Decimal | null;
  takeProfit?: Decimal | null;
}

/** The account's dead-man's switch: all its orders are cancelled unless this is called again in time. */
export interface CancelAllAfterParams extends AccountScoped {
  /** Milliseconds from now, CANCEL_ALL_AFTER_MIN_MS to CANCEL_ALL_AFTER_MAX_MS; 0 disarms. */
  timeoutMs: number;
}

/** The shortest and longest dead-man's switch timeouts (0 disarms). */
export const CANCEL_ALL_AFTER_MIN_MS = 1000;
export const CANCEL_ALL_AFTER_MAX_MS = 86_400_000;

export interface ParamsByMethod {
  auth: AuthParams;
  place: PlaceParams;
  place_batch: PlaceBatchParams;
  amend: AmendParams;
  cancel: OrderRefParams;
  cancel_all: CancelAllParams;
  open_orders: OpenOrdersParams;
  order_status: OrderRefParams;
  positions: AccountScoped;
  account: AccountScoped;
  recent_fills: RecentFillsParams;
  subscribe: SubscribeParams;
  unsubscribe: UnsubscribeParams;
  cancel_on_disconnect: CancelOnDisconnectParams;
  cancel_all_after: CancelAllAfterParams;
  set_position_tpsl: SetPositionTpSlParams;
  rate_limits: AccountScoped;
  time: Record<string, never>;
  ping: Record<string, never>;
}

export type Method = keyof ParamsByMethod;
export type ParamsOf<M extends Method> = ParamsByMethod[M];

export const METHODS: readonly Method[] = [
  'auth',
  'place',
  'place_batch',
  'amend',
  'cancel',
  'cancel_all',
  'open_orders',
  'order_status',
  'positions',
  'account',
  'recent_fills',
  'subscribe',
  'unsubscribe',
  'cancel_on_disconnect',
  'cancel_all_after',
  'set_position_tpsl',
  'rate_limits',
  'time',
  'ping',
];

// ---- results ------------------------------------------------------------------------------------------

/** A fill from one account's point of view. `tradeId` + `side` de-duplicates. */
export interface Fill {
  tradeId: number;
  orderId: number;
  clientOrderId: string | null;
  symbol: string;
  side: Side;
  price: Decimal;
  quantity: Decimal;
  liquidity: 'MAKER' | 'TAKER';
  fee: Decimal;
  feeRate: Decimal;
  realizedPnl: Decimal;
  /** Engine seq and ts of the command that caused the fill. */
  seq: number;
  ts: Micros;
}

/** The answer to place/amend/cancel: the order's state after the command, and its immediate fills. */
export interface OrderAck {
  order: OrderState;
  fills: Fill[];
  seq: number;
  ts: Micros;
}

/** One answer per order of a place_batch, in its order: what `place` would have answered for it. */
export interface PlaceBatchResult {
  results: Array<{ result: OrderAck } | { error: ErrorBody }>;
}

export interface CancelAllResult {
  cancelled: OrderState[];
  seq: number;
  ts: Micros;
}

export interface AuthResult {
  userId: number;
  accountIds: number[];
}

export interface TimeResult {
  /** Microseconds since the Unix epoch. */
  serverTime: Micros;
}

export interface SubscribeResult {
  channel: string;
}

export interface OrdersResult {
  orders: OrderState[];
  /** Engine seq the answer is consistent with. */
  seq: number;
}

export interface OrderStatusResult {
  order: OrderState;
  /**
   * `memory`: the gateway's released state; `seq` is the released engine seq the answer is consistent with.
   * `archive`: the order's persisted row (an order the gateway no longer remembers: finished long ago, or
   * before a restart); `seq` is the row's seq, the engine seq of its last persisted change. The database
   * lags the engine by the persistence pipeline, so an archived answer can be older than the order's state.
   */
  source: 'memory' | 'archive';
  seq: number;
}

/** One token bucket as it stands: whole units left, its burst, and what it regains per second. */
export interface RateBucket {
  remaining: number;
  burst: number;
  perSecond: number;
}

/**
 * The rate budget this request left: the connection's bucket and the account's (every request pays both),
 * and what each kind of request costs, in units.
 */
export interface RateLimitsResult {
  connection: RateBucket;
  account: RateBucket & { accountId: number };
  costs: Record<string, number>;
}

/** The position after the command, with the command's engine seq and time. */
export interface PositionResult {
  position: PositionState;
  seq: number;
  ts: Micros;
}

export interface PositionsResult {
  positions: PositionState[];
  seq: number;
}

export interface AccountResult {
  account: AccountState;
  seq: number;
}

export interface FillsResult {
  fills: Fill[];
  seq: number;
}

/** The switch as it now stands: armed until `triggerAt` (server time, µs), or disarmed (`timeoutMs` 0). */
export interface CancelAllAfterResult {
  accountId: number;
  timeoutMs: number;
  triggerAt: number | null;
}

export interface ResultByMethod {
  auth: AuthResult;
  place: OrderAck;
  place_batch: PlaceBatchResult;
  amend: OrderAck;
  cancel: OrderAck;
  cancel_all: CancelAllResult;
  open_orders: OrdersResult;
  order_status: OrderStatusResult;
  positions: PositionsResult;
  account: AccountResult;
  recent_fills: FillsResult;
  subscribe: SubscribeResult;
  unsubscribe: SubscribeResult;
  cancel_on_disconnect: { enabled: boolean; scope: 'connection' | 'account' };
  cancel_all_after: CancelAllAfterResult;
  set_position_tpsl: PositionResult;
  rate_limits: RateLimitsResult;
  time: TimeResult;
  ping: TimeResult;
}

export type ResultOf<M extends Method> = ResultByMethod[M];

// ---- stream messages ----------------------------------------------------------------------------------

/**
 * One message of an account's private stream: everything one engine command changed for that account.
 * `seq` is gap-free per account within an `epoch`.
 */
export interface PrivateUpdate {
  channel: 'private';
  type: 'update';
  accountId: number;
  epoch: string;
  seq: number;
  engineSeq: number;
  ts: Micros;
  orders: OrderState[];
  fills: Fill[];
  positions: PositionState[];
  account: AccountState | null;
  ledger: LedgerEntry[];
}

/** Sent when a private subscription cannot resume from the buffer: the state as of `seq`. */
export interface PrivateSnapshot {
  channel: 'private';
  type: 'snapshot';
  accountId: number;
  epoch: string;
  /** The stream seq this snapshot is consistent with; the next update has seq + 1. */
  seq: number;
  engineSeq: number;
  openOrders: OrderState[];
  positions: PositionState[];
  account: AccountState | null;
}

/** [price, quantity]; quantity "0" removes the level. */
export type Level = [Decimal, Decimal];

export interface BookSnapshotMessage {
  channel: `book.${string}`;
  type: 'snapshot';
  symbol: string;
  seq: number;
  engineSeq: number;
  bids: Level[];
  asks: Level[];
  /** CRC-32 of the book's best levels after this message (src/protocol/checksum.ts). */
  checksum: number;
}

export interface BookDeltaMessage {
  channel: `book.${string}`;
  type: 'delta';
  symbol: string;
  seq: number;
  prevSeq: number;
  engineSeq: number;
  ts: Micros;
  bids: Level[];
  asks: Level[];
  /** CRC-32 of the book's best levels after this delta (src/protocol/checksum.ts). */
  checksum: number;
}

export interface PublicTrade {
  tradeId: number;
  price: Decimal;
  quantity: Decimal;
  takerSide: Side;
}

export interface TradesMessage {
  channel: `trades.${string}`;
  type: 'trades';
  symbol: string;
  seq: number;
  engineSeq: number;
  ts: Micros;
  trades: PublicTrade[];
}

export interface TickerMessage {
  channel: `ticker.${string}`;
  type: 'ticker';
  symbol: string;
  seq: number;
  engineSeq: number;
  bestBid: Decimal | null;
  bestAsk: Decimal | null;
  lastPrice: Decimal | null;
  markPrice: Decimal | null;
}

export type StreamMessage =
  | PrivateUpdate
  | PrivateSnapshot
  | BookSnapshotMessage
  | BookDeltaMessage
  | TradesMessage
  | TickerMessage;

export type ServerMessage = Reply | StreamMessage;
