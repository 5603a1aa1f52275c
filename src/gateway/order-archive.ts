/**
 * Where `order_status` looks when the account's view (account-view.ts) does not know the order: finished
 * orders older than its ring of remembered ones, and every finished order after a restart. The persistence
 * workers write every order's latest state to the `orders` table; that is the archive.
 *
 * The gateway only sees the interface, handed in by the server (src/server.ts; src/main.ts builds the
 * PostgreSQL one on the pool it already has for API keys). Without one, a miss in the view stays
 * UNKNOWN_ORDER.
 *
 * The archive may lag the engine by the persistence pipeline's lag: an answer carries the row's seq.
 */
import { type DatabasePool, sql } from 'slonik';
import type { OrderState } from '../../engine/events.js';
import { toUuid } from '../../persistence/ids.js';
import { ORDER_STATE_COLUMNS, orderStateFromRow } from '../../persistence/read-back.js';

/** Which order: by engine id, or the newest order of the account with this client order id. */
export type ArchiveRef = { orderId: number } | { clientOrderId: string };

export interface ArchivedOrder {
  order: OrderState;
  /** The sequencer seq of the order's last persisted change. */
  seq: number;
}

export interface OrderArchive {
  /**
   * The persisted state of an order of `accountId`, or null when that account has no such order in the
   * archive (an order of another account is null too). Rejects when the archive cannot answer.
   */
  find(accountId: number, ref: ArchiveRef): Promise<ArchivedOrder | null>;
  /**
   * The account's newest ended orders that carry a client order id, newest first, at most `limit`: after a
   * restart they seed the view's window of client order ids that may not be reused (account-view.ts).
   */
  recentEnded?(accountId: number, limit: number): Promise<OrderState[]>;
}

/** The `orders` table. By id: a primary-key lookup; by client order id: orders_by_account_client_order_id. */
export class PgOrderArchive implements OrderArchive {
  constructor(private readonly pool: DatabasePool) {}

  async find(accountId: number, ref: ArchiveRef): Promise<ArchivedOrder | null> {
    const account = toUuid('account', accountId);
    const row =
      'orderId' in ref
        ? await this.pool.maybeOne(sql.unsafe`
            SELECT ${ORDER_STATE_COLUMNS} FROM orders
            WHERE id = ${toUuid('order', ref.orderId)}::uuid AND account_id = ${account}::uuid`)
        : await this.pool.maybeOne(sql.unsafe`
            SELECT ${ORDER_STATE_COLUMNS} FROM orders
            WHERE account_id = ${account}::uuid AND client_order_id = ${ref.clientOrderId}
            ORDER BY engine_id DESC LIMIT 1`);
    return row === null ? null : orderStateFromRow(row as Record<string, unknown>);
  }

  async recentEnded(accountId: number, limit: number): Promise<OrderState[]> {
    const rows = await this.pool.any(sql.unsafe`
      SELECT ${ORDER_STATE_COLUMNS} FROM orders
      WHERE account_id = ${toUuid('account', accountId)}::uuid AND client_order_id IS NOT NULL
        AND status IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')
      ORDER BY engine_id DESC LIMIT ${limit}`);
    return rows.map((row) => orderStateFromRow(row as Record<string, unknown>).order);
  }
}
