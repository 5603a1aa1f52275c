-- Up Migration
-- Indexes for the queries users run. Each one costs every write on its table, so there are few.

-- An account's open orders (order entry, cancel-all, the private stream's snapshot): only live rows.
CREATE INDEX orders_open_by_account ON orders (account_id, symbol)
  WHERE status IN ('PENDING_TRIGGER', 'NEW', 'PARTIALLY_FILLED');

-- Not indexed on purpose: an account's full order history by time (final orders are the bulk of the table;
-- the open-orders index and the trades index serve the frequent queries; add one if history paging needs it).

-- An account's trades by time (fills history, tax exports).
CREATE INDEX trades_by_account_time ON trades (account_id, executed_at DESC);

-- The ledger of one account in time order (statements, and the before/after chain check).
CREATE INDEX account_ledger_by_account_time ON account_ledger (account_id, created_at, engine_id);

-- An account's positions by status (the open ones for risk views, the closed ones for history).
CREATE INDEX positions_by_account_status ON positions (account_id, status);

-- Accounts of a user (login, account switcher).
CREATE INDEX accounts_by_user ON accounts (user_id);

-- Down Migration
DROP INDEX IF EXISTS accounts_by_user, positions_by_account_status, account_ledger_by_account_time,
  trades_by_account_time, orders_open_by_account;
