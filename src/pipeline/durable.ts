/**
 * What a batch job carries for the database: the batch's commands (the journal) and, of its events, what
 * the tables are made of. Clients get every event of a released batch in-process (the gateway); the job
 * is only the durable record, so it leaves out what no table keeps:
 * - of the current-state events (`order`, `position`, `account`), only the last one per entity: the
 *   workers upsert the newest state (persistence/rows.ts keeps the newest per entity of a batch anyway);
 * - transient events: L2 `book` deltas (a third of all events), `rejected` (the refused order, if there
 *   is one, is an `order` event), `mark_price`, `funding`, `margin_call`, `liquidation`, `session_end`
 *   (the rows they change arrive as state and ledger events; the journal keeps the commands).
 * Append-only events (`trade`, `ledger`, `state_hash`, `user_created`, `instrument_created`) all stay.
 * Measured on the risk-on mixed flow: about half the events, so half the encoding on the engine's thread
 * and half the decoding in the workers, for the same rows (test/persistence/durable.test.ts).
 */
import type { EngineEvent } from '../../engine/events.js';

export function durableEvents(events: readonly EngineEvent[]): EngineEvent[] {
  const orders = new Set<number>();
  const positions = new Set<number>();
  const accounts = new Set<number>();
  const kept: EngineEvent[] = [];
  // Backwards: the first state event met per entity is its newest (a batch's events are in seq order).
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    switch (e.type) {
      case 'order':
        if (orders.has(e.orderId)) continue;
        orders.add(e.orderId);
        break;
      case 'position':
        if (positions.has(e.positionId)) continue;
        positions.add(e.positionId);
        break;
      case 'account':
        if (accounts.has(e.accountId)) continue;
        accounts.add(e.accountId);
        break;
      case 'trade':
      case 'ledger':
      case 'state_hash':
      case 'user_created':
      case 'instrument_created':
        break;
      default:
        continue;
    }
    kept.push(e);
  }
  return kept.reverse();
}
