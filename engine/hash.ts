/**
 * The canonical state hash: SHA-256 over a fixed-order text encoding of everything that determines the
 * engine's future behaviour (counters, users, instruments, books in priority order, stops, and the risk
 * core's accounts and positions). Two engines with equal hashes answer every future command alike.
 *
 * Hashing is a cold path (checkpoints, recovery checks), so it favours plainness over speed. The only
 * non-determinism a hash could pick up is Map iteration order; every collection is walked in an order
 * defined by ids or prices, never by insertion.
 */
import { createHash } from 'node:crypto';
import type { Engine } from './engine.js';
import type { Order } from './order.js';

export function hashEngine(engine: Engine): string {
  const h = createHash('sha256');
  const put = (chunk: string): void => {
    h.update(chunk);
    h.update('\n');
  };
  put(
    `v1|seq=${engine.lastSeq}|ids=${engine.nextUserId},${engine.nextInstrumentId},${engine.nextOrderId},${engine.nextTradeId}`,
  );
  for (const id of [...engine.users.keys()].sort((a, b) => a - b)) {
    const u = engine.users.get(id)!;
    put(`user|${u.userId}|${JSON.stringify(u.name)}|${JSON.stringify(u.email)}|${u.createdAt}`);
  }
  const markets = [...engine.markets.values()].sort((a, b) => a.instrument.id - b.instrument.id);
  for (const m of markets) {
    const ins = m.instrument;
    put(`instrument|${JSON.stringify(ins.spec)}|last=${ins.lastTradeTicks}|mark=${ins.markUnits}`);
    for (const side of [m.book.bids, m.book.asks]) {
      for (let i = side.levels.length - 1; i >= 0; i--) {
        const level = side.levels[i];
        put(`level|${side.side}|${level.priceTicks}|${level.totalLots}|${level.count}`);
        for (let o = level.head; o !== null; o = o.next) put(orderLine(o));
      }
    }
    for (const o of m.stops.buys) put(`stop|${orderLine(o)}`);
    for (const o of m.stops.sells) put(`stop|${orderLine(o)}`);
  }
  engine.risk?.hashInto(put);
  return h.digest('hex');
}

function orderLine(o: Order): string {
  return [
    'order',
    o.id,
    o.accountId,
    JSON.stringify(o.clientOrderId),
    o.instrument.id,
    o.side,
    o.type,
    o.tif,
    o.priceTicks,
    o.stopTicks,
    o.quantityLots,
    o.filledLots,
    o.remainingLots,
    o.cancelledLots,
    o.filledCost,
    o.status,
    o.postOnly,
    o.reduceOnly,
    o.leverage,
    o.commissionRate,
    o.origin,
    o.createdAt,
    o.updatedAt,
    o.reserved,
  ].join('|');
}
