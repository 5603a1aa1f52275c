/**
 * An instrument's trading rules, and the conversions between its decimal strings and the integer ticks and
 * lots the book counts in.
 */
import type { CreateInstrument } from './commands.js';
import { INSTRUMENT_KINDS, type InstrumentKind, type RejectReason } from './enums.js';
import type { InstrumentSpec } from './events.js';
import {
  formatUnits,
  formatUnitsNumber,
  MAX_COUNT,
  PARSE_OFF_STEP,
  PARSE_TOO_BIG,
  parseSteps,
  parseUnits,
} from './numeric.js';
import { divRound, format, fromBig, mul, parseAmount, type Units } from './units.js';

/** The leverage cap of the whole exchange (design: "the 100x cap"). */
export const MAX_LEVERAGE = 100;

/** Formatted strings are cached per instrument; the cache is dropped when it grows past this many entries. */
const STRING_CACHE_LIMIT = 1 << 16;
/**
 * Prices within a window of this many ticks around the first one formatted, and quantities below this many
 * lots, are cached in plain arrays (an indexed load instead of a Map lookup: these run several times per
 * event). The arrays are allocated whole on first use: written sparsely, V8 would make them dictionaries.
 */
const DENSE_PRICES = 1 << 13;
const DENSE_QTYS = 1 << 12;

export class Instrument {
  readonly id: number;
  readonly symbol: string;
  readonly kind: InstrumentKind;
  readonly spec: InstrumentSpec;
  /** Size of one tick / one lot in 1e-8 units. */
  readonly tickUnits: bigint;
  readonly lotUnits: bigint;
  /** The same as numbers, for the fast paths (always safe integers: at most 1e20 / 1 is checked). */
  readonly tickUnitsN: number;
  readonly lotUnitsN: number;
  readonly minLots: number;
  readonly maxLots: number;
  readonly maxLeverage: number;
  readonly makerFeeRate: Units;
  readonly takerFeeRate: Units;
  /** Notional of one tick times one lot, in 1e-8 units (a whole number by construction). */
  readonly tickLotUnits: bigint;
  readonly tickLotUnitsN: number;
  /** The tick, lot and tick-lot sizes as Units, for the risk core's arithmetic. */
  private readonly tickU: Units;
  private readonly lotU: Units;
  private readonly tickLotU: Units;
  /** formatUnits(takerFeeRate): the commission rate of every order that does not override it. */
  readonly takerFeeRateString: string;
  /** Last trade price in ticks; 0 before the first trade. Stops trigger on it. */
  lastTradeTicks = 0;
  /** Mark price in 1e-8 units; 0 until the first mark_price command. */
  markUnits: Units = 0;

  private readonly priceStrings = new Map<number, string>();
  private readonly qtyStrings = new Map<number, string>();
  /** Dense price cache: index ticks - priceBase; the base is set by the first price formatted. */
  private priceDense: Array<string | undefined> | null = null;
  private priceBase = 0;
  private qtyDense: Array<string | undefined> | null = null;

  constructor(id: number, spec: InstrumentSpec, tick: bigint, lot: bigint, minLots: number, maxLots: number) {
    this.id = id;
    this.symbol = spec.symbol;
    this.kind = spec.kind;
    this.spec = spec;
    this.tickUnits = tick;
    this.lotUnits = lot;
    this.tickUnitsN = Number(tick);
    this.lotUnitsN = Number(lot);
    this.minLots = minLots;
    this.maxLots = maxLots;
    this.maxLeverage = Number(spec.maxLeverage);
    this.makerFeeRate = parseAmount(spec.makerFeeRate, true)!;
    this.takerFeeRate = parseAmount(spec.takerFeeRate, true)!;
    this.tickLotUnits = (tick * lot) / 100_000_000n;
    this.tickLotUnitsN = Number(this.tickLotUnits);
    this.tickU = fromBig(tick);
    this.lotU = fromBig(lot);
    this.tickLotU = fromBig(this.tickLotUnits);
    this.takerFeeRateString = format(this.takerFeeRate);
  }

  /** Exact notional of `lots` at `priceTicks`, in 1e-8 units. */
  notional(priceTicks: number, lots: number): Units {
    return mul(mul(priceTicks, lots), this.tickLotU);
  }

  /** Price string -> ticks, or a rejection reason. */
  priceToTicks(value: unknown): number | RejectReason {
    const t = toCount(value, this.tickUnitsN, this.tickUnits);
    if (t === INVALID) return 'INVALID_PRICE';
    if (t === OFF_GRID) return 'PRICE_NOT_ON_TICK';
    if (t === TOO_LARGE) return 'PRICE_OUT_OF_RANGE';
    return t;
  }

  /** Quantity string -> lots, or a rejection reason (min/max checked too). */
  qtyToLots(value: unknown): number | RejectReason {
    const l = toCount(value, this.lotUnitsN, this.lotUnits);
    if (l === INVALID) return 'INVALID_QUANTITY';
    if (l === OFF_GRID) return 'QUANTITY_NOT_ON_LOT';
    if (l === TOO_LARGE) return 'QUANTITY_ABOVE_MAX';
    if (l < this.minLots) return 'QUANTITY_BELOW_MIN';
    if (l > this.maxLots) return 'QUANTITY_ABOVE_MAX';
    return l;
  }

  priceString(ticks: number): string {
    let dense = this.priceDense;
    if (dense === null) {
      dense = new Array<string | undefined>(DENSE_PRICES).fill(undefined);
      this.priceDense = dense;
      this.priceBase = ticks > DENSE_PRICES >>> 1 ? ticks - (DENSE_PRICES >>> 1) : 0;
    }
    const i = ticks - this.priceBase;
    if (i >= 0 && i < DENSE_PRICES) {
      let s = dense[i];
      if (s === undefined) {
        s = this.formatCount(ticks, this.tickUnitsN, this.tickUnits);
        dense[i] = s;
      }
      return s;
    }
    let s = this.priceStrings.get(ticks);
    if (s === undefined) {
      if (this.priceStrings.size >= STRING_CACHE_LIMIT) this.priceStrings.clear();
      s = this.formatCount(ticks, this.tickUnitsN, this.tickUnits);
      this.priceStrings.set(ticks, s);
    }
    return s;
  }

  qtyString(lots: number): string {
    if (lots === 0) return '0';
    if (lots < DENSE_QTYS) {
      let dense = this.qtyDense;
      if (dense === null) {
        dense = new Array<string | undefined>(DENSE_QTYS).fill(undefined);
        this.qtyDense = dense;
      }
      let s = dense[lots];
      if (s === undefined) {
        s = this.formatCount(lots, this.lotUnitsN, this.lotUnits);
        dense[lots] = s;
      }
      return s;
    }
    let s = this.qtyStrings.get(lots);
    if (s === undefined) {
      if (this.qtyStrings.size >= STRING_CACHE_LIMIT) this.qtyStrings.clear();
      s = this.formatCount(lots, this.lotUnitsN, this.lotUnits);
      this.qtyStrings.set(lots, s);
    }
    return s;
  }

  /** count * step as a decimal string; in numbers while the product is a safe integer. */
  private formatCount(count: number, stepN: number, step: bigint): string {
    const units = count * stepN;
    return units <= Number.MAX_SAFE_INTEGER ? formatUnitsNumber(units) : formatUnits(BigInt(count) * step);
  }

  priceUnits(ticks: number): Units {
    return mul(ticks, this.tickU);
  }

  qtyUnits(lots: number): Units {
    return mul(lots, this.lotU);
  }

  /** A price in units as whole ticks, rounded half-even (the insurance fund's takeover price). */
  ticksOf(priceUnits: Units): number {
    return Number(divRound(priceUnits, this.tickU, 'half_even'));
  }
}

const INVALID = -1;
const OFF_GRID = -2;
const TOO_LARGE = -3;

/**
 * Converts a decimal string to a whole count of `step`-sized units (ticks or lots). Strictly positive.
 * Fast path: values below 2^53 units are parsed into a plain number, exactly (integers only).
 */
function toCount(value: unknown, stepN: number, step: bigint): number {
  const c = parseSteps(value, stepN);
  if (c >= 0) return c;
  if (c === PARSE_OFF_STEP) return OFF_GRID;
  if (c !== PARSE_TOO_BIG) return INVALID;
  // Beyond 2^53 units: in bigint.
  const units = parseUnits(value);
  if (units === undefined || units <= 0n) return INVALID;
  if (units <= 9_007_199_254_740_991n) {
    const u = Number(units);
    if (u % stepN !== 0) return OFF_GRID;
    return u / stepN;
  }
  if (units % step !== 0n) return OFF_GRID;
  const count = units / step;
  return count > BigInt(MAX_COUNT) ? TOO_LARGE : Number(count);
}

/** Validates a create_instrument command into a spec, or returns why not. */
export function instrumentFromCommand(id: number, cmd: CreateInstrument): Instrument | RejectReason {
  if (typeof cmd.symbol !== 'string' || !/^[A-Z0-9][A-Z0-9._-]{0,31}$/.test(cmd.symbol))
    return 'INVALID_COMMAND';
  if (!INSTRUMENT_KINDS.includes(cmd.kind)) return 'INVALID_COMMAND';
  if (!isCurrency(cmd.baseCurrency) || !isCurrency(cmd.quoteCurrency)) return 'INVALID_COMMAND';
  const tick = parseUnits(cmd.tickSize);
  const lot = parseUnits(cmd.lotSize);
  if (tick === undefined || tick <= 0n) return 'INVALID_PRICE';
  if (lot === undefined || lot <= 0n) return 'INVALID_QUANTITY';
  // One tick times one lot must be a whole 1e-8: then every trade's notional is exact at 8 places, and so
  // are realized PnL and position cost (risk/money.ts relies on it).
  if ((tick * lot) % 100_000_000n !== 0n) return 'INVALID_INSTRUMENT';
  const min = parseUnits(cmd.minQuantity);
  const max = parseUnits(cmd.maxQuantity);
  if (min === undefined || max === undefined || min <= 0n || max < min) return 'INVALID_QUANTITY';
  if (min % lot !== 0n || max % lot !== 0n) return 'QUANTITY_NOT_ON_LOT';
  if (max / lot > BigInt(MAX_COUNT)) return 'QUANTITY_ABOVE_MAX';
  const lev = parseUnits(cmd.maxLeverage);
  if (
    lev === undefined ||
    lev % 100_000_000n !== 0n ||
    lev < 100_000_000n ||
    lev > BigInt(MAX_LEVERAGE) * 100_000_000n
  )
    return 'INVALID_LEVERAGE';
  const maker = parseUnits(cmd.makerFeeRate, true);
  const taker = parseUnits(cmd.takerFeeRate, true);
  // A negative maker rate (a rebate) is allowed; it may never exceed the taker rate, or the exchange pays out.
  if (maker === undefined || taker === undefined || taker < 0n || maker > taker || taker >= 100_000_000n)
    return 'INVALID_AMOUNT';
  // The column is a PostgreSQL integer: a larger value (a typo in microseconds) could never be persisted.
  if (
    !Number.isSafeInteger(cmd.fundingIntervalSeconds) ||
    cmd.fundingIntervalSeconds < 0 ||
    cmd.fundingIntervalSeconds > 2_147_483_647
  )
    return 'INVALID_COMMAND';
  const spec: InstrumentSpec = {
    instrumentId: id,
    symbol: cmd.symbol,
    kind: cmd.kind,
    baseCurrency: cmd.baseCurrency,
    quoteCurrency: cmd.quoteCurrency,
    tickSize: formatUnits(tick),
    lotSize: formatUnits(lot),
    minQuantity: formatUnits(min),
    maxQuantity: formatUnits(max),
    maxLeverage: formatUnits(lev),
    makerFeeRate: formatUnits(maker),
    takerFeeRate: formatUnits(taker),
    fundingIntervalSeconds: cmd.kind === 'SPOT' ? 0 : cmd.fundingIntervalSeconds,
  };
  return new Instrument(id, spec, tick, lot, Number(min / lot), Number(max / lot));
}

/** An instrument again from the spec it was created with (a snapshot's, a batch job's). */
export function instrumentFromSpec(spec: InstrumentSpec): Instrument | RejectReason {
  const { instrumentId, ...fields } = spec;
  return instrumentFromCommand(instrumentId, { ...fields, type: 'create_instrument' });
}

export function isCurrency(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Z][A-Z0-9]{1,9}$/.test(value);
}
