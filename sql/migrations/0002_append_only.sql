-- Up Migration
-- Append-only tables: the ledger (required: every balance change stays provable), and trades and the command
-- journal (facts the engine will reproduce on replay, so there is never a reason to change one).
-- Row triggers do not fire on TRUNCATE, hence the separate statement-level trigger.

CREATE FUNCTION exch_refuse_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER account_ledger_no_update_delete BEFORE UPDATE OR DELETE ON account_ledger
  FOR EACH ROW EXECUTE FUNCTION exch_refuse_change();
CREATE TRIGGER account_ledger_no_truncate BEFORE TRUNCATE ON account_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION exch_refuse_change();

CREATE TRIGGER trades_no_update_delete BEFORE UPDATE OR DELETE ON trades
  FOR EACH ROW EXECUTE FUNCTION exch_refuse_change();
CREATE TRIGGER trades_no_truncate BEFORE TRUNCATE ON trades
  FOR EACH STATEMENT EXECUTE FUNCTION exch_refuse_change();

CREATE TRIGGER command_journal_no_update_delete BEFORE UPDATE OR DELETE ON command_journal
  FOR EACH ROW EXECUTE FUNCTION exch_refuse_change();
CREATE TRIGGER command_journal_no_truncate BEFORE TRUNCATE ON command_journal
  FOR EACH STATEMENT EXECUTE FUNCTION exch_refuse_change();

-- Positions are never deleted: a closed position stays.
CREATE TRIGGER positions_no_delete BEFORE DELETE ON positions
  FOR EACH ROW EXECUTE FUNCTION exch_refuse_change();
CREATE TRIGGER positions_no_truncate BEFORE TRUNCATE ON positions
  FOR EACH STATEMENT EXECUTE FUNCTION exch_refuse_change();

-- The role the application's login roles should be members of: it can append to the append-only tables and
-- upsert the current-state ones, nothing more (a trigger is the guard for the table owner, privileges for
-- everyone else). Roles are cluster-wide, so creating it tolerates another database having done it first.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exchange_app') THEN
    CREATE ROLE exchange_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;

REVOKE ALL ON users, instruments, accounts, orders, trades, positions, account_ledger, command_journal,
  engine_snapshots, state_hashes, persisted_batches, persistence_watermark, api_keys FROM PUBLIC;
GRANT SELECT, INSERT ON trades, account_ledger, command_journal, engine_snapshots, state_hashes TO exchange_app;
GRANT SELECT, INSERT, UPDATE ON users, instruments, accounts, orders, positions, persistence_watermark,
  api_keys TO exchange_app;
GRANT SELECT, INSERT, DELETE ON persisted_batches TO exchange_app;

-- Down Migration
REVOKE ALL ON users, instruments, accounts, orders, trades, positions, account_ledger, command_journal,
  engine_snapshots, state_hashes, persisted_batches, persistence_watermark, api_keys FROM exchange_app;
DROP TRIGGER IF EXISTS positions_no_truncate ON positions;
DROP TRIGGER IF EXISTS positions_no_delete ON positions;
DROP TRIGGER IF EXISTS command_journal_no_truncate ON command_journal;
DROP TRIGGER IF EXISTS command_journal_no_update_delete ON command_journal;
DROP TRIGGER IF EXISTS trades_no_truncate ON trades;
DROP TRIGGER IF EXISTS trades_no_update_delete ON trades;
DROP TRIGGER IF EXISTS account_ledger_no_truncate ON account_ledger;
DROP TRIGGER IF EXISTS account_ledger_no_update_delete ON account_ledger;
DROP FUNCTION IF EXISTS exch_refuse_change();
