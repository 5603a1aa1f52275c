/**
 * The offline consistency check behind `node dist/src/cli/check.js`: replay the persisted journal up to the
 * watermark and compare what the engine decided with what the tables hold, field by field:
 * - accounts (balances and every other column), positions, orders (every order; the open ones are the
 *   book), trades (both rows of every fill), ledger rows;
 * - the ledger chains (each row starts where the account's previous row ended, the first at zero, and the
 *   amounts add up to the balance);
 * - every persisted state hash in range (the replay itself refuses on a mismatch);
 * - rows whose seq is above the watermark (written past a gap) are reported too.
 *
 * From scratch (default) every row is compared. From the latest snapshot, only what the tail changed is
 * compared against its events, and the snapshot's live state (balances, open positions, open orders)
 * against the current rows.
 *
 * Whole tables are read into memory: this is an operator's tool for a stopped system, sized for databases
 * that fit (about 1 GB of heap per million orders).
 */
import { type DatabasePool, sql } from 'slonik';
import type { Engine } from '../../engine/engine.js';
import type { AccountState, EngineEvent, OrderState, PositionState } from '../../engine/events.js';
import { canonRow, ORDER_STATE_COLUMNS } from '../../persistence/read-back.js';
import { readJournal } from './journal-reader.js';
import { recover } from './recover.js';

export interface CheckOptions {
  pool: DatabasePool;
  /** Start from the newest snapshot instead of from scratch. */
  fromSnapshot?: boolean;
  risk?: boolean;
  /** Stop listing after this many differences (the count stays exact). Default 1000. */
  maxListed?: number;
  onProgress?: (seq: number, target: number) => void;
}

export interface CheckResult {
  watermark: number;
  snapshotSeq: number;
  hashesChecked: number;
  compared: Record<string, number>;
  differenceCount: number;
  differences: string[];
  engine: Engine;
}

type Row = Record<string, unknown>;

const strip = (e: EngineEvent): Row => {
  const { type: _t, ts: _ts, ...rest } = e as unknown as Row;
  return rest;
};

class Differences {
  count = 0;
  readonly listed: string[] = [];
  constructor(private readonly max: number) {}
  add(line: string): void {
    this.count++;
    if (this.listed.length < this.max) this.listed.push(line);
  }
}

/** Compares expected rows (from the engine) with database rows by key, every field. */
function diffByKey(
  table: string,
  key: string,
  expected: Map<number, Row>,
  actual: readonly Row[],
  diffs: Differences,
  only?: (row: Row) => boolean,
): number {
  const seen = new Set<number>();
  let compared = 0;
  for (const raw of actual) {
    const row = canonRow(raw);
    const id = Number(row[key]);
    seen.add(id);
    const want = expected.get(id);
    if (want === undefined) {
      if (only === undefined || only(row))
        diffs.add(`${table} ${key}=${id}: in the database, not in the replay`);
      continue;
    }
    compared++;
    for (const [field, value] of Object.entries(want)) {
      if (field === 'seq') continue;
      const got = row[field];
      if (String(got) !== String(value)) {
        diffs.add(
          `${table} ${key}=${id} ${field}: database ${JSON.stringify(got)}, replay ${JSON.stringify(value)}`,
        );
      }
    }
  }
  for (const [id, want] of expected) {
    if (!seen.has(id) && (only === undefined || only(want))) {
      diffs.add(`${table} ${key}=${id}: in the replay (seq ${want.seq}), missing from the database`);
    }
  }
  return compared;
}

const ACCOUNTS = sql.unsafe`
  SELECT engine_id AS "accountId", exch_uuid_id(user_id) AS "userId", currency, balance, equity,
    margin_used AS "marginUsed", order_margin AS "orderMargin", margin_available AS "marginAvailable",
    realized_pnl AS "realizedPnl", unrealized_pnl AS "unrealizedPnl", max_leverage AS "maxLeverage",
    margin_call_threshold AS "marginCallThreshold", liquidation_threshold AS "liquidationThreshold",
    margin_enabled AS "marginEnabled", auto_liquidation AS "autoLiquidation", status,
    exch_ts_to_us(created_at) AS "createdAt", exch_ts_to_us(updated_at) AS "updatedAt", seq
  FROM accounts ORDER BY engine_id`;

const ORDERS = sql.unsafe`SELECT ${ORDER_STATE_COLUMNS} FROM orders ORDER BY engine_id`;

const POSITIONS = sql.unsafe`
  SELECT engine_id AS "positionId", exch_uuid_id(account_id) AS "accountId", symbol, side, quantity,
    entry_price AS "entryPrice", mark_price AS "markPrice", realized_pnl AS "realizedPnl",
    unrealized_pnl AS "unrealizedPnl", leverage, margin, liquidation_price AS "liquidationPrice",
    stop_loss AS "stopLoss", take_profit AS "takeProfit", trade_count AS "tradeCount", volume, fees, funding,
    status, exch_ts_to_us(opened_at) AS "openedAt", exch_ts_to_us(closed_at) AS "closedAt",
    exch_ts_to_us(updated_at) AS "updatedAt", seq
  FROM positions ORDER BY engine_id`;

/** Both rows of each fill folded back into the engine's one trade; rows that disagree are reported. */
const TRADES = sql.unsafe`
  SELECT t.trade_id AS "tradeId", t.symbol, t.price, t.quantity, t.side AS "takerSide",
    exch_uuid_id(m.order_id) AS "makerOrderId", exch_uuid_id(t.order_id) AS "takerOrderId",
    exch_uuid_id(m.account_id) AS "makerAccountId", exch_uuid_id(t.account_id) AS "takerAccountId",
    m.commission AS "makerFee", t.commission AS "takerFee", m.commission_rate AS "makerFeeRate",
    t.commission_rate AS "takerFeeRate", m.realized_pnl AS "makerRealizedPnl",
    t.realized_pnl AS "takerRealizedPnl", t.seq
  FROM trades t JOIN trades m ON m.trade_id = t.trade_id AND m.liquidity = 'MAKER'
  WHERE t.liquidity = 'TAKER' ORDER BY t.trade_id`;

const TRADE_PAIRS = sql.unsafe`
  SELECT format('trade %s: %s row(s), maker and taker rows must be exactly one each and agree', trade_id, count(*))
  FROM trades GROUP BY trade_id
  HAVING count(*) <> 2 OR count(DISTINCT liquidity) <> 2 OR count(DISTINCT side) <> 2
    OR count(DISTINCT price) <> 1 OR count(DISTINCT quantity) <> 1`;

const LEDGER = sql.unsafe`
  SELECT engine_id AS "entryId", exch_uuid_id(account_id) AS "accountId", entry_type AS "entryType", amount,
    balance_before AS "balanceBefore", balance_after AS "balanceAfter", currency,
    exch_uuid_id(order_id) AS "orderId", trade_id AS "tradeId", exch_uuid_id(position_id) AS "positionId", seq
  FROM account_ledger ORDER BY engine_id`;

/** Per account, in entry order: each row starts where the previous ended; amounts sum to the balance. */
export async function ledgerChainViolations(pool: DatabasePool): Promise<string[]> {
  const broken = await pool.anyFirst(sql.unsafe`
    SELECT format('ledger chain: account %s entry %s starts at %s, the previous entry ended at %s', a, e, b, p)
    FROM (
      SELECT exch_uuid_id(account_id) AS a, engine_id AS e, balance_before AS b,
        coalesce(lag(balance_after) OVER (PARTITION BY account_id ORDER BY engine_id), 0) AS p
      FROM account_ledger) x
    WHERE b <> p ORDER BY a, e`);
  const sums = await pool.anyFirst(sql.unsafe`
    SELECT format('ledger sum: account %s has balance %s, its entries sum to %s and end at %s',
      a.engine_id, a.balance, coalesce(l.total, 0), coalesce(l.last, 0))
    FROM accounts a
    LEFT JOIN (
      SELECT account_id, sum(amount) AS total, (array_agg(balance_after ORDER BY engine_id DESC))[1] AS last
      FROM account_ledger GROUP BY account_id) l ON l.account_id = a.id
    WHERE a.balance <> coalesce(l.total, 0) OR a.balance <> coalesce(l.last, 0) ORDER BY a.engine_id`);
  return [...broken, ...sums].map(String);
}

export async function checkDatabase(options: CheckOptions): Promise<CheckResult> {
  const { pool } = options;
  const diffs = new Differences(options.maxListed ?? 1000);
  // Recovery up to the snapshot only (or nothing), then the tail replayed here so its events can be folded.
  const base = await recover({
    pool,
    risk: options.risk,
    snapshot: options.fromSnapshot ? 'latest' : 'none',
    // the tail is replayed below, folding its events
    replay: false,
  });
  const engine = base.engine;
  const snapshotSeq = engine.lastSeq;
  const watermark = base.seq;

  const accounts = new Map<number, Row>();
  const orders = new Map<number, Row>();
  const positions = new Map<number, Row>();
  const trades = new Map<number, Row>();
  const ledger = new Map<number, Row>();
  const hashes = new Map(
    (
      await pool.any(
        sql.unsafe`SELECT seq, hash FROM state_hashes WHERE seq > ${snapshotSeq} AND seq <= ${watermark}`,
      )
    ).map((r) => [Number(r.seq), String(r.hash)]),
  );
  let hashesChecked = 0;
  const out: EngineEvent[] = [];
  for await (const page of readJournal(pool, snapshotSeq, watermark)) {
    for (const cmd of page.commands) {
      out.length = 0;
      engine.apply(cmd, out);
      for (const e of out) {
        if (e.type === 'account') accounts.set(e.accountId, strip(e));
        else if (e.type === 'order') orders.set(e.orderId, strip(e));
        else if (e.type === 'position') positions.set(e.positionId, strip(e));
        else if (e.type === 'trade') trades.set(e.tradeId, strip(e));
        else if (e.type === 'ledger') ledger.set(e.entryId, strip(e));
        else if (e.type === 'state_hash' && hashes.has(e.seq)) {
          hashesChecked++;
          if (hashes.get(e.seq) !== e.hash) {
            diffs.add(`state hash at seq ${e.seq}: persisted ${hashes.get(e.seq)}, replay ${e.hash}`);
          }
        }
      }
    }
    options.onProgress?.(engine.lastSeq, watermark);
  }

  const tail = (row: Row) => Number(row.seq) > snapshotSeq;
  const [dbAccounts, dbOrders, dbPositions, dbTrades, dbLedger] = await Promise.all([
    pool.any(ACCOUNTS),
    pool.any(ORDERS),
    pool.any(POSITIONS),
    pool.any(TRADES),
    pool.any(LEDGER),
  ]);
  for (const [table, rows] of [
    ['accounts', dbAccounts],
    ['orders', dbOrders],
    ['positions', dbPositions],
    ['trades', dbTrades],
    ['account_ledger', dbLedger],
  ] as const) {
    for (const r of rows) {
      if (Number(r.seq) > watermark)
        diffs.add(`${table}: a row at seq ${r.seq} is above the watermark ${watermark}`);
    }
  }
  const scoped = <T extends Row>(rows: readonly T[]) => (snapshotSeq === 0 ? rows : rows.filter(tail));
  const compared: Record<string, number> = {
    accounts: diffByKey('accounts', 'accountId', accounts, scoped(dbAccounts), diffs),
    orders: diffByKey('orders', 'orderId', orders, scoped(dbOrders), diffs),
    positions: diffByKey('positions', 'positionId', positions, scoped(dbPositions), diffs),
    trades: diffByKey('trades', 'tradeId', trades, scoped(dbTrades), diffs),
    ledger: diffByKey('account_ledger', 'entryId', ledger, scoped(dbLedger), diffs),
  };
  if (snapshotSeq > 0) compared.live = compareLiveState(engine, dbAccounts, dbOrders, dbPositions, diffs);
  for (const line of await pool.anyFirst(TRADE_PAIRS)) diffs.add(String(line));
  for (const line of await ledgerChainViolations(pool)) diffs.add(line);
  return {
    watermark,
    snapshotSeq,
    hashesChecked,
    compared,
    differenceCount: diffs.count,
    differences: diffs.listed,
    engine,
  };
}

/** From a snapshot: the engine's live state against the current rows (rows the tail did not touch too). */
function compareLiveState(
  engine: Engine,
  dbAccounts: readonly Row[],
  dbOrders: readonly Row[],
  dbPositions: readonly Row[],
  diffs: Differences,
): number {
  let n = 0;
  for (const raw of dbAccounts) {
    const row = canonRow(raw);
    const a: AccountState | undefined = engine.account(Number(row.accountId));
    n++;
    if (a === undefined) diffs.add(`accounts accountId=${row.accountId}: not in the engine`);
    else if (a.balance !== row.balance)
      diffs.add(`accounts accountId=${row.accountId} balance: database ${row.balance}, engine ${a.balance}`);
  }
  const live = new Set<number>();
  for (const raw of dbOrders) {
    const row = canonRow(raw);
    if (row.status !== 'NEW' && row.status !== 'PARTIALLY_FILLED' && row.status !== 'PENDING_TRIGGER')
      continue;
    const id = Number(row.orderId);
    live.add(id);
    n++;
    const o: OrderState | undefined = engine.order(id);
    if (o === undefined) diffs.add(`orders orderId=${id}: open in the database, not live in the engine`);
    else if (o.remainingQuantity !== row.remainingQuantity || o.status !== row.status)
      diffs.add(
        `orders orderId=${id}: database ${row.status} ${row.remainingQuantity} left, engine ${o.status} ${o.remainingQuantity} left`,
      );
  }
  for (const id of engine.orders.keys()) {
    if (!live.has(id)) diffs.add(`orders orderId=${id}: live in the engine, not open in the database`);
  }
  const open = new Map<number, PositionState>();
  const risk = engine.risk;
  if (risk !== null)
    for (const a of risk.accounts.values()) for (const p of engine.positions(a.id)) open.set(p.positionId, p);
  for (const raw of dbPositions) {
    const row = canonRow(raw);
    if (row.status !== 'OPEN') continue;
    n++;
    const p = open.get(Number(row.positionId));
    if (p === undefined)
      diffs.add(`positions positionId=${row.positionId}: open in the database, not in the engine`);
    else if (p.quantity !== row.quantity || p.side !== row.side)
      diffs.add(
        `positions positionId=${row.positionId}: database ${row.side} ${row.quantity}, engine ${p.side} ${p.quantity}`,
      );
    open.delete(Number(row.positionId));
  }
  for (const id of open.keys())
    diffs.add(`positions positionId=${id}: open in the engine, not in the database`);
  return n;
}
