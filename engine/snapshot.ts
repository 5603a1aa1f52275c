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
 * repacking of those classes keeps it working as long as their fields keep their names. (One read goes
 * past that: writeOrder reads Order's numeric fill cost to spare a BigInt per order, and falls back to the
 * public getter when the field is not a number.) Restore registers the live orders in the directory in
 * ascending id order once they are all read (ReadOrders), as the engine itself registered them.
 *
 * Speed: both directions are on the path of a pause (serialization on the engine thread, restore in a
 * restart), so the per-order code (writeOrder, readOrder) keeps the buffer position in locals and takes
 * one-byte values inline; the golden fixtures in test/recovery pin that the bytes stay those of VERSION 2.
 */
import type { EngineOptions } from './api.js';
import type { BookSide } from './book.js';
import { OrderBook } from './book.js';
import type { OrderDirectory } from './directory.js';
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
import { type Instrument, instrumentFromSpec } from './instrument.js';
import { Order, type OrderOrigin } from './order.js';
import { Account } from './risk/account.js';
import { Position } from './risk/position.js';
import { ByteReader, ByteWriter, putU, putU32 } from './snapshot-codec.js';
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
    // The spec is re-validated on restore (instrumentFromSpec), which rebuilds every derived field.
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
  const writeClientId = (o: Order, coid: string): void => {
    w.str(coid);
    w.u(o.id);
  };
  for (const accountId of engine.owners.keys()) {
    const owner = engine.owners.get(accountId)!;
    w.u(accountId);
    // The account's live orders in registration order, straight off its list (no array copy).
    w.u(owner.size);
    let listed = 0;
    for (let o = owner.head; o !== null; o = o.ownerNext) {
      w.u(o.id);
      listed++;
    }
    if (listed !== owner.size) {
      throw new Error(`snapshot: account ${accountId} counts ${owner.size} live orders but lists ${listed}`);
    }
    w.u(owner.byClientId.size);
    owner.byClientId.forEach(writeClientId);
  }
  w.u(engine.dayOrders.size);
  for (const o of engine.dayOrders) w.u(o.id);

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

// Memo slots (ByteWriter.symAt / bigAt) of the per-order fields that mostly repeat from order to order.
const M_SIDE = 0;
const M_TYPE = 1;
const M_TIF = 2;
const M_ORIGIN = 3;
const M_STATUS = 4;
const M_REJECT = 5;
const M_CANCEL = 6;
const M_COMMISSION = 0;
const M_RESERVED = 1;

/** Order's fill cost as the class keeps it (a number while safe): read to spare a BigInt per order. */
interface OrderCost {
  readonly cost?: unknown;
}

/** Room for one order's fixed-size fields: 27 varints of at most 10 bytes. */
const ORDER_BYTES = 320;

/**
 * One order, field by field in the layout's order, written straight into the buffer through locals: the
 * common values (small ids and lots, repeated symbols and rates, absent optional fields) take an inline
 * path, and anything else goes through the ByteWriter method that writes it in general (which may grow
 * the buffer, so the buffer and position are fetched again after it). The bytes are exactly those of
 * writing every field through w.u/w.nstr/w.nsym/w.big (test/recovery/snapshot-golden.test.ts).
 */
function writeOrder(w: ByteWriter, o: Order): void {
  const symMemo = w.symMemo;
  const symCode = w.symCode;
  let b = w.reserve(ORDER_BYTES);
  let p = w.pos;
  // Varints inline (TurboFan's inlining budget does not stretch to a call per field, and a timestamp
  // passed to a call is boxed): one byte for values below 128, a 32-bit loop for ids, lots and ticks, and
  // the microsecond timestamps split at bit 28; anything else through putU, which also does the checks.
  let n: number;
  n = o.id;
  if (n >>> 0 === n) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
  } else p = putU(b, p, n);
  n = o.accountId;
  if (n >>> 0 === n) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
  } else p = putU(b, p, n);
  const coid = o.clientOrderId;
  if (coid === null) b[p++] = 0;
  else {
    w.pos = p;
    w.nstr(coid);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  n = o.instrument.id;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  let sym: string | null = o.side;
  if (sym === symMemo[M_SIDE]) p = putU32(b, p, symCode[M_SIDE]);
  else {
    w.pos = p;
    w.symAt(sym, M_SIDE);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.type;
  if (sym === symMemo[M_TYPE]) p = putU32(b, p, symCode[M_TYPE]);
  else {
    w.pos = p;
    w.symAt(sym, M_TYPE);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.tif;
  if (sym === symMemo[M_TIF]) p = putU32(b, p, symCode[M_TIF]);
  else {
    w.pos = p;
    w.symAt(sym, M_TIF);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  n = o.priceTicks;
  if (n >>> 0 === n) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
  } else p = putU(b, p, n);
  n = o.stopTicks;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  n = o.quantityLots;
  if (n >>> 0 === n) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
  } else p = putU(b, p, n);
  n = o.filledLots;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  n = o.remainingLots;
  if (n >>> 0 === n) {
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
  } else p = putU(b, p, n);
  n = o.cancelledLots;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  // big(filledCost): the getter makes a BigInt of the number the order keeps, so read that number (should
  // the private field ever be renamed or retyped, this falls back to the getter).
  const cost = (o as unknown as OrderCost).cost;
  if (cost === 0) b[p++] = 0;
  else {
    w.pos = p;
    if (typeof cost === 'number') w.bigNum(cost);
    else w.big(o.filledCost);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  b[p++] = o.postOnly ? 1 : 0;
  b[p++] = o.reduceOnly ? 1 : 0;
  n = o.leverage;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  const rate = o.commissionRate;
  if (rate === w.bigMemo[M_COMMISSION]) p = putU(b, p, w.bigTag[M_COMMISSION]);
  else {
    w.pos = p;
    w.bigAt(rate, M_COMMISSION);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.origin;
  if (sym === symMemo[M_ORIGIN]) p = putU32(b, p, symCode[M_ORIGIN]);
  else {
    w.pos = p;
    w.symAt(sym, M_ORIGIN);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.status;
  if (sym === symMemo[M_STATUS]) p = putU32(b, p, symCode[M_STATUS]);
  else {
    w.pos = p;
    w.symAt(sym, M_STATUS);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.rejectionReason;
  if (sym === null) b[p++] = 0;
  else {
    w.pos = p;
    w.symAt(sym, M_REJECT);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  sym = o.cancelReason;
  if (sym === null) b[p++] = 0;
  else {
    w.pos = p;
    w.symAt(sym, M_CANCEL);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  n = o.createdAt;
  if (n > 0xffffffff && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) {
    let hi = Math.floor(n / 0x10000000);
    const lo = n - hi * 0x10000000;
    b[p] = (lo & 0x7f) | 0x80;
    b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
    b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
    b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
    p += 4;
    while (hi >= 0x80) {
      b[p++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    b[p++] = hi;
  } else p = putU(b, p, n);
  n = o.updatedAt;
  if (n > 0xffffffff && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) {
    let hi = Math.floor(n / 0x10000000);
    const lo = n - hi * 0x10000000;
    b[p] = (lo & 0x7f) | 0x80;
    b[p + 1] = ((lo >>> 7) & 0x7f) | 0x80;
    b[p + 2] = ((lo >>> 14) & 0x7f) | 0x80;
    b[p + 3] = ((lo >>> 21) & 0x7f) | 0x80;
    p += 4;
    while (hi >= 0x80) {
      b[p++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    b[p++] = hi;
  } else p = putU(b, p, n);
  const expiredAt = o.expiredAt;
  if (expiredAt === null) b[p++] = 0;
  else p = putU(b, p, expiredAt + 1);
  const reserved = o.reserved;
  if (reserved === 0) b[p++] = 0;
  else if (reserved === w.bigMemo[M_RESERVED]) p = putU(b, p, w.bigTag[M_RESERVED]);
  else {
    w.pos = p;
    w.bigAt(reserved, M_RESERVED);
    b = w.reserve(ORDER_BYTES);
    p = w.pos;
  }
  n = o.reserveTicks;
  if ((n & 0x7f) === n) b[p++] = n;
  else p = putU(b, p, n);
  w.pos = p;
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
    const ins = instrumentFromSpec(spec);
    if (typeof ins === 'string') throw new Error(`snapshot instrument ${spec.symbol} is invalid: ${ins}`);
    ins.lastTradeTicks = r.u();
    ins.markUnits = r.units();
    const market: Market = { instrument: ins, book: new OrderBook(), stops: new StopBook() };
    engine.addMarket(market);
    byInstrumentId.set(ins.id, ins);
    markets.push(market);
  }

  const orders = engine.orders;
  const read = new ReadOrders();
  for (const m of markets) {
    readSide(r, m.book.bids, byInstrumentId, read);
    readSide(r, m.book.asks, byInstrumentId, read);
    for (let n = r.u(); n > 0; n--) m.stops.add(read.add(readOrder(r, byInstrumentId)));
    for (let n = r.u(); n > 0; n--) m.stops.add(read.add(readOrder(r, byInstrumentId)));
  }
  if (read.orders.length !== orderCount) {
    throw new Error(`snapshot header says ${orderCount} live orders, the body holds ${read.orders.length}`);
  }
  read.registerById(orders);
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
      const marginCall = r.units();
      const liquidation = r.units();
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
      account.balance = r.units();
      account.marginUsed = r.units();
      account.orderMargin = r.units();
      account.realizedPnl = r.units();
      account.updatedAt = r.u();
      account.marginCalled = r.bool();
      for (let k = r.u(); k > 0; k--) {
        const instrumentId = r.u();
        const p = readPosition(r, byInstrumentId);
        if (p.instrument.id !== instrumentId)
          throw new Error(`snapshot position ${p.id} is listed under instrument ${instrumentId}`);
        account.addPosition(p);
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
        deposits: r.units(),
        withdrawals: r.units(),
        fees: r.units(),
        fundingDust: r.units(),
      });
    }
  }
  if (r.u32() !== MAGIC || !r.atEnd()) throw new Error('engine snapshot is truncated or has trailing bytes');
}

/**
 * One order, in the layout's field order. Values that fit one byte (most counts, flags, symbol codes,
 * absent optional fields) are read inline from the buffer; the rest through the ByteReader methods, which
 * also do the bounds checks (an inline read past the end yields undefined, which fails every fast-path
 * test and falls through to a method that throws).
 */
function readOrder(r: ByteReader, instruments: Map<number, Instrument>): Order {
  const b = r.buf;
  const symbols = r.symbols;
  const id = r.u();
  const accountId = r.u();
  let p = r.pos;
  let c = b[p];
  let coid: string | null = null;
  if (c === 0) p++;
  else {
    coid = r.nstr();
    p = r.pos;
  }
  c = b[p];
  let instrumentId: number;
  if (c < 0x80) {
    instrumentId = c;
    p++;
  } else {
    r.pos = p;
    instrumentId = r.u();
    p = r.pos;
  }
  const ins = instruments.get(instrumentId);
  if (ins === undefined) throw new Error(`snapshot order ${id} names unknown instrument ${instrumentId}`);
  r.pos = p;
  const side = readSym(r, symbols) as Side;
  const type = readSym(r, symbols) as OrderType;
  const tif = readSym(r, symbols) as TimeInForce;
  const priceTicks = r.u();
  const stopTicks = readSmall(r);
  const quantityLots = r.u();
  const filledLots = readSmall(r);
  const remainingLots = r.u();
  const cancelledLots = readSmall(r);
  const filledCost = r.bigAt(B_COST);
  const postOnly = r.bool();
  const reduceOnly = r.bool();
  const leverage = readSmall(r);
  const commissionRate = r.units();
  const origin = readSym(r, symbols) as OrderOrigin;
  const status = readSym(r, symbols) as OrderStatus;
  const rejectionReason = readNsym(r, symbols) as RejectReason | null;
  const cancelReason = readNsym(r, symbols) as CancelReason | null;
  const createdAt = r.u();
  const updatedAt = r.u();
  p = r.pos;
  let expiredAt: number | null = null;
  if (b[p] === 0) r.pos = p + 1;
  else expiredAt = r.nu();
  const reserved = r.units();
  const reserveTicks = r.u();
  const o = new Order().init(
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
    createdAt,
  );
  o.filledLots = filledLots;
  o.remainingLots = remainingLots;
  o.cancelledLots = cancelledLots;
  // init starts the cost at zero; the setter costs a BigInt comparison per order.
  if (filledCost !== 0n) o.filledCost = filledCost;
  o.status = status;
  if (rejectionReason !== null) o.rejectionReason = rejectionReason;
  if (cancelReason !== null) o.cancelReason = cancelReason;
  o.updatedAt = updatedAt;
  if (expiredAt !== null) o.expiredAt = expiredAt;
  if (reserved !== 0) o.reserved = reserved;
  if (reserveTicks !== 0) o.reserveTicks = reserveTicks;
  // Live from here: set while the object is at hand (registerById then touches only its id list).
  o.registered = true;
  return o;
}

// ByteReader.bigAt slot of the per-order fill cost.
const B_COST = 0;

/** r.u() with the one-byte case inline. */
function readSmall(r: ByteReader): number {
  const c = r.buf[r.pos];
  if (c < 0x80) {
    r.pos++;
    return c;
  }
  return r.u();
}

/** r.sym() with the case of a known symbol code below 128 inline. */
function readSym(r: ByteReader, symbols: string[]): string {
  const c = r.buf[r.pos];
  if (c >= 2 && c < 0x80 && c - 2 < symbols.length) {
    r.pos++;
    return symbols[c - 2];
  }
  return r.sym();
}

/** r.nsym() likewise, with null inline. */
function readNsym(r: ByteReader, symbols: string[]): string | null {
  const c = r.buf[r.pos];
  if (c === 0) {
    r.pos++;
    return null;
  }
  return readSym(r, symbols);
}

/** The live orders as restore reads them (book and stop order), with their ids kept beside them. */
class ReadOrders {
  readonly orders: Order[] = [];
  /** orders[i].id, so that ordering them by id touches no order object (each a cache miss in a big book). */
  private readonly ids: number[] = [];
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private ascending = true;

  add(o: Order): Order {
    const id = o.id;
    this.orders.push(o);
    this.ids.push(id);
    if (id <= this.max) this.ascending = false;
    else this.max = id;
    if (id < this.min) this.min = id;
    return o;
  }

  /**
   * Registers the orders in ascending id order, as the engine registered them. The directory keeps dense
   * pages for ids that arrive in order; fed in book order (ids scattered across the whole range on every
   * level) it would push most of a large book into its overflow Map, which costs a hash insert per order
   * here and a hash lookup per order on every later cancel or fill.
   */
  registerById(directory: OrderDirectory): void {
    const { orders, ids, min, max } = this;
    const n = orders.length;
    if (this.ascending) {
      for (let i = 0; i < n; i++) directory.set(ids[i], orders[i]);
    } else if (max - min < 4 * n + 65536) {
      // Ids are dense enough for a counting pass: one slot per id in the range, no comparisons.
      const slots = new Array<Order | undefined>(max - min + 1);
      for (let i = 0; i < n; i++) {
        const k = ids[i] - min;
        if (slots[k] !== undefined) throw new Error(`snapshot holds two live orders with id ${ids[i]}`);
        slots[k] = orders[i];
      }
      for (let k = 0; k < slots.length; k++) {
        const o = slots[k];
        if (o !== undefined) directory.set(k + min, o);
      }
    } else {
      const sorted = orders.slice().sort((a, b) => a.id - b.id);
      for (let i = 0; i < n; i++) {
        const o = sorted[i];
        if (i > 0 && o.id === sorted[i - 1].id)
          throw new Error(`snapshot holds two live orders with id ${o.id}`);
        directory.set(o.id, o);
      }
    }
  }
}

function readSide(
  r: ByteReader,
  side: BookSide,
  instruments: Map<number, Instrument>,
  read: ReadOrders,
): void {
  // Levels come best-last, as BookSide keeps them, so each add appends (no search, no shifting).
  for (let n = r.u(); n > 0; n--) {
    const priceTicks = r.u();
    const totalLots = r.u();
    const count = r.u();
    let level = null;
    for (let k = count; k > 0; k--) {
      const o = read.add(readOrder(r, instruments));
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
  const basis = r.units();
  const margin = r.units();
  const leverage = r.u();
  const p = new Position(id, accountId, ins, leverage, openedAt);
  p.lots = lots;
  p.basis = basis;
  p.margin = margin;
  p.realizedPnl = r.units();
  p.fees = r.units();
  p.funding = r.units();
  p.volume = r.units();
  p.tradeCount = r.u();
  p.stopLossTicks = r.u();
  p.takeProfitTicks = r.u();
  p.status = r.sym() as PositionStatus;
  p.closedAt = r.nu();
  p.updatedAt = r.u();
  return p;
}
