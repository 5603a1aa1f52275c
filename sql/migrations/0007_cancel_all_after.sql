-- Up Migration
-- Orders cancelled by an account's dead-man's switch (the gateway's `cancel_all_after` running out) end with
-- cancel_reason CANCEL_ALL_AFTER. Migrations run in one transaction, so the orders table stays locked while
-- the new CHECK reads every row: workers writing orders wait for it.
ALTER TABLE orders DROP CONSTRAINT orders_cancel_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN (
  'USER', 'CANCEL_ALL', 'IOC_REMAINDER', 'MARKET_REMAINDER', 'SELF_TRADE_PREVENTED', 'SESSION_END',
  'LIQUIDATION', 'REDUCE_ONLY_CLIPPED', 'ACCOUNT_SUSPENDED', 'DISCONNECT', 'CANCEL_ALL_AFTER'));

-- Down Migration
-- NOT VALID: rows already cancelled this way stay as they are (they are final: no later write touches
-- them); new ones are refused again.
ALTER TABLE orders DROP CONSTRAINT orders_cancel_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN (
  'USER', 'CANCEL_ALL', 'IOC_REMAINDER', 'MARKET_REMAINDER', 'SELF_TRADE_PREVENTED', 'SESSION_END',
  'LIQUIDATION', 'REDUCE_ONLY_CLIPPED', 'ACCOUNT_SUSPENDED', 'DISCONNECT')) NOT VALID;
