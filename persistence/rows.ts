/**
 * Turns one Batch into the rows of every table, column by column. Pure: no database, no clock.
 *
 * State events (user, instrument, account, order, position) keep only the newest per entity, since one
 * upsert statement may not touch a row twice; rows are sorted by key so that concurrent workers lock rows
 * in the same order and cannot deadlock each other.
 */
import type { Side } from '../engine/enums.js';
import type {
  AccountEvent,
  EngineEvent,
  InstrumentCreatedEvent,
  LedgerEvent,
  OrderEvent,
  PositionEvent,
  StateHashEvent,
  TradeEvent,
  UserCreatedEvent,
} from '../engine/events.js';
import type { Batch } from '../src/pipeline/types.js';
import { ColumnSet, type ColumnSpec } from './columns.js';
import { toUuid } from './ids.js';

export const USER_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['name', 'text'],
  ['email', 'text'],
  ['created_at', 'us'],
  ['seq', 'int8'],
];

export const INSTRUMENT_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['symbol', 'text'],
  ['kind', 'text'],
  ['base_currency', 'text'],
  ['quote_currency', 'text'],
  ['tick_size', 'numeric'],
  ['lot_size', 'numeric'],
  ['min_quantity', 'numeric'],
  ['max_quantity', 'numeric'],
  ['max_leverage', 'numeric'],
  ['maker_fee_rate', 'numeric'],
  ['taker_fee_rate', 'numeric'],
  ['funding_interval_seconds', 'int4'],
  ['created_at', 'us'],
  ['seq', 'int8'],
];

export const ACCOUNT_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['user_id', 'uuid'],
  ['currency', 'text'],
  ['balance', 'numeric'],
  ['equity', 'numeric'],
  ['margin_used', 'numeric'],
  ['order_margin', 'numeric'],
  ['margin_available', 'numeric'],
  ['realized_pnl', 'numeric'],
  ['unrealized_pnl', 'numeric'],
  ['max_leverage', 'numeric'],
  ['margin_call_threshold', 'numeric'],
  ['liquidation_threshold', 'numeric'],
  ['margin_enabled', 'bool'],
  ['auto_liquidation', 'bool'],
  ['status', 'text'],
  ['created_at', 'us'],
  ['updated_at', 'us'],
  ['seq', 'int8'],
];

export const ORDER_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['account_id', 'uuid'],
  ['instrument_id', 'uuid'],
  ['symbol', 'text'],
  ['client_order_id', 'text'],
  ['side', 'text'],
  ['order_type', 'text'],
  ['time_in_force', 'text'],
  ['price', 'numeric'],
  ['stop_price', 'numeric'],
  ['quantity', 'numeric'],
  ['filled_quantity', 'numeric'],
  ['remaining_quantity', 'numeric'],
  ['cancelled_quantity', 'numeric'],
  ['average_price', 'numeric'],
  ['filled_notional', 'numeric'],
  ['status', 'text'],
  ['post_only', 'bool'],
  ['reduce_only', 'bool'],
  ['leverage', 'numeric'],
  ['commission_rate', 'numeric'],
  ['rejection_reason', 'text'],
  ['cancel_reason', 'text'],
  ['origin', 'text'],
  ['created_at', 'us'],
  ['updated_at', 'us'],
  ['expired_at', 'us'],
  ['seq', 'int8'],
];

export const POSITION_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['account_id', 'uuid'],
  ['instrument_id', 'uuid'],
  ['symbol', 'text'],
  ['side', 'text'],
  ['quantity', 'numeric'],
  ['entry_price', 'numeric'],
  ['mark_price', 'numeric'],
  ['realized_pnl', 'numeric'],
  ['unrealized_pnl', 'numeric'],
  ['leverage', 'numeric'],
  ['margin', 'numeric'],
  ['liquidation_price', 'numeric'],
  ['stop_loss', 'numeric'],
  ['take_profit', 'numeric'],
  ['trade_count', 'int4'],
  ['volume', 'numeric'],
  ['fees', 'numeric'],
  ['funding', 'numeric'],
  ['status', 'text'],
  ['opened_at', 'us'],
  ['closed_at', 'us'],
  ['updated_at', 'us'],
  ['seq', 'int8'],
];

export const TRADE_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['trade_id', 'int8'],
  ['account_id', 'uuid'],
  ['order_id', 'uuid'],
  ['instrument_id', 'uuid'],
  ['symbol', 'text'],
  ['side', 'text'],
  ['liquidity', 'text'],
  ['price', 'numeric'],
  ['quantity', 'numeric'],
  ['commission', 'numeric'],
  ['commission_rate', 'numeric'],
  ['realized_pnl', 'numeric'],
  ['counterparty_account_id', 'uuid'],
  ['counterparty_order_id', 'uuid'],
  ['executed_at', 'us'],
  ['seq', 'int8'],
];

export const LEDGER_COLUMNS: ColumnSpec = [
  ['id', 'uuid'],
  ['engine_id', 'int8'],
  ['account_id', 'uuid'],
  ['entry_type', 'text'],
  ['amount', 'numeric'],
  ['balance_before', 'numeric'],
  ['balance_after', 'numeric'],
  ['currency', 'text'],
  ['order_id', 'uuid'],
  ['trade_id', 'int8'],
  ['position_id', 'uuid'],
  ['created_at', 'us'],
  ['seq', 'int8'],
];

export const JOURNAL_COLUMNS: ColumnSpec = [
  ['seq', 'int8'],
  ['command_type', 'text'],
  ['command', 'json'],
  ['ts', 'us'],
];

export const STATE_HASH_COLUMNS: ColumnSpec = [
  ['seq', 'int8'],
  ['hash', 'text'],
  ['ts', 'us'],
];

export interface BatchRows {
  users: ColumnSet;
  instruments: ColumnSet;
  accounts: ColumnSet;
  orders: ColumnSet;
  positions: ColumnSet;
  trades: ColumnSet;
  ledger: ColumnSet;
  journal: ColumnSet;
  stateHashes: ColumnSet;
}

/**
 * Resolves a symbol to its instrument's engine id. Returns null only for a symbol that `batchSymbols` listed
 * as optional (a refused order may name an instrument that does not exist); throws for a required one.
 */
export type InstrumentResolver = (symbol: string) => number | null;

function newest<E extends { seq: number }>(map: Map<number, E>, id: number, event: E): void {
  const seen = map.get(id);
  if (!seen || seen.seq <= event.seq) map.set(id, event);
}

function sortedValues<E>(map: Map<number, E>): E[] {
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

const opposite = (side: Side): Side => (side === 'BUY' ? 'SELL' : 'BUY');
const maybeUuid = (kind: 'order' | 'position', id: number | null) => (id === null ? null : toUuid(kind, id));

interface Grouped {
  users: Map<number, UserCreatedEvent>;
  instruments: Map<number, InstrumentCreatedEvent>;
  accounts: Map<number, AccountEvent>;
  orders: Map<number, OrderEvent>;
  positions: Map<number, PositionEvent>;
  trades: TradeEvent[];
  ledger: LedgerEvent[];
  hashes: StateHashEvent[];
}

function group(events: readonly EngineEvent[]): Grouped {
  const g: Grouped = {
    users: new Map(),
    instruments: new Map(),
    accounts: new Map(),
    orders: new Map(),
    positions: new Map(),
    trades: [],
    ledger: [],
    hashes: [],
  };
  for (const e of events) {
    switch (e.type) {
      case 'user_created':
        newest(g.users, e.userId, e);
        break;
      case 'instrument_created':
        newest(g.instruments, e.instrumentId, e);
        break;
      case 'account':
        newest(g.accounts, e.accountId, e);
        break;
      case 'order':
        newest(g.orders, e.orderId, e);
        break;
      case 'position':
        newest(g.positions, e.positionId, e);
        break;
      case 'trade':
        g.trades.push(e);
        break;
      case 'ledger':
        g.ledger.push(e);
        break;
      case 'state_hash':
        g.hashes.push(e);
        break;
      default:
        // book deltas, rejections, marks, funding, margin calls, liquidations, session ends: derived or
        // transient; the rows they change arrive as state events, and the journal keeps the commands.
        break;
    }
  }
  g.trades.sort((a, b) => a.tradeId - b.tradeId);
  g.ledger.sort((a, b) => a.entryId - b.entryId);
  return g;
}

export interface BatchSymbols {
  /** Symbols of rows that must reference an instrument (live or filled orders, trades, positions). */
  required: Set<string>;
  /** Symbols of refused orders, which may name no instrument at all. */
  optional: Set<string>;
  /** Instruments the batch itself creates. */
  created: Map<string, number>;
}

/** The symbols a batch references and the instruments it creates, read before resolving. */
export function batchSymbols(batch: Batch): BatchSymbols {
  const out: BatchSymbols = { required: new Set(), optional: new Set(), created: new Map() };
  for (const e of batch.events) {
    if (e.type === 'order' && e.status === 'REJECTED') out.optional.add(e.symbol);
    else if (e.type === 'order' || e.type === 'position' || e.type === 'trade') out.required.add(e.symbol);
    else if (e.type === 'instrument_created') out.created.set(e.symbol, e.instrumentId);
  }
  return out;
}

export function batchRows(batch: Batch, instrumentOf: InstrumentResolver): BatchRows {
  const g = group(batch.events);
  const instrumentUuid = (symbol: string) => {
    const id = instrumentOf(symbol);
    return id === null ? null : toUuid('instrument', id);
  };

  const users = new ColumnSet(USER_COLUMNS);
  for (const u of sortedValues(g.users)) {
    users.push([toUuid('user', u.userId), u.userId, u.name, u.email, u.createdAt, u.seq]);
  }

  const instruments = new ColumnSet(INSTRUMENT_COLUMNS);
  for (const i of sortedValues(g.instruments)) {
    instruments.push([
      toUuid('instrument', i.instrumentId),
      i.instrumentId,
      i.symbol,
      i.kind,
      i.baseCurrency,
      i.quoteCurrency,
      i.tickSize,
      i.lotSize,
      i.minQuantity,
      i.maxQuantity,
      i.maxLeverage,
      i.makerFeeRate,
      i.takerFeeRate,
      i.fundingIntervalSeconds,
      i.ts,
      i.seq,
    ]);
  }

  const accounts = new ColumnSet(ACCOUNT_COLUMNS);
  for (const a of sortedValues(g.accounts)) {
    accounts.push([
      toUuid('account', a.accountId),
      a.accountId,
      toUuid('user', a.userId),
      a.currency,
      a.balance,
      a.equity,
      a.marginUsed,
      a.orderMargin,
      a.marginAvailable,
      a.realizedPnl,
      a.unrealizedPnl,
      a.maxLeverage,
      a.marginCallThreshold,
      a.liquidationThreshold,
      a.marginEnabled,
      a.autoLiquidation,
      a.status,
      a.createdAt,
      a.updatedAt,
      a.seq,
    ]);
  }

  const orders = new ColumnSet(ORDER_COLUMNS);
  for (const o of sortedValues(g.orders)) {
    orders.push([
      toUuid('order', o.orderId),
      o.orderId,
      toUuid('account', o.accountId),
      instrumentUuid(o.symbol),
      o.symbol,
      o.clientOrderId,
      o.side,
      o.orderType,
      o.timeInForce,
      o.price,
      o.stopPrice,
      o.quantity,
      o.filledQuantity,
      o.remainingQuantity,
      o.cancelledQuantity,
      o.averagePrice,
      o.filledNotional,
      o.status,
      o.postOnly,
      o.reduceOnly,
      o.leverage,
      o.commissionRate,
      o.rejectionReason,
      o.cancelReason,
      o.origin,
      o.createdAt,
      o.updatedAt,
      o.expiredAt,
      o.seq,
    ]);
  }

  const positions = new ColumnSet(POSITION_COLUMNS);
  for (const p of sortedValues(g.positions)) {
    positions.push([
      toUuid('position', p.positionId),
      p.positionId,
      toUuid('account', p.accountId),
      instrumentUuid(p.symbol),
      p.symbol,
      p.side,
      p.quantity,
      p.entryPrice,
      p.markPrice,
      p.realizedPnl,
      p.unrealizedPnl,
      p.leverage,
      p.margin,
      p.liquidationPrice,
      p.stopLoss,
      p.takeProfit,
      p.tradeCount,
      p.volume,
      p.fees,
      p.funding,
      p.status,
      p.openedAt,
      p.closedAt,
      p.updatedAt,
      p.seq,
    ]);
  }

  // Two rows per fill: the maker's then the taker's (their UUIDs differ by kind, so they sort that way).
  const trades = new ColumnSet(TRADE_COLUMNS);
  for (const t of g.trades) {
    const instrument = instrumentUuid(t.symbol);
    const makerAccount = toUuid('account', t.makerAccountId);
    const takerAccount = toUuid('account', t.takerAccountId);
    const makerOrder = toUuid('order', t.makerOrderId);
    const takerOrder = toUuid('order', t.takerOrderId);
    trades.push([
      toUuid('tradeMaker', t.tradeId),
      t.tradeId,
      makerAccount,
      makerOrder,
      instrument,
      t.symbol,
      opposite(t.takerSide),
      'MAKER',
      t.price,
      t.quantity,
      t.makerFee,
      t.makerFeeRate,
      t.makerRealizedPnl,
      takerAccount,
      takerOrder,
      t.ts,
      t.seq,
    ]);
    trades.push([
      toUuid('tradeTaker', t.tradeId),
      t.tradeId,
      takerAccount,
      takerOrder,
      instrument,
      t.symbol,
      t.takerSide,
      'TAKER',
      t.price,
      t.quantity,
      t.takerFee,
      t.takerFeeRate,
      t.takerRealizedPnl,
      makerAccount,
      makerOrder,
      t.ts,
      t.seq,
    ]);
  }

  const ledger = new ColumnSet(LEDGER_COLUMNS);
  for (const l of g.ledger) {
    ledger.push([
      toUuid('ledger', l.entryId),
      l.entryId,
      toUuid('account', l.accountId),
      l.entryType,
      l.amount,
      l.balanceBefore,
      l.balanceAfter,
      l.currency,
      maybeUuid('order', l.orderId),
      l.tradeId,
      maybeUuid('position', l.positionId),
      l.ts,
      l.seq,
    ]);
  }

  const journal = new ColumnSet(JOURNAL_COLUMNS);
  for (const c of batch.commands) journal.push([c.seq, c.type, JSON.stringify(c), c.ts]);

  const stateHashes = new ColumnSet(STATE_HASH_COLUMNS);
  for (const h of g.hashes) stateHashes.push([h.seq, h.hash, h.ts]);

  return { users, instruments, accounts, orders, positions, trades, ledger, journal, stateHashes };
}
