-- Up Migration
-- The exchange's tables. The engine is the source of truth; these tables are its projection, written by the
-- persistence workers (persistence/writer.ts) from event batches. Conventions:
--   * id: UUID primary key derived from the engine's positive integer id (persistence/ids.ts, exch_uuid()
--     below); engine_id keeps the integer for recovery and reconciliation.
--   * every money, quantity, price or rate column is NUMERIC(20,8), exactly what engine/numeric.ts produces.
--   * current-state rows carry `seq`, the sequencer seq of their last change: upserts only ever move it up.
--   * every vocabulary column has a CHECK with exactly the strings of engine/enums.ts (a test compares them).
--   * foreign keys only where the parent is written long before its children (users). The hot tables
--     (orders, trades, positions, account_ledger) hold account_id / instrument_id / order_id without a
--     REFERENCES clause, on purpose: workers commit batches out of order, so a child may land before its
--     parent's batch; a refused order may name an account or instrument that never existed (the engine
--     records the refusal); and each FK check would lock the parent row (the same few instrument and
--     account rows for every fill), serializing concurrent writers. The engine guarantees the references;
--     the reconciliation tests verify them.

-- Microseconds since the epoch (the engine's clock) to timestamptz and back, exactly. to_timestamp(double)
-- would lose the last microseconds of present-day values.
CREATE FUNCTION exch_us_to_ts(us bigint) RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN 'epoch'::timestamptz + us * interval '1 microsecond';

CREATE FUNCTION exch_ts_to_us(ts timestamptz) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  RETURN (extract(epoch FROM ts) * 1000000)::bigint;

-- The deterministic UUID of an engine id (same layout as persistence/ids.ts): a fixed UUIDv8 prefix, the
-- entity kind, the integer in the last 60 bits. Reversible with exch_uuid_id().
CREATE FUNCTION exch_uuid(kind int, n bigint) RETURNS uuid
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN (
    'ec5e0000-' || lpad(to_hex(kind), 4, '0') || '-8000-8'
    || substr(lpad(to_hex(n), 15, '0'), 1, 3) || '-' || substr(lpad(to_hex(n), 15, '0'), 4)
  )::uuid;

CREATE FUNCTION exch_uuid_id(id uuid) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN ('x' || lpad(substr(replace(id::text, '-', ''), 18), 16, '0'))::bit(64)::bigint;

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  engine_id   bigint NOT NULL UNIQUE CHECK (engine_id > 0),
  name        text NOT NULL,
  email       text,
  created_at  timestamptz NOT NULL,
  seq         bigint NOT NULL
);

CREATE TABLE instruments (
  id                        uuid PRIMARY KEY,
  engine_id                 bigint NOT NULL UNIQUE CHECK (engine_id > 0),
  symbol                    text NOT NULL UNIQUE,
  kind                      text NOT NULL CHECK (kind IN ('SPOT', 'PERPETUAL')),
  base_currency             text NOT NULL,
  quote_currency            text NOT NULL,
  tick_size                 numeric(20, 8) NOT NULL CHECK (tick_size > 0),
  lot_size                  numeric(20, 8) NOT NULL CHECK (lot_size > 0),
  min_quantity              numeric(20, 8) NOT NULL CHECK (min_quantity >= 0),
  max_quantity              numeric(20, 8) NOT NULL CHECK (max_quantity >= min_quantity),
  max_leverage              numeric(20, 8) NOT NULL CHECK (max_leverage BETWEEN 1 AND 100),
  maker_fee_rate            numeric(20, 8) NOT NULL,
  taker_fee_rate            numeric(20, 8) NOT NULL,
  funding_interval_seconds  integer NOT NULL CHECK (funding_interval_seconds >= 0),
  created_at                timestamptz NOT NULL,
  seq                       bigint NOT NULL
);

-- fillfactor < 100 leaves room on each page so the frequent seq-guarded updates can be HOT updates.
CREATE TABLE accounts (
  id                     uuid PRIMARY KEY,
  engine_id              bigint NOT NULL UNIQUE CHECK (engine_id > 0),
  user_id                uuid NOT NULL REFERENCES users (id),
  currency               text NOT NULL,
  balance                numeric(20, 8) NOT NULL DEFAULT 0,
  equity                 numeric(20, 8) NOT NULL DEFAULT 0,
  margin_used            numeric(20, 8) NOT NULL DEFAULT 0 CHECK (margin_used >= 0),
  order_margin           numeric(20, 8) NOT NULL DEFAULT 0 CHECK (order_margin >= 0),
  margin_available       numeric(20, 8) NOT NULL DEFAULT 0,
  realized_pnl           numeric(20, 8) NOT NULL DEFAULT 0,
  unrealized_pnl         numeric(20, 8) NOT NULL DEFAULT 0,
  max_leverage           numeric(20, 8) NOT NULL CHECK (max_leverage BETWEEN 1 AND 100),
  margin_call_threshold  numeric(20, 8) NOT NULL,
  liquidation_threshold  numeric(20, 8) NOT NULL,
  margin_enabled         boolean NOT NULL,
  auto_liquidation       boolean NOT NULL,
  status                 text NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CLOSED')),
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL,
  seq                    bigint NOT NULL
) WITH (fillfactor = 80);

CREATE TABLE orders (
  id                  uuid PRIMARY KEY,
  engine_id           bigint NOT NULL CHECK (engine_id > 0),
  account_id          uuid NOT NULL,
  -- NULL only on a REJECTED order whose symbol names no instrument.
  instrument_id       uuid,
  symbol              text NOT NULL,
  client_order_id     text,
  side                text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type          text NOT NULL CHECK (order_type IN ('MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT')),
  time_in_force       text NOT NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK', 'DAY')),
  price               numeric(20, 8) CHECK (price > 0),
  stop_price          numeric(20, 8) CHECK (stop_price > 0),
  quantity            numeric(20, 8) NOT NULL CHECK (quantity >= 0),
  filled_quantity     numeric(20, 8) NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
  remaining_quantity  numeric(20, 8) NOT NULL CHECK (remaining_quantity >= 0),
  cancelled_quantity  numeric(20, 8) NOT NULL DEFAULT 0 CHECK (cancelled_quantity >= 0),
  average_price       numeric(20, 8),
  filled_notional     numeric(20, 8) NOT NULL DEFAULT 0,
  status              text NOT NULL CHECK (status IN (
                        'PENDING_TRIGGER', 'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')),
  post_only           boolean NOT NULL DEFAULT false,
  reduce_only         boolean NOT NULL DEFAULT false,
  leverage            numeric(20, 8) NOT NULL,
  commission_rate     numeric(20, 8) NOT NULL,
  rejection_reason    text CHECK (rejection_reason IN (
                        'INVALID_COMMAND', 'INVALID_PRICE', 'INVALID_QUANTITY', 'INVALID_AMOUNT', 'INVALID_LEVERAGE',
                        'PRICE_NOT_ON_TICK', 'QUANTITY_NOT_ON_LOT', 'QUANTITY_BELOW_MIN', 'QUANTITY_ABOVE_MAX',
                        'PRICE_OUT_OF_RANGE', 'MISSING_PRICE', 'MISSING_STOP_PRICE', 'UNEXPECTED_PRICE',
                        'INVALID_TIME_IN_FORCE', 'UNKNOWN_INSTRUMENT', 'UNKNOWN_ACCOUNT', 'UNKNOWN_ORDER',
                        'DUPLICATE_INSTRUMENT', 'DUPLICATE_ACCOUNT', 'DUPLICATE_CLIENT_ORDER_ID',
                        'ORDER_NOT_LIVE', 'POST_ONLY_WOULD_TAKE', 'FOK_NOT_FILLABLE', 'NO_LIQUIDITY',
                        'SELF_TRADE_PREVENTED', 'AMEND_NO_CHANGE', 'AMEND_BELOW_FILLED', 'ACCOUNT_NOT_ACTIVE',
                        'INSUFFICIENT_MARGIN', 'INSUFFICIENT_BALANCE', 'LEVERAGE_TOO_HIGH',
                        'REDUCE_ONLY_WOULD_INCREASE', 'REDUCE_ONLY_NO_POSITION', 'SHORT_NOT_ALLOWED',
                        'WITHDRAWAL_EXCEEDS_AVAILABLE', 'ACCOUNT_HAS_EXPOSURE', 'NOT_PERPETUAL', 'CURRENCY_MISMATCH',
                        'NO_MARK_PRICE', 'INVALID_INSTRUMENT', 'DUPLICATE_INSURANCE_FUND')),
  cancel_reason       text CHECK (cancel_reason IN (
                        'USER', 'CANCEL_ALL', 'IOC_REMAINDER', 'MARKET_REMAINDER', 'SELF_TRADE_PREVENTED',
                        'SESSION_END', 'LIQUIDATION', 'REDUCE_ONLY_CLIPPED', 'ACCOUNT_SUSPENDED', 'DISCONNECT')),
  origin              text NOT NULL DEFAULT 'USER' CHECK (origin IN ('USER', 'STOP_LOSS', 'TAKE_PROFIT', 'LIQUIDATION')),
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  expired_at          timestamptz,
  seq                 bigint NOT NULL,
  CHECK (instrument_id IS NOT NULL OR status = 'REJECTED'),
  -- The engine's documented invariant; a row breaking it means a bug upstream, so the batch must not land.
  CHECK (filled_quantity + remaining_quantity + cancelled_quantity = quantity)
) WITH (fillfactor = 85);

-- One row per account side of a fill: the maker's and the taker's, sharing trade_id.
CREATE TABLE trades (
  id                       uuid PRIMARY KEY,
  trade_id                 bigint NOT NULL CHECK (trade_id > 0),
  account_id               uuid NOT NULL,
  order_id                 uuid NOT NULL,
  instrument_id            uuid NOT NULL,
  symbol                   text NOT NULL,
  side                     text NOT NULL CHECK (side IN ('BUY', 'SELL')),
  liquidity                text NOT NULL CHECK (liquidity IN ('MAKER', 'TAKER')),
  price                    numeric(20, 8) NOT NULL CHECK (price > 0),
  quantity                 numeric(20, 8) NOT NULL CHECK (quantity > 0),
  commission               numeric(20, 8) NOT NULL,
  commission_rate          numeric(20, 8) NOT NULL,
  realized_pnl             numeric(20, 8) NOT NULL DEFAULT 0,
  counterparty_account_id  uuid NOT NULL,
  counterparty_order_id    uuid NOT NULL,
  executed_at              timestamptz NOT NULL,
  seq                      bigint NOT NULL
  -- No UNIQUE (trade_id, liquidity): the primary key already is one (the UUID encodes both), and a second
  -- index on the largest table would cost every fill.
);

-- One net position per account and instrument at a time; a closed position stays, the next is a new row.
CREATE TABLE positions (
  id                 uuid PRIMARY KEY,
  engine_id          bigint NOT NULL CHECK (engine_id > 0),
  account_id         uuid NOT NULL,
  instrument_id      uuid NOT NULL,
  symbol             text NOT NULL,
  side               text NOT NULL CHECK (side IN ('LONG', 'SHORT', 'FLAT')),
  quantity           numeric(20, 8) NOT NULL CHECK (quantity >= 0),
  entry_price        numeric(20, 8),
  mark_price         numeric(20, 8),
  realized_pnl       numeric(20, 8) NOT NULL DEFAULT 0,
  unrealized_pnl     numeric(20, 8) NOT NULL DEFAULT 0,
  leverage           numeric(20, 8) NOT NULL,
  margin             numeric(20, 8) NOT NULL DEFAULT 0,
  liquidation_price  numeric(20, 8),
  stop_loss          numeric(20, 8),
  take_profit        numeric(20, 8),
  trade_count        integer NOT NULL DEFAULT 0 CHECK (trade_count >= 0),
  volume             numeric(20, 8) NOT NULL DEFAULT 0,
  fees               numeric(20, 8) NOT NULL DEFAULT 0,
  funding            numeric(20, 8) NOT NULL DEFAULT 0,
  status             text NOT NULL CHECK (status IN ('OPEN', 'CLOSED', 'LIQUIDATED')),
  opened_at          timestamptz NOT NULL,
  closed_at          timestamptz,
  updated_at         timestamptz NOT NULL,
  seq                bigint NOT NULL
) WITH (fillfactor = 80);

-- Every balance change, one immutable row (0002 makes the database refuse UPDATE, DELETE and TRUNCATE).
CREATE TABLE account_ledger (
  id              uuid PRIMARY KEY,
  engine_id       bigint NOT NULL CHECK (engine_id > 0),
  account_id      uuid NOT NULL,
  entry_type      text NOT NULL CHECK (entry_type IN (
                    'DEPOSIT', 'WITHDRAWAL', 'FEE', 'PNL', 'FUNDING', 'LIQUIDATION', 'INSURANCE', 'TRADE')),
  amount          numeric(20, 8) NOT NULL,
  balance_before  numeric(20, 8) NOT NULL,
  balance_after   numeric(20, 8) NOT NULL,
  currency        text NOT NULL,
  order_id        uuid,
  trade_id        bigint,
  position_id     uuid,
  created_at      timestamptz NOT NULL,
  seq             bigint NOT NULL,
  -- Signs: a credit is positive, a debit negative (engine/events.ts); deposits only credit, withdrawals
  -- only debit, and each row moves the balance by exactly its amount.
  CHECK (balance_after = balance_before + amount),
  CHECK (entry_type <> 'DEPOSIT' OR amount > 0),
  CHECK (entry_type <> 'WITHDRAWAL' OR amount < 0)
);

-- Every accepted input command, by seq: the source of truth recovery replays.
CREATE TABLE command_journal (
  seq           bigint PRIMARY KEY CHECK (seq > 0),
  command_type  text NOT NULL,
  command       jsonb NOT NULL,
  ts            timestamptz NOT NULL
);

CREATE TABLE engine_snapshots (
  seq         bigint PRIMARY KEY CHECK (seq >= 0),
  hash        text NOT NULL,
  state       bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE state_hashes (
  seq   bigint PRIMARY KEY CHECK (seq > 0),
  hash  text NOT NULL,
  ts    timestamptz NOT NULL
);

-- One row per committed batch (written in the batch's own transaction); persistence/watermark.ts folds the
-- gap-free prefix into persistence_watermark and prunes the rows below it.
CREATE TABLE persisted_batches (
  from_seq      bigint PRIMARY KEY CHECK (from_seq > 0),
  to_seq        bigint NOT NULL,
  events        integer NOT NULL,
  persisted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK (to_seq >= from_seq)
);

CREATE TABLE persistence_watermark (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq         bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO persistence_watermark DEFAULT VALUES;

-- API keys: only a hash of the secret is stored; a revoked key keeps its row for audit.
CREATE TABLE api_keys (
  key_id       text PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id),
  secret_hash  text NOT NULL,
  label        text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);

-- Down Migration
DROP TABLE IF EXISTS api_keys, persistence_watermark, persisted_batches, state_hashes, engine_snapshots,
  command_journal, account_ledger, positions, trades, orders, accounts, instruments, users;
DROP FUNCTION IF EXISTS exch_uuid_id(uuid), exch_uuid(int, bigint), exch_ts_to_us(timestamptz),
  exch_us_to_ts(bigint);
