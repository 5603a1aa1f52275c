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
 *
 * The same rules hold for an event kept whole in the log (an object record) as for a record.
 */
import {
  A_ID,
  type EventLog,
  K_ACCOUNT,
  K_BOOK,
  K_LEDGER,
  K_OBJECT,
  K_ORDER,
  K_POSITION,
  K_TRADE,
  O_ID,
  OBJ_REF,
  P_ID,
} from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';

/** The word offsets of the log's durable records, in log order. */
export function durableRecords(log: EventLog): number[] {
  const all: number[] = [];
  for (let o = 0; o < log.n; o = log.next(o)) all.push(o);
  const orders = new Set<number>();
  const positions = new Set<number>();
  const accounts = new Set<number>();
  const f = log.f;
  const kept: number[] = [];
  // Backwards: the first state event met per entity is its newest (a batch's events are in seq order).
  for (let i = all.length - 1; i >= 0; i--) {
    const o = all[i]!;
    let keep: boolean;
    switch (f[o]) {
      case K_ORDER:
        keep = first(orders, f[o + O_ID]);
        break;
      case K_POSITION:
        keep = first(positions, f[o + P_ID]);
        break;
      case K_ACCOUNT:
        keep = first(accounts, f[o + A_ID]);
        break;
      case K_TRADE:
      case K_LEDGER:
        keep = true;
        break;
      case K_BOOK:
        keep = false;
        break;
      case K_OBJECT:
        keep = durableObject(log.refs[f[o + OBJ_REF]] as EngineEvent, orders, positions, accounts);
        break;
      default:
        throw new Error(`durable: unknown record kind ${f[o]} at word ${o}`);
    }
    if (keep) kept.push(o);
  }
  return kept.reverse();
}

function durableObject(
  e: EngineEvent,
  orders: Set<number>,
  positions: Set<number>,
  accounts: Set<number>,
): boolean {
  switch (e.type) {
    case 'order':
      return first(orders, e.orderId);
    case 'position':
      return first(positions, e.positionId);
    case 'account':
      return first(accounts, e.accountId);
    case 'trade':
    case 'ledger':
    case 'state_hash':
    case 'user_created':
    case 'instrument_created':
      return true;
    default:
      return false;
  }
}

/** True the first time `id` is met (and remembers it). */
function first(seen: Set<number>, id: number): boolean {
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
}
