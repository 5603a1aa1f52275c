-- Up Migration
-- Orders cancelled by an account's dead-man's switch (the gateway's `cancel_all_after` running out) end with
-- cancel_reason CANCEL_ALL_AFTER. The new CHECK is added NOT VALID and validated apart: validation then
-- takes a lock that lets the workers keep writing orders while it scans the table.
ALTER TABLE orders DROP CONSTRAINT orders_cancel_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN (
  'USER', 'CANCEL_ALL', 'IOC_REMAINDER', 'MARKET_REMAINDER', 'SELF_TRADE_PREVENTED', 'SESSION_END',
  'LIQUIDATION', 'REDUCE_ONLY_CLIPPED', 'ACCOUNT_SUSPENDED', 'DISCONNECT', 'CANCEL_ALL_AFTER')) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_cancel_reason_check;

-- Down Migration
ALTER TABLE orders DROP CONSTRAINT orders_cancel_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_cancel_reason_check CHECK (cancel_reason IN (
  'USER', 'CANCEL_ALL', 'IOC_REMAINDER', 'MARKET_REMAINDER', 'SELF_TRADE_PREVENTED', 'SESSION_END',
  'LIQUIDATION', 'REDUCE_ONLY_CLIPPED', 'ACCOUNT_SUSPENDED', 'DISCONNECT')) NOT VALID;
