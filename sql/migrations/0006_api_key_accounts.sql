-- Up Migration
-- API keys narrowed to some of their user's accounts (key:create --account-ids): the engine account ids
-- the key may use; empty: every account of its user. Without the column the PostgreSQL key store refused
-- such keys (an operator's request answered 500), so a bot's key could not be limited to one account.
ALTER TABLE api_keys ADD COLUMN account_ids bigint[] NOT NULL DEFAULT '{}'
  CHECK (0 < ALL (account_ids));

-- Down Migration
ALTER TABLE api_keys DROP COLUMN account_ids;
