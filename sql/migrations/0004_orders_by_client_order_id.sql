-- Up Migration
-- order_status by client order id for orders the gateway no longer remembers (src/gateway/order-archive.ts):
-- the newest order (highest engine_id) of an account with a given client order id. Without it that lookup
-- reads the whole table. Partial: orders placed without a client order id cost nothing here. Its columns
-- never change after the insert, so it adds one index entry per insert and per update that is not HOT
-- anyway (a status change already touches orders_open_by_account); fill-only updates stay HOT.
CREATE INDEX orders_by_account_client_order_id ON orders (account_id, client_order_id, engine_id)
  WHERE client_order_id IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS orders_by_account_client_order_id;
