/**
 * Orders whose size is promised by a position: reduce-only orders (they may only shrink it) and a cash
 * account's sells (it sells only what it holds). Admission checks them against the position as it is then
 * (pretrade.ts); this keeps them true afterwards. When a position shrinks, closes or flips (any fill against
 * it: another order, a stop-loss, a take-profit, the insurance fund), the account's promising orders on that
 * instrument are clipped at the end of the command to what the position still holds, oldest order first
 * kept; an order with nothing left is cancelled REDUCE_ONLY_CLIPPED (a cash account's sells are reduce-only
 * by nature). Without this a resting reduce-only order outlived the position it was to close and later
 * opened one, with no margin check, and a cash account went short.
 *
 * Within a command the matcher does the same for a maker at its turn (engine/matcher.ts), and the engine for
 * an order about to execute (RiskPort.unbackedLots), so no fill ever goes past what the position backs.
 */
import type { Side } from '../enums.js';
import type { Instrument } from '../instrument.js';
import type { Order } from '../order.js';
import type { Account } from './account.js';
import type { RiskCore } from './core.js';

/** Whether an order on `side` would shrink a position of `lots` (signed): never when flat. */
export function closes(lots: number, side: Side): boolean {
  return lots > 0 ? side === 'SELL' : lots < 0 ? side === 'BUY' : false;
}

/** Whether the order's size is a promise of the account's position. */
export function promises(account: Account, order: Order): boolean {
  return order.reduceOnly || (!account.marginEnabled && order.side === 'SELL');
}

/**
 * The account's promising orders (a superset: ended ones are dropped as met). Built from its live orders the
 * first time it is needed (also after a snapshot restore, which does not carry it), then kept up by admit.
 * Only called where every live order is in the account's list: at admission and at the end of a command.
 */
export function promisingOrders(core: RiskCore, account: Account): Set<Order> {
  let set = account.promising;
  if (set === null) {
    set = new Set();
    const owner = core.engine.owners.get(account.id);
    if (owner !== undefined)
      for (let o = owner.head; o !== null; o = o.ownerNext) if (promises(account, o)) set.add(o);
    account.promising = set;
  }
  return set;
}

/**
 * A fill shrank, closed or flipped the account's position on `ins`: its promises are checked at the end of
 * the command. Not here: mid-command an order may be out of the account's list (an amend re-executing it, a
 * stop being triggered), and a set first built from that list would miss it (a restored engine builds late).
 */
export function positionReduced(core: RiskCore, account: Account, ins: Instrument): void {
  const q = core.reclipQueue;
  const n = q.length;
  if (n > 0 && q[n - 2] === account && q[n - 1] === ins) return;
  q.push(account, ins);
}

/** End of command: clips the promises of every position that shrank in it. */
export function reclipAll(core: RiskCore): void {
  const q = core.reclipQueue;
  for (let i = 0; i < q.length; i += 2) reclip(core, q[i] as Account, q[i + 1] as Instrument);
  q.length = 0;
}

function reclip(core: RiskCore, account: Account, ins: Instrument): void {
  const set = promisingOrders(core, account);
  const mine: Order[] = [];
  for (const o of set) {
    if (!o.isLive) set.delete(o);
    else if (o.instrument === ins) mine.push(o);
  }
  if (mine.length === 0) return;
  mine.sort((a, b) => a.id - b.id);
  const lots = account.positions.get(ins.id)?.lots ?? 0;
  // What the position can still absorb, shared by the orders on the closing side.
  let room = account.marginEnabled ? Math.abs(lots) : Math.max(lots, 0);
  for (const o of mine) {
    const keep = closes(lots, o.side) ? Math.min(o.remainingLots, room) : 0;
    room -= keep;
    const excess = o.remainingLots - keep;
    if (excess > 0) core.engine.clipOrder(o, excess, 'REDUCE_ONLY_CLIPPED');
    if (!o.isLive) set.delete(o);
  }
}
