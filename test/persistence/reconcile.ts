/**
 * Reads the database back into the engine's own shapes (events.ts) and compares it with what the engine
 * decided, field by field, plus the ledger's own invariants. Written against the event contract only, so it
 * serves the synthetic stream and the real engine alike.
 */
import { type DatabasePool, sql } from 'slonik';
import type {
  AccountState,
  EngineEvent,
  LedgerEntry,
  OrderState,
  PositionState,
  Trade,
} from '../../engine/events.js';
import { ORDER_STATE_COLUMNS, orderStateFromRow } from '../../persistence/read-back.js';

/** NUMERIC(20,8) comes back with 8 places; the engine writes the shortest form. */
export function canon(value: unknown): unknown {
  if (typeof value !== 'string' || !/^-?\d+\.\d+$/.test(value)) return value;
  return value.replace(/0+$/, '').replace(/\.$/, '');
}

function normalize<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : canon(v);
  return out as T;
}

/** What the engine decided: the newest state per entity and every append-only row, folded from events. */
export interface Expected {
  accounts: Map<number, AccountState>;
  orders: Map<number, OrderState>;
  positions: Map<number, PositionState>;
  trades: Trade[];
  ledger: LedgerEntry[];
}

const strip = <T extends object>(e: T): T => {
  const { type: _t, seq: _s, ts: _ts, ...rest } = e as T & { type: unknown; seq: unknown; ts: unknown };
  return rest as unknown as T;
};

export function foldEvents(events: Iterable<EngineEvent>): Expected {
  const x: Expected = {
    accounts: new Map(),
    orders: new Map(),
    positions: new Map(),
    trades: [],
    ledger: [],
  };
  for (const e of events) {
    if (e.type === 'account') x.accounts.set(e.accountId, strip(e));
    else if (e.type === 'order') x.orders.set(e.orderId, strip(e));
    else if (e.type === 'position') x.positions.set(e.positionId, strip(e));
    else if (e.type === 'trade') x.trades.push(strip(e));
    else if (e.type === 'ledger') x.ledger.push(strip(e));
  }
  return x;
}

export async function readAccounts(pool: DatabasePool): Promise<AccountState[]> {
  const rows = await pool.any(sql.unsafe`
    SELECT engine_id AS "accountId", exch_uuid_id(user_id) AS "userId", currency, balance, equity,
      margin_used AS "marginUsed", order_margin AS "orderMargin", margin_available AS "marginAvailable",
      realized_pnl AS "realizedPnl", unrealized_pnl AS "unrealizedPnl", max_leverage AS "maxLeverage",
      margin_call_threshold AS "marginCallThreshold", liquidation_threshold AS "liquidationThreshold",
      margin_enabled AS "marginEnabled", auto_liquidation AS "autoLiquidation", status,
      exch_ts_to_us(created_at) AS "createdAt", exch_ts_to_us(updated_at) AS "updatedAt"
    FROM accounts ORDER BY engine_id`);
  return rows.map((r) => normalize<AccountState>(r));
}

export async function readOrders(pool: DatabasePool): Promise<OrderState[]> {
  const rows = await pool.any(sql.unsafe`SELECT ${ORDER_STATE_COLUMNS} FROM orders ORDER BY engine_id`);
  return rows.map((r) => orderStateFromRow(r as Record<string, unknown>).order);
}

export async function readPositions(pool: DatabasePool): Promise<PositionState[]> {
  const rows = await pool.any(sql.unsafe`
    SELECT engine_id AS "positionId", exch_uuid_id(account_id) AS "accountId", symbol, side, quantity,
      entry_price AS "entryPrice", mark_price AS "markPrice", realized_pnl AS "realizedPnl",
      unrealized_pnl AS "unrealizedPnl", leverage, margin, liquidation_price AS "liquidationPrice",
      stop_loss AS "stopLoss", take_profit AS "takeProfit", trade_count AS "tradeCount", volume, fees, funding,
      status, exch_ts_to_us(opened_at) AS "openedAt", exch_ts_to_us(closed_at) AS "closedAt",
      exch_ts_to_us(updated_at) AS "updatedAt"
    FROM positions ORDER BY engine_id`);
  return rows.map((r) => normalize<PositionState>(r));
}

/** Both rows of each fill folded back into the engine's one trade. */
export async function readTrades(pool: DatabasePool): Promise<Trade[]> {
  const rows = await pool.any(sql.unsafe`
    SELECT t.trade_id AS "tradeId", t.symbol, t.price, t.quantity, t.side AS "takerSide",
      exch_uuid_id(m.order_id) AS "makerOrderId", exch_uuid_id(t.order_id) AS "takerOrderId",
      exch_uuid_id(m.account_id) AS "makerAccountId", exch_uuid_id(t.account_id) AS "takerAccountId",
      m.commission AS "makerFee", t.commission AS "takerFee", m.commission_rate AS "makerFeeRate",
      t.commission_rate AS "takerFeeRate", m.realized_pnl AS "makerRealizedPnl",
      t.realized_pnl AS "takerRealizedPnl",
      (m.side <> t.side AND m.price = t.price AND m.quantity = t.quantity AND m.symbol = t.symbol
        AND m.counterparty_order_id = t.order_id AND t.counterparty_order_id = m.order_id) AS consistent
    FROM trades t JOIN trades m ON m.trade_id = t.trade_id AND m.liquidity = 'MAKER'
    WHERE t.liquidity = 'TAKER' ORDER BY t.trade_id`);
  return rows.map((r) => {
    if (r.consistent !== true) throw new Error(`maker and taker rows of trade ${r.tradeId} disagree`);
    const { consistent: _c, ...rest } = r;
    return normalize<Trade>(rest);
  });
}

export async function readLedger(pool: DatabasePool): Promise<LedgerEntry[]> {
  const rows = await pool.any(sql.unsafe`
    SELECT engine_id AS "entryId", exch_uuid_id(account_id) AS "accountId", entry_type AS "entryType", amount,
      balance_before AS "balanceBefore", balance_after AS "balanceAfter", currency,
      exch_uuid_id(order_id) AS "orderId", trade_id AS "tradeId", exch_uuid_id(position_id) AS "positionId"
    FROM account_ledger ORDER BY engine_id`);
  return rows.map((r) => normalize<LedgerEntry>(r));
}

/**
 * The ledger's own invariants, checked in the database: per account, in entry order, each row starts where
 * the previous ended (the first at zero), and the amounts add up to the account's balance.
 */
export async function ledgerViolations(pool: DatabasePool): Promise<string[]> {
  const broken = await pool.anyFirst(sql.unsafe`
    SELECT format('account %s entry %s: before %s, previous after %s', a, e, b, p) FROM (
      SELECT exch_uuid_id(account_id) AS a, engine_id AS e, balance_before AS b,
        coalesce(lag(balance_after) OVER (PARTITION BY account_id ORDER BY engine_id), 0) AS p
      FROM account_ledger) x
    WHERE b <> p`);
  const sums = await pool.anyFirst(sql.unsafe`
    SELECT format('account %s: balance %s, ledger sum %s, last after %s', a.engine_id, a.balance, l.total, l.last)
    FROM accounts a
    LEFT JOIN (
      SELECT account_id, sum(amount) AS total,
        (array_agg(balance_after ORDER BY engine_id DESC))[1] AS last
      FROM account_ledger GROUP BY account_id) l ON l.account_id = a.id
    WHERE a.balance <> coalesce(l.total, 0) OR a.balance <> coalesce(l.last, 0)`);
  return [...broken, ...sums].map(String);
}

const byId = <T>(m: Map<number, T>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);

/** Every difference between the database and the expectation; empty when they agree exactly. */
export async function reconcile(pool: DatabasePool, expected: Expected): Promise<Record<string, unknown>> {
  const [accounts, orders, positions, trades, ledger, chain] = await Promise.all([
    readAccounts(pool),
    readOrders(pool),
    readPositions(pool),
    readTrades(pool),
    readLedger(pool),
    ledgerViolations(pool),
  ]);
  return {
    accounts: { db: accounts, engine: byId(expected.accounts) },
    orders: { db: orders, engine: byId(expected.orders) },
    positions: { db: positions, engine: byId(expected.positions) },
    trades: { db: trades, engine: [...expected.trades].sort((a, b) => a.tradeId - b.tradeId) },
    ledger: { db: ledger, engine: [...expected.ledger].sort((a, b) => a.entryId - b.entryId) },
    chain,
  };
}
