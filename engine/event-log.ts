/**
 * The engine's events as fixed-layout records: what `Engine.applyInto` appends to, and what the output
 * batcher, the gateway and the persistence workers read. events.ts stays the contract's shape: `event(o)`
 * and `toEvents()` turn records into exactly the objects events.ts describes, decimal strings and all.
 *
 * Why records: building an event object per change (about 2.7 per command on a plain order flow, 5 with
 * the risk core, each of 8-31 fields with its amounts formatted as strings) was most of the engine's
 * time, and the objects lived until their batch was in Redis, so they survived young-generation
 * collections and were copied. A record is a run of float64 words in one growing Float64Array, written
 * with integers (ticks, lots, 1e-8 units) and formatted only where an event leaves the process: a
 * client's message, a database row.
 *
 * Layout: every record starts with [kind, seq, ts] and has a fixed length per kind (LENGTH), so records
 * are walked with `next(o)`. Word values:
 * - ids, counts, ticks, lots and timestamps are integers below 2^53, stored as they are;
 * - amounts (`Units`) are integers too when they are safe integers; a bigint amount is stored as
 *   `index + 0.5` into `bigs` (an amount is never fractional, so the half marks it);
 * - nullable amounts use NaN for null; nullable ids and timestamps use -1 (both are never negative);
 * - strings (client order ids, currencies) are indexes into `refs`, -1 for null;
 * - the rare events (users, instruments, rejections, marks, funding, margin calls, liquidations, session
 *   ends, state hashes) are OBJECT records: the event object itself in `refs`.
 *
 * Records name their instrument by id; `instruments` (indexed by id) formats their prices and
 * quantities. In the engine's process it is the engine's own table; a reader elsewhere (a persistence
 * worker) builds one from the instrument specs a batch carries.
 */
import type { Decimal } from './commands.js';
import {
  ACCOUNT_STATUSES,
  CANCEL_REASONS,
  LEDGER_ENTRY_TYPES,
  ORDER_STATUSES,
  ORDER_TYPES,
  POSITION_STATUSES,
  REJECT_REASONS,
  TIME_IN_FORCE,
} from './enums.js';
import type {
  AccountEvent,
  BookEvent,
  EngineEvent,
  InstrumentSpec,
  LedgerEvent,
  OrderEvent,
  OrderState,
  PositionEvent,
  TradeEvent,
} from './events.js';
import { divRound, formatUnits, formatUnitsNumber } from './numeric.js';
import { format, type Units } from './units.js';

// ---- record kinds and layouts ------------------------------------------------------------------------------

export const K_ORDER = 1;
export const K_TRADE = 2;
export const K_BOOK = 3;
export const K_ACCOUNT = 4;
export const K_POSITION = 5;
export const K_LEDGER = 6;
/** A rare event, kept whole: refs[f[o + OBJ_REF]]. */
export const K_OBJECT = 7;

// Header words of every record.
export const H_KIND = 0;
export const H_SEQ = 1;
export const H_TS = 2;

/** order: an order's whole state (OrderState). */
export const O_ID = 3;
export const O_ACCOUNT = 4;
export const O_INSTRUMENT = 5;
/** The order word: side, type, time in force, flags, status, origin and reasons (see the OW_ constants). */
export const O_WORD = 6;
export const O_PRICE = 7;
export const O_STOP = 8;
export const O_QTY = 9;
export const O_FILLED = 10;
export const O_REMAINING = 11;
export const O_CANCELLED = 12;
/** Sum over fills of price ticks * lots (an amount word: it may pass 2^53). */
export const O_COST = 13;
export const O_LEVERAGE = 14;
/** Amount word. */
export const O_COMMISSION = 15;
export const O_CLIENT_ID = 16;
export const O_CREATED = 17;
export const O_UPDATED = 18;
export const O_EXPIRED = 19;
const ORDER_LEN = 20;

/** trade: one fill (Trade). */
export const T_ID = 3;
export const T_INSTRUMENT = 4;
export const T_PRICE = 5;
export const T_QTY = 6;
/** 0 = the taker bought, 1 = it sold. */
export const T_TAKER_SELLS = 7;
export const T_MAKER_ORDER = 8;
export const T_TAKER_ORDER = 9;
export const T_MAKER_ACCOUNT = 10;
export const T_TAKER_ACCOUNT = 11;
// amount words
export const T_MAKER_FEE = 12;
export const T_TAKER_FEE = 13;
export const T_MAKER_PNL = 14;
export const T_TAKER_PNL = 15;
const TRADE_LEN = 16;

/** book: an L2 level after a change (BookEvent). */
export const B_INSTRUMENT = 3;
/** 0 = BUY, 1 = SELL. */
export const B_SELL = 4;
export const B_PRICE = 5;
export const B_QTY = 6;
const BOOK_LEN = 7;

/** account: an account's whole state (AccountState); amounts are amount words. */
export const A_ID = 3;
export const A_USER = 4;
export const A_CURRENCY = 5;
export const A_BALANCE = 6;
export const A_EQUITY = 7;
export const A_MARGIN_USED = 8;
export const A_ORDER_MARGIN = 9;
export const A_AVAILABLE = 10;
export const A_REALIZED = 11;
export const A_UNREALIZED = 12;
export const A_MAX_LEVERAGE = 13;
export const A_MARGIN_CALL = 14;
export const A_LIQUIDATION = 15;
/** bit 0 margin enabled, bit 1 auto-liquidation, bits 2.. the status index. */
export const A_BITS = 16;
export const A_CREATED = 17;
export const A_UPDATED = 18;
const ACCOUNT_LEN = 19;

/** position: a position's whole state (PositionState); amounts are amount words. */
export const P_ID = 3;
export const P_ACCOUNT = 4;
export const P_INSTRUMENT = 5;
/** Signed: long > 0, short < 0. */
export const P_LOTS = 6;
/** Average entry price (ignored when flat). */
export const P_ENTRY = 7;
/** 0: no mark price. */
export const P_MARK = 8;
export const P_REALIZED = 9;
export const P_UNREALIZED = 10;
export const P_LEVERAGE = 11;
export const P_MARGIN = 12;
/** NaN: none. */
export const P_LIQUIDATION = 13;
/** Ticks; 0: none. */
export const P_STOP_LOSS = 14;
export const P_TAKE_PROFIT = 15;
export const P_TRADES = 16;
export const P_VOLUME = 17;
export const P_FEES = 18;
export const P_FUNDING = 19;
export const P_STATUS = 20;
export const P_OPENED = 21;
export const P_CLOSED = 22;
export const P_UPDATED = 23;
const POSITION_LEN = 24;

/** ledger: one balance change (LedgerEntry). */
export const L_ID = 3;
export const L_ACCOUNT = 4;
export const L_TYPE = 5;
export const L_AMOUNT = 6;
export const L_BEFORE = 7;
export const L_AFTER = 8;
export const L_CURRENCY = 9;
/** -1: none. */
export const L_ORDER = 10;
export const L_TRADE = 11;
export const L_POSITION = 12;
const LEDGER_LEN = 13;

export const OBJ_REF = 3;
const OBJECT_LEN = 4;

/** Words per record, by kind. */
export const LENGTH: readonly number[] = [
  0,
  ORDER_LEN,
  TRADE_LEN,
  BOOK_LEN,
  ACCOUNT_LEN,
  POSITION_LEN,
  LEDGER_LEN,
  OBJECT_LEN,
];

/** Per kind, the words holding amounts (which may point into `bigs`). */
const AMOUNT_WORDS: readonly (readonly number[])[] = [
  [],
  [O_COST, O_COMMISSION],
  [T_MAKER_FEE, T_TAKER_FEE, T_MAKER_PNL, T_TAKER_PNL],
  [],
  [
    A_BALANCE,
    A_EQUITY,
    A_MARGIN_USED,
    A_ORDER_MARGIN,
    A_AVAILABLE,
    A_REALIZED,
    A_UNREALIZED,
    A_MARGIN_CALL,
    A_LIQUIDATION,
  ],
  [P_ENTRY, P_MARK, P_REALIZED, P_UNREALIZED, P_MARGIN, P_LIQUIDATION, P_VOLUME, P_FEES, P_FUNDING],
  [L_AMOUNT, L_BEFORE, L_AFTER],
  [],
];
/** Per kind, the words pointing into `refs` (-1 for none). */
const REF_WORDS: readonly (readonly number[])[] = [
  [],
  [O_CLIENT_ID],
  [],
  [],
  [A_CURRENCY],
  [],
  [L_CURRENCY],
  [OBJ_REF],
];
/** Per kind, the word naming its instrument, or 0 for none. */
export const INSTRUMENT_WORD: readonly number[] = [
  0,
  O_INSTRUMENT,
  T_INSTRUMENT,
  B_INSTRUMENT,
  0,
  P_INSTRUMENT,
  0,
  0,
];

// ---- the order word ------------------------------------------------------------------------------------------
// bit 0 side (1 = SELL) | 1-2 type | 3-4 tif | 5 post-only | 6 reduce-only | 7-9 status | 10-11 origin |
// 12-13 the engine's own (engine/order.ts) | 14-17 cancel reason + 1 | 18-23 rejection reason + 1 (0 = none).
// Indexes are those of the vocabularies in enums.ts (and ORIGINS). 24 bits: a small integer.
export const OW_SELL = 1;
export const OW_TYPE_SHIFT = 1;
export const OW_TIF_SHIFT = 3;
export const OW_POST_ONLY = 1 << 5;
export const OW_REDUCE_ONLY = 1 << 6;
export const OW_STATUS_SHIFT = 7;
export const OW_STATUS_MASK = 7 << OW_STATUS_SHIFT;
export const OW_ORIGIN_SHIFT = 10;
export const OW_CANCEL_SHIFT = 14;
export const OW_CANCEL_MASK = 15 << OW_CANCEL_SHIFT;
export const OW_REJECT_SHIFT = 18;
export const OW_REJECT_MASK = 63 << OW_REJECT_SHIFT;

export const ORIGINS: readonly OrderState['origin'][] = ['USER', 'STOP_LOSS', 'TAKE_PROFIT', 'LIQUIDATION'];

if (REJECT_REASONS.length > 62 || CANCEL_REASONS.length > 14)
  throw new Error('order word: a reason field is full');

// ---- what a reader needs of an instrument --------------------------------------------------------------------

/** The instrument facts that turn a record's ticks and lots into decimal strings (engine/instrument.ts). */
export interface RecordInstrument {
  readonly symbol: string;
  readonly spec: InstrumentSpec;
  readonly takerFeeRate: Units;
  readonly takerFeeRateString: string;
  /** One tick, and one tick times one lot, in 1e-8 units (as numbers and exactly). */
  readonly tickUnitsN: number;
  readonly tickUnits: bigint;
  readonly tickLotUnitsN: number;
  readonly tickLotUnits: bigint;
  priceString(ticks: number): string;
  qtyString(lots: number): string;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Below this a quotient's float estimate times the divisor stays exact (see divHalfEven). */
const SAFE_DIVIDEND = 2 ** 52;
const LEVERAGE_STRINGS: readonly string[] = Array.from({ length: 101 }, (_, i) => String(i));
const INITIAL_WORDS = 1 << 12;

export class EventLog {
  /** The record words; only [0, n) is meaningful. */
  f: Float64Array;
  /** Words in use: the next record starts here. */
  n = 0;
  /** Records in the log. */
  count = 0;
  /** Strings and rare event objects the records point at. */
  refs: unknown[] = [];
  /** Amounts too large for a double's integers, pointed at by `index + 0.5`. */
  bigs: bigint[] = [];
  /** Formats records' prices and quantities, by instrument id (the engine sets it as it appends). */
  instruments: ReadonlyArray<RecordInstrument | undefined> = [];
  /**
   * The stamp of the command being appended (`stamp`), written into every record `begin` starts: passed
   * once per command rather than per record, since a double passed to a call that is not inlined is boxed.
   */
  private stampSeq = 0;
  private stampTs = 0;

  constructor(words = INITIAL_WORDS) {
    this.f = new Float64Array(words);
  }

  /** A log over records written elsewhere (a batch job's): its words, refs, big amounts and instruments. */
  static of(
    words: Float64Array,
    refs: unknown[],
    bigs: bigint[],
    instruments: ReadonlyArray<RecordInstrument | undefined>,
  ): EventLog {
    const log = new EventLog(0);
    log.f = words;
    log.n = words.length;
    for (let o = 0; o < log.n; o = log.next(o)) log.count++;
    log.refs = refs;
    log.bigs = bigs;
    log.instruments = instruments;
    return log;
  }

  /** Empties the log, keeping its memory for the next use. */
  clear(): void {
    this.n = 0;
    this.count = 0;
    if (this.refs.length > 0) this.refs.length = 0;
    if (this.bigs.length > 0) this.bigs.length = 0;
  }

  // ---- writing (the engine) ------------------------------------------------------------------------------

  /** Sets the seq and ts of the records `begin` starts from now on (once per command). */
  stamp(seq: number, ts: number): void {
    this.stampSeq = seq;
    this.stampTs = ts;
  }

  /** Starts a record with the current stamp: writes its header, returns its offset; the caller writes the fields. */
  begin(kind: number): number {
    const o = this.n;
    const end = o + LENGTH[kind];
    if (end > this.f.length) this.grow(end);
    const f = this.f;
    f[o + H_KIND] = kind;
    f[o + H_SEQ] = this.stampSeq;
    f[o + H_TS] = this.stampTs;
    this.n = end;
    this.count++;
    return o;
  }

  /** Writes an amount word. */
  amount(i: number, v: Units): void {
    if (typeof v === 'number') this.f[i] = v;
    else {
      this.f[i] = this.bigs.length + 0.5;
      this.bigs.push(v);
    }
  }

  /** Writes a nullable amount word. */
  amountOrNull(i: number, v: Units | null): void {
    if (v === null) this.f[i] = Number.NaN;
    else this.amount(i, v);
  }

  /** A string's ref index (-1 for null), for a string word. */
  str(s: string | null): number {
    if (s === null) return -1;
    const refs = this.refs;
    refs.push(s);
    return refs.length - 1;
  }

  /** Appends an event whole (the rare ones; or any, from a source that writes no records). */
  object(event: EngineEvent): void {
    const o = this.begin(K_OBJECT);
    this.f[o + H_SEQ] = event.seq;
    this.f[o + H_TS] = event.ts;
    this.refs.push(event);
    this.f[o + OBJ_REF] = this.refs.length - 1;
  }

  /** Appends a copy of the record at `o` of `from`, with its own refs and big amounts. */
  append(from: EventLog, o: number): void {
    const kind = from.f[o];
    const len = LENGTH[kind];
    if (len === undefined || len === 0) throw new Error(`event log: no record at word ${o} (kind ${kind})`);
    const p = this.n;
    if (p + len > this.f.length) this.grow(p + len);
    const f = this.f;
    f.set(from.f.subarray(o, o + len), p);
    this.n = p + len;
    this.count++;
    for (const w of AMOUNT_WORDS[kind]) {
      const v = f[p + w];
      if (v % 1 !== 0 && !Number.isNaN(v)) this.amount(p + w, from.bigs[v - 0.5]);
    }
    for (const w of REF_WORDS[kind]) {
      const r = f[p + w];
      if (r >= 0) {
        this.refs.push(from.refs[r]);
        f[p + w] = this.refs.length - 1;
      }
    }
  }

  private grow(atLeast: number): void {
    let size = Math.max(this.f.length * 2, 64);
    while (size < atLeast) size *= 2;
    const f = new Float64Array(size);
    f.set(this.f.subarray(0, this.n));
    this.f = f;
  }

  // ---- reading -------------------------------------------------------------------------------------------

  kind(o: number): number {
    return this.f[o + H_KIND];
  }

  /** The offset of the record after the one at `o`. */
  next(o: number): number {
    return o + LENGTH[this.f[o]];
  }

  /** An amount word's value. */
  units(i: number): Units {
    const v = this.f[i];
    return v % 1 === 0 ? v : this.bigs[v - 0.5];
  }

  /** A nullable amount word's value formatted, or null. */
  private decimalOrNull(i: number): Decimal | null {
    return Number.isNaN(this.f[i]) ? null : this.decimal(i);
  }

  /** An amount word formatted as a decimal string. */
  decimal(i: number): Decimal {
    const v = this.f[i];
    if (v % 1 === 0) return v === 0 ? '0' : formatUnitsNumber(v);
    return formatUnits(this.bigs[v - 0.5]);
  }

  private string(i: number): string | null {
    const r = this.f[i];
    return r < 0 ? null : (this.refs[r] as string);
  }

  instrument(id: number): RecordInstrument {
    const ins = this.instruments[id];
    if (ins === undefined) throw new Error(`event log: no instrument ${id} to format a record with`);
    return ins;
  }

  /** The event at offset `o`, as events.ts describes it. */
  event(o: number): EngineEvent {
    switch (this.f[o]) {
      case K_ORDER:
        return this.order(o);
      case K_TRADE:
        return this.trade(o);
      case K_BOOK:
        return this.book(o);
      case K_ACCOUNT:
        return this.account(o);
      case K_POSITION:
        return this.position(o);
      case K_LEDGER:
        return this.ledger(o);
      case K_OBJECT:
        return this.refs[this.f[o + OBJ_REF]] as EngineEvent;
      default:
        throw new Error(`event log: no record at word ${o} (kind ${this.f[o]})`);
    }
  }

  /** The events of the records in [from, to) (word offsets), appended to `out`. */
  toEvents(out: EngineEvent[] = [], from = 0, to = this.n): EngineEvent[] {
    for (let o = from; o < to; o = this.next(o)) out.push(this.event(o));
    return out;
  }

  order(o: number): OrderEvent {
    const f = this.f;
    const ins = this.instrument(f[o + O_INSTRUMENT]);
    const w = f[o + O_WORD];
    const filled = f[o + O_FILLED];
    const price = f[o + O_PRICE];
    const stop = f[o + O_STOP];
    const reject = (w & OW_REJECT_MASK) >> OW_REJECT_SHIFT;
    const cancel = (w & OW_CANCEL_MASK) >> OW_CANCEL_SHIFT;
    const leverage = f[o + O_LEVERAGE];
    const commission = this.units(o + O_COMMISSION);
    const expired = f[o + O_EXPIRED];
    return {
      type: 'order',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      orderId: f[o + O_ID],
      accountId: f[o + O_ACCOUNT],
      clientOrderId: this.string(o + O_CLIENT_ID),
      symbol: ins.symbol,
      side: (w & OW_SELL) === 0 ? 'BUY' : 'SELL',
      orderType: ORDER_TYPES[(w >> OW_TYPE_SHIFT) & 3],
      timeInForce: TIME_IN_FORCE[(w >> OW_TIF_SHIFT) & 3],
      price: price > 0 ? ins.priceString(price) : null,
      stopPrice: stop > 0 ? ins.priceString(stop) : null,
      quantity: ins.qtyString(f[o + O_QTY]),
      filledQuantity: ins.qtyString(filled),
      remainingQuantity: ins.qtyString(f[o + O_REMAINING]),
      cancelledQuantity: ins.qtyString(f[o + O_CANCELLED]),
      averagePrice: filled > 0 ? averagePriceString(ins, this.units(o + O_COST), filled) : null,
      filledNotional: filled > 0 ? notionalString(ins, this.units(o + O_COST)) : '0',
      status: ORDER_STATUSES[(w & OW_STATUS_MASK) >> OW_STATUS_SHIFT],
      postOnly: (w & OW_POST_ONLY) !== 0,
      reduceOnly: (w & OW_REDUCE_ONLY) !== 0,
      leverage: LEVERAGE_STRINGS[leverage] ?? String(leverage),
      commissionRate: commission === ins.takerFeeRate ? ins.takerFeeRateString : format(commission),
      rejectionReason: reject === 0 ? null : REJECT_REASONS[reject - 1],
      cancelReason: cancel === 0 ? null : CANCEL_REASONS[cancel - 1],
      createdAt: f[o + O_CREATED],
      updatedAt: f[o + O_UPDATED],
      expiredAt: expired < 0 ? null : expired,
      origin: ORIGINS[(w >> OW_ORIGIN_SHIFT) & 3],
    };
  }

  trade(o: number): TradeEvent {
    const f = this.f;
    const ins = this.instrument(f[o + T_INSTRUMENT]);
    return {
      type: 'trade',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      tradeId: f[o + T_ID],
      symbol: ins.symbol,
      price: ins.priceString(f[o + T_PRICE]),
      quantity: ins.qtyString(f[o + T_QTY]),
      takerSide: f[o + T_TAKER_SELLS] === 0 ? 'BUY' : 'SELL',
      makerOrderId: f[o + T_MAKER_ORDER],
      takerOrderId: f[o + T_TAKER_ORDER],
      makerAccountId: f[o + T_MAKER_ACCOUNT],
      takerAccountId: f[o + T_TAKER_ACCOUNT],
      makerFee: this.decimal(o + T_MAKER_FEE),
      takerFee: this.decimal(o + T_TAKER_FEE),
      makerFeeRate: ins.spec.makerFeeRate,
      takerFeeRate: ins.spec.takerFeeRate,
      makerRealizedPnl: this.decimal(o + T_MAKER_PNL),
      takerRealizedPnl: this.decimal(o + T_TAKER_PNL),
    };
  }

  book(o: number): BookEvent {
    const f = this.f;
    const ins = this.instrument(f[o + B_INSTRUMENT]);
    return {
      type: 'book',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      symbol: ins.symbol,
      side: f[o + B_SELL] === 0 ? 'BUY' : 'SELL',
      price: ins.priceString(f[o + B_PRICE]),
      quantity: ins.qtyString(f[o + B_QTY]),
    };
  }

  account(o: number): AccountEvent {
    const f = this.f;
    const bits = f[o + A_BITS];
    return {
      type: 'account',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      accountId: f[o + A_ID],
      userId: f[o + A_USER],
      currency: this.string(o + A_CURRENCY)!,
      balance: this.decimal(o + A_BALANCE),
      equity: this.decimal(o + A_EQUITY),
      marginUsed: this.decimal(o + A_MARGIN_USED),
      orderMargin: this.decimal(o + A_ORDER_MARGIN),
      marginAvailable: this.decimal(o + A_AVAILABLE),
      realizedPnl: this.decimal(o + A_REALIZED),
      unrealizedPnl: this.decimal(o + A_UNREALIZED),
      maxLeverage: String(f[o + A_MAX_LEVERAGE]),
      marginCallThreshold: this.decimal(o + A_MARGIN_CALL),
      liquidationThreshold: this.decimal(o + A_LIQUIDATION),
      marginEnabled: (bits & 1) !== 0,
      autoLiquidation: (bits & 2) !== 0,
      status: ACCOUNT_STATUSES[bits >> 2],
      createdAt: f[o + A_CREATED],
      updatedAt: f[o + A_UPDATED],
    };
  }

  position(o: number): PositionEvent {
    const f = this.f;
    const ins = this.instrument(f[o + P_INSTRUMENT]);
    const lots = f[o + P_LOTS];
    const mark = f[o + P_MARK];
    const sl = f[o + P_STOP_LOSS];
    const tp = f[o + P_TAKE_PROFIT];
    const closed = f[o + P_CLOSED];
    return {
      type: 'position',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      positionId: f[o + P_ID],
      accountId: f[o + P_ACCOUNT],
      symbol: ins.symbol,
      side: lots > 0 ? 'LONG' : lots < 0 ? 'SHORT' : 'FLAT',
      quantity: ins.qtyString(lots > 0 ? lots : -lots),
      entryPrice: lots === 0 ? null : this.decimal(o + P_ENTRY),
      markPrice: mark === 0 ? null : this.decimal(o + P_MARK),
      realizedPnl: this.decimal(o + P_REALIZED),
      unrealizedPnl: this.decimal(o + P_UNREALIZED),
      leverage: String(f[o + P_LEVERAGE]),
      margin: this.decimal(o + P_MARGIN),
      liquidationPrice: this.decimalOrNull(o + P_LIQUIDATION),
      stopLoss: sl === 0 ? null : ins.priceString(sl),
      takeProfit: tp === 0 ? null : ins.priceString(tp),
      tradeCount: f[o + P_TRADES],
      volume: this.decimal(o + P_VOLUME),
      fees: this.decimal(o + P_FEES),
      funding: this.decimal(o + P_FUNDING),
      status: POSITION_STATUSES[f[o + P_STATUS]],
      openedAt: f[o + P_OPENED],
      closedAt: closed < 0 ? null : closed,
      updatedAt: f[o + P_UPDATED],
    };
  }

  ledger(o: number): LedgerEvent {
    const f = this.f;
    const order = f[o + L_ORDER];
    const trade = f[o + L_TRADE];
    const position = f[o + L_POSITION];
    return {
      type: 'ledger',
      seq: f[o + H_SEQ],
      ts: f[o + H_TS],
      entryId: f[o + L_ID],
      accountId: f[o + L_ACCOUNT],
      entryType: LEDGER_ENTRY_TYPES[f[o + L_TYPE]],
      amount: this.decimal(o + L_AMOUNT),
      balanceBefore: this.decimal(o + L_BEFORE),
      balanceAfter: this.decimal(o + L_AFTER),
      currency: this.string(o + L_CURRENCY)!,
      orderId: order < 0 ? null : order,
      tradeId: trade < 0 ? null : trade,
      positionId: position < 0 ? null : position,
    };
  }
}

/** The log `scratch` hands out, and its instrument table. */
const scratchLog = new EventLog(64);
const scratchInstruments: Array<RecordInstrument | undefined> = [];

/**
 * An emptied shared log (for one record at a time), able to format instrument `id` when one is given: how
 * queries build an entity's state with exactly the formatting of its events (write a record, read it back).
 */
export function scratch(id = 0, instrument?: RecordInstrument): EventLog {
  const log = scratchLog;
  log.clear();
  log.stamp(0, 0);
  log.instruments = scratchInstruments;
  if (instrument !== undefined) scratchInstruments[id] = instrument;
  return log;
}

// ---- derived order fields (the one place their rounding is written) ----------------------------------------

/**
 * Sum of price * quantity over an order's fills, in 1e-8 units: cost (tick-lot units) times the
 * instrument's tick-lot size. A tick times a lot is a whole number of units (instrument.ts checks it), so
 * this is exact, with no rounding.
 */
function notionalString(ins: RecordInstrument, cost: Units): Decimal {
  if (typeof cost === 'number') {
    const units = cost * ins.tickLotUnitsN;
    if (units <= MAX_SAFE) return formatUnitsNumber(units);
  }
  return formatUnits(BigInt(cost) * ins.tickLotUnits);
}

/** Volume-weighted average fill price in 1e-8 units, rounded half-even (the one rule for averages). */
function averagePriceString(ins: RecordInstrument, cost: Units, filledLots: number): Decimal {
  if (typeof cost === 'number') {
    const n = cost * ins.tickUnitsN;
    if (n < SAFE_DIVIDEND) {
      const units = divHalfEven(n, filledLots);
      // Usually every fill was at one price: then the average is on the tick grid, and its string cached.
      const ticks = units / ins.tickUnitsN;
      return Number.isInteger(ticks) && ticks > 0 ? ins.priceString(ticks) : formatUnitsNumber(units);
    }
  }
  // avg ticks = cost / filledLots; in units: cost * tickUnits / filledLots.
  return formatUnits(divRound(BigInt(cost) * ins.tickUnits, BigInt(filledLots), 'half_even'));
}

/**
 * n / d rounded half-even, for 0 <= n < 2^52 and d > 0 whole numbers: the same result as divRound's
 * 'half_even'. The float quotient can be one off; the remainder check corrects it, exactly (every product
 * here stays below 2^53).
 */
function divHalfEven(n: number, d: number): number {
  let q = Math.floor(n / d);
  let r = n - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  const twice = r * 2;
  if (twice > d || (twice === d && q % 2 === 1)) q++;
  return q;
}
