/**
 * A deterministic snapshot of the whole engine: `snapshotEngine(engine)` encodes it into bytes,
 * `restoreEngine(bytes)` builds an engine whose stateHash() is the original's and which emits the same events
 * for every following command.
 *
 * Why a binary layout and not JSON: a snapshot is taken on the engine thread (the order flow waits) and read
 * at restart; with a million resting orders JSON was several times larger and slower both ways. The layout
 * is a flat byte stream of LEB128 varints (see snapshot-codec.ts); it is uncompressed here (compression belongs off the
 * engine thread, src/recovery/snapshotter.ts).
 *
 * Everything is written in the engine's own iteration orders (Map insertion order, book priority order,
 * stop trigger order, each account's live orders in registration order), not re-sorted, so the restored
 * engine iterates exactly like the original even where a future change starts to depend on an insertion
 * order. The one exception is the registry of live orders by id (Engine.orders), which nothing iterates:
 * live orders are written where they wait, which spares restore an id lookup per order. The codec only goes through the engine's
 * public fields and constructors (Order, Account, Position, BookSide.add, StopBook.add), so internal
 * repacking of those classes keeps it working as long as their fields keep their names.
 */
import type { EngineOptions } from './api.js';
import type { BookSide } from './book.js';
import { OrderBook } from './book.js';
import type { CreateInstrument } from './commands.js';
import { Engine, type Market, Owner } from './engine.js';
import type {
  AccountStatus,
  CancelReason,
  OrderStatus,
  OrderType,
  PositionStatus,
  RejectReason,
  Side,
  TimeInForce,
} from './enums.js';
import type { InstrumentSpec } from './events.js';
import { type Instrument, instrumentFromCommand } from './instrument.js';
import { Order, type OrderOrigin } from './order.js';
import { Account } from './risk/account.js';
import { Position } from './risk/position.js';
import { ByteReader, ByteWriter } from './snapshot-codec.js';
import { StopBook } from './stops.js';

const MAGIC = 0x4e534545; // "EESN" little-endian: exchange engine snapshot
/** 2: live orders written where they wait (book levels, stop lists) instead of in registry order. */
const VERSION = 2;

/** What a snapshot says about itself without restoring it. */
export interface SnapshotInfo {
  version: number;
  seq: number;
  risk: boolean;
  orders: number;
}

/** The engine's private clock fields, set on restore (the engine has no public setter for them). */
interface EngineClock {
  seq: number;
  ts: number;
}

export function snapshotEngine(engine: Engine): Uint8Array {
  // about 60 bytes per order: sized so a large book does not grow (copy) the buffer
  const w = new ByteWriter(64 * 1024 + engine.orders.size * 72);
  w.u32(MAGIC);
  w.u(VERSION);
  w.u(engine.lastSeq);
  w.u(engine.now);
  w.bool(engine.risk !== null);
  w.u(engine.orders.size);
  w.u(engine.nextUserId);
  w.u(engine.nextInstrumentId);
  w.u(engine.nextOrderId);
  w.u(engine.nextTradeId);

  w.u(engine.users.size);
  for (const u of engine.users.values()) {
    w.u(u.userId);
    w.str(u.name);
    w.nstr(u.email);
    w.u(u.createdAt);
  }

  w.u(engine.markets.size);
  for (const m of engine.markets.values()) {
    const ins = m.instrument;
    // The spec is re-validated on restore (instrumentFromCommand), which rebuilds every derived field.
    w.str(JSON.stringify(ins.spec));
    w.u(ins.lastTradeTicks);
    w.big(ins.markUnits);
  }

  // Every live order once, with every field, where it waits: on its book level in queue order, or in its
  // stop list in trigger order. Restoring then needs no id lookups for the book. (The live-order registry's
  // own insertion order is not kept: nothing in the engine iterates it; it is rebuilt in this order.)
  let written = 0;
  for (const m of engine.markets.values()) {
    written += writeSide(w, m.book.bids);
    written += writeSide(w, m.book.asks);
    written += writeOrders(w, m.stops.buys);
    written += writeOrders(w, m.stops.sells);
  }
  if (written !== engine.orders.size) {
    throw new Error(
      `snapshot: ${engine.orders.size} live orders, but ${written} rest in books or stop lists`,
    );
  }

  w.u(engine.owners.size);
  for (const [accountId, owner] of engine.owners) {
    w.u(accountId);
    writeIds(w, owner.live);
    w.u(owner.byClientId.size);
    for (const [coid, o] of owner.byClientId) {
      w.str(coid);
      w.u(o.id);
    }
  }
  writeIds(w, engine.dayOrders);

  const risk = engine.risk;
  if (risk !== null) {
    w.u(risk.nextAccountId);
    w.u(risk.nextPositionId);
    w.u(risk.nextLedgerId);
    w.u(risk.accounts.size);
    for (const a of risk.accounts.values()) {
      w.u(a.id);
      w.u(a.userId);
      w.sym(a.currency);
      w.u(a.createdAt);
      w.bool(a.marginEnabled);
      w.bool(a.autoLiquidation);
      w.big(a.marginCallThreshold);
      w.big(a.liquidationThreshold);
      w.bool(a.insuranceFund);
      w.u(a.maxLeverage);
      w.sym(a.status);
      w.big(a.balance);
      w.big(a.marginUsed);
      w.big(a.orderMargin);
      w.big(a.realizedPnl);
      w.u(a.updatedAt);
      w.bool(a.marginCalled);
      w.u(a.positions.size);
      for (const [instrumentId, p] of a.positions) {
        w.u(instrumentId);
        writePosition(w, p);
      }
    }
    w.u(risk.insuranceFunds.size);
    for (const [currency, a] of risk.insuranceFunds) {
      w.sym(currency);
      w.u(a.id);
    }
    w.u(risk.openPositions.size);
    for (const [instrumentId, set] of risk.openPositions) {
      w.u(instrumentId);
      w.u(set.size);
      for (const p of set) {
        w.u(p.accountId);
        w.u(p.id);
      }
    }
    w.u(risk.totals.size);
    for (const [currency, t] of risk.totals) {
      w.sym(currency);
      w.big(t.deposits);
      w.big(t.withdrawals);
      w.big(t.fees);
      w.big(t.fundingDust);
    }
  }
  w.u32(MAGIC); // trailer: a truncated snapshot fails loudly instead of restoring half a state
  return w.finish();
}

function writeOrder(w: ByteWriter, o: Order): void {
  w.u(o.id);
  w.u(o.accountId);
  w.nstr(o.clientOrderId);
  w.u(o.instrument.id);
  w.sym(o.side);
  w.sym(o.type);
  w.sym(o.tif);
  w.u(o.priceTicks);
  w.u(o.stopTicks);
  w.u(o.quantityLots);
  w.u(o.filledLots);
  w.u(o.remainingLots);
  w.u(o.cancelledLots);
  w.big(o.filledCost);
  w.bool(o.postOnly);
  w.bool(o.reduceOnly);
  w.u(o.leverage);
  w.big(o.commissionRate);
  w.sym(o.origin);
  w.sym(o.status);
  w.nsym(o.rejectionReason);
  w.nsym(o.cancelReason);
  w.u(o.createdAt);
  w.u(o.updatedAt);
  w.nu(o.expiredAt);
  w.big(o.reserved);
  w.u(o.reserveTicks);
}

function writeSide(w: ByteWriter, side: BookSide): number {
  const levels = side.levels;
  let n = 0;
  w.u(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    w.u(level.priceTicks);
    w.u(level.totalLots);
    w.u(level.count);
    for (let o = level.head; o !== null; o = o.next) {
      writeOrder(w, o);
      n++;
    }
  }
  return n;
}

function writeOrders(w: ByteWriter, orders: readonly Order[]): number {
  w.u(orders.length);
  for (let i = 0; i < orders.length; i++) writeOrder(w, orders[i]);
  return orders.length;
}

function writeIds(w: ByteWriter, orders: Iterable<Order> & ({ length: number } | { size: number })): void {
  w.u('length' in orders ? orders.length : orders.size);
  for (const o of orders) w.u(o.id);
}

function writePosition(w: ByteWriter, p: Position): void {
  w.u(p.id);
  w.u(p.accountId);
  w.u(p.instrument.id);
  w.u(p.openedAt);
  w.i(p.lots);
  w.big(p.basis);
  w.big(p.margin);
  w.u(p.leverage);
  w.big(p.realizedPnl);
  w.big(p.fees);
  w.big(p.funding);
  w.big(p.volume);
  w.u(p.tradeCount);
  w.u(p.stopLossTicks);
  w.u(p.takeProfitTicks);
  w.sym(p.status);
  w.nu(p.closedAt);
  w.u(p.updatedAt);
}

/** Reads a snapshot's header only. */
export function snapshotInfo(bytes: Uint8Array): SnapshotInfo {
  const r = new ByteReader(bytes);
  if (r.u32() !== MAGIC) throw new Error('not an engine snapshot (bad magic)');
  const version = r.u();
  if (version !== VERSION) throw new Error(`engine snapshot version ${version}, this build reads ${VERSION}`);
  const seq = r.u();
  r.u(); // ts
  const risk = r.bool();
  const orders = r.u();
  return { version, seq, risk, orders };
}

/**
 * Builds an engine from a snapshot. `options.risk` must agree with the snapshot (default: whatever the
 * snapshot says): an engine cannot gain or lose its risk core by being restored.
 */
export function restoreEngine(bytes: Uint8Array, options: EngineOptions = {}): Engine {
  const info = snapshotInfo(bytes);
  const risk = options.risk ?? info.risk;
  if (risk !== info.risk) {
    throw new Error(
      `snapshot was taken with risk ${info.risk ? 'on' : 'off'}, restore asked for the opposite`,
    );
  }
  const engine = new Engine({ ...options, risk });
  restoreInto(engine, bytes);
  return engine;
}

/**
 * Fills a freshly constructed engine (nothing applied yet) from a snapshot. For callers that own the engine
 * object already (the server builds its engine before recovery runs).
 */
export function restoreInto(engine: Engine, bytes: Uint8Array): void {
  if (engine.lastSeq !== 0 || engine.markets.size !== 0 || engine.users.size !== 0) {
    throw new Error('restoreInto needs a fresh engine');
  }
  const r = new ByteReader(bytes);
  if (r.u32() !== MAGIC) throw new Error('not an engine snapshot (bad magic)');
  const version = r.u();
  if (version !== VERSION) throw new Error(`engine snapshot version ${version}, this build reads ${VERSION}`);
  const clock = engine as unknown as EngineClock;
  clock.seq = r.u();
  clock.ts = r.u();
  const hasRisk = r.bool();
  if (hasRisk !== (engine.risk !== null)) throw new Error('snapshot and engine disagree on the risk core');
  const orderCount = r.u();
  engine.nextUserId = r.u();
  engine.nextInstrumentId = r.u();
  engine.nextOrderId = r.u();
  engine.nextTradeId = r.u();

  for (let n = r.u(); n > 0; n--) {
    const userId = r.u();
    const name = r.str();
    const email = r.nstr();
    const createdAt = r.u();
    engine.users.set(userId, { userId, name, email, createdAt });
  }

  const byInstrumentId = new Map<number, Instrument>();
  const markets: Market[] = [];
  for (let n = r.u(); n > 0; n--) {
    const spec = JSON.parse(r.str()) as InstrumentSpec;
    const { instrumentId, ...fields } = spec;
    const ins = instrumentFromCommand(instrumentId, {
      ...fields,
      type: 'create_instrument',
    } as CreateInstrument);
    if (typeof ins === 'string') throw new Error(`snapshot instrument ${spec.symbol} is invalid: ${ins}`);
    ins.lastTradeTicks = r.u();
    ins.markUnits = r.big();
    const market: Market = { instrument: ins, book: new OrderBook(), stops: new StopBook() };
    engine.markets.set(ins.symbol, market);
    byInstrumentId.set(ins.id, ins);
    markets.push(market);
  }

  const orders = engine.orders;
  const live = (o: Order): Order => {
    o.registered = true;
    orders.set(o.id, o);
    return o;
  };
  for (const m of markets) {
    readSide(r, m.book.bids, byInstrumentId, live);
    readSide(r, m.book.asks, byInstrumentId, live);
    for (let n = r.u(); n > 0; n--) m.stops.add(live(readOrder(r, byInstrumentId)));
    for (let n = r.u(); n > 0; n--) m.stops.add(live(readOrder(r, byInstrumentId)));
  }
  if (orders.size !== orderCount) {
    throw new Error(`snapshot header says ${orderCount} live orders, the body holds ${orders.size}`);
  }
  const orderOf = (id: number): Order => {
    const o = orders.get(id);
    if (o === undefined) throw new Error(`snapshot names order ${id}, which it does not hold`);
    return o;
  };

  for (let n = r.u(); n > 0; n--) {
    const accountId = r.u();
    const owner = new Owner();
    for (let k = r.u(); k > 0; k--) owner.append(orderOf(r.u()));
    for (let k = r.u(); k > 0; k--) {
      const coid = r.str();
      owner.byClientId.set(coid, orderOf(r.u()));
    }
    engine.owners.set(accountId, owner);
  }
  for (let n = r.u(); n > 0; n--) engine.dayOrders.add(orderOf(r.u()));

  const risk = engine.risk;
  if (risk !== null) {
    risk.nextAccountId = r.u();
    risk.nextPositionId = r.u();
    risk.nextLedgerId = r.u();
    const positions = new Map<number, Position>();
    for (let n = r.u(); n > 0; n--) {
      const id = r.u();
      const userId = r.u();
      const currency = r.sym();
      const createdAt = r.u();
      const marginEnabled = r.bool();
      const autoLiquidation = r.bool();
      const marginCall = r.big();
      const liquidation = r.big();
      const insuranceFund = r.bool();
      const maxLeverage = r.u();
      const account = new Account(
        id,
        userId,
        currency,
        maxLeverage,
        marginEnabled,
        autoLiquidation,
        marginCall,
        liquidation,
        insuranceFund,
        createdAt,
      );
      account.status = r.sym() as AccountStatus;
      account.balance = r.big();
      account.marginUsed = r.big();
      account.orderMargin = r.big();
      account.realizedPnl = r.big();
      account.updatedAt = r.u();
      account.marginCalled = r.bool();
      for (let k = r.u(); k > 0; k--) {
        const instrumentId = r.u();
        const p = readPosition(r, byInstrumentId);
        account.positions.set(instrumentId, p);
        positions.set(p.id, p);
      }
      risk.accounts.set(account.id, account);
    }
    for (let n = r.u(); n > 0; n--) {
      const currency = r.sym();
      const id = r.u();
      const fund = risk.accounts.get(id);
      if (fund === undefined) throw new Error(`snapshot insurance fund ${id} is not an account`);
      risk.insuranceFunds.set(currency, fund);
    }
    for (let n = r.u(); n > 0; n--) {
      const instrumentId = r.u();
      const set = new Set<Position>();
      for (let k = r.u(); k > 0; k--) {
        r.u(); // account id: kept in the layout for readers that inspect snapshots without restoring
        const id = r.u();
        const p = positions.get(id);
        if (p === undefined) throw new Error(`snapshot open position ${id} is not held by any account`);
        set.add(p);
      }
      risk.openPositions.set(instrumentId, set);
    }
    for (let n = r.u(); n > 0; n--) {
      const currency = r.sym();
      risk.totals.set(currency, {
        deposits: r.big(),
        withdrawals: r.big(),
        fees: r.big(),
        fundingDust: r.big(),
      });
    }
  }
  if (r.u32() !== MAGIC || !r.atEnd()) throw new Error('engine snapshot is truncated or has trailing bytes');
}

function readOrder(r: ByteReader, instruments: Map<number, Instrument>): Order {
  const id = r.u();
  const accountId = r.u();
  const coid = r.nstr();
  const instrumentId = r.u();
  const ins = instruments.get(instrumentId);
  if (ins === undefined) throw new Error(`snapshot order ${id} names unknown instrument ${instrumentId}`);
  const side = r.sym() as Side;
  const type = r.sym() as OrderType;
  const tif = r.sym() as TimeInForce;
  const priceTicks = r.u();
  const stopTicks = r.u();
  const quantityLots = r.u();
  const filledLots = r.u();
  const remainingLots = r.u();
  const cancelledLots = r.u();
  const filledCost = r.big();
  const postOnly = r.bool();
  const reduceOnly = r.bool();
  const leverage = r.u();
  const commissionRate = r.big();
  const origin = r.sym() as OrderOrigin;
  const o = new Order(
    id,
    accountId,
    coid,
    ins,
    side,
    type,
    tif,
    priceTicks,
    stopTicks,
    quantityLots,
    postOnly,
    reduceOnly,
    leverage,
    commissionRate,
    origin,
    0,
  );
  o.filledLots = filledLots;
  o.remainingLots = remainingLots;
  o.cancelledLots = cancelledLots;
  o.filledCost = filledCost;
  o.status = r.sym() as OrderStatus;
  o.rejectionReason = r.nsym() as RejectReason | null;
  o.cancelReason = r.nsym() as CancelReason | null;
  // createdAt is set by the constructor from its ts argument; it is readonly, so the snapshot's value goes
  // in through a cast rather than a second constructor call per order.
  (o as { createdAt: number }).createdAt = r.u();
  o.updatedAt = r.u();
  o.expiredAt = r.nu();
  o.reserved = r.big();
  o.reserveTicks = r.u();
  return o;
}

function readSide(
  r: ByteReader,
  side: BookSide,
  instruments: Map<number, Instrument>,
  live: (o: Order) => Order,
): void {
  // Levels come best-last, as BookSide keeps them, so each add appends (no search, no shifting).
  for (let n = r.u(); n > 0; n--) {
    const priceTicks = r.u();
    const totalLots = r.u();
    const count = r.u();
    let level = null;
    for (let k = count; k > 0; k--) {
      const o = live(readOrder(r, instruments));
      if (o.priceTicks !== priceTicks) throw new Error(`snapshot order ${o.id} is on the wrong level`);
      level = side.add(o);
    }
    // Faithful even if the total ever stopped being the sum of the remainders: the hash covers it.
    if (level !== null) level.totalLots = totalLots;
  }
}

function readPosition(r: ByteReader, instruments: Map<number, Instrument>): Position {
  const id = r.u();
  const accountId = r.u();
  const instrumentId = r.u();
  const ins = instruments.get(instrumentId);
  if (ins === undefined) throw new Error(`snapshot position ${id} names unknown instrument ${instrumentId}`);
  const openedAt = r.u();
  const lots = r.i();
  const basis = r.big();
  const margin = r.big();
  const leverage = r.u();
  const p = new Position(id, accountId, ins, leverage, openedAt);
  p.lots = lots;
  p.basis = basis;
  p.margin = margin;
  p.realizedPnl = r.big();
  p.fees = r.big();
  p.funding = r.big();
  p.volume = r.big();
  p.tradeCount = r.u();
  p.stopLossTicks = r.u();
  p.takeProfitTicks = r.u();
  p.status = r.sym() as PositionStatus;
  p.closedAt = r.nu();
  p.updatedAt = r.u();
  return p;
}
