/**
 * Exact decimals as scaled integers.
 *
 * Every price, quantity, amount and rate crossing the engine's boundary is a decimal string with at most
 * 12 integer and 8 fractional digits: exactly what PostgreSQL's NUMERIC(20,8) holds. Inside, such a value is
 * a count of 1e-8 "units": parsed here as a bigint, and kept by the risk core as `Units` (units.ts: a plain
 * number while it is a safe integer, a bigint beyond). The book goes one step further and counts prices in
 * ticks and quantities in lots of its instrument, as plain integers (always safe integers: checked at
 * parse time).
 *
 * No binary floating point touches a value: parsing is character by character, formatting is integer
 * arithmetic. decimal.js is kept for the cold edges (reports) where convenience beats speed.
 */

export const SCALE = 8;
export const UNIT = 100_000_000n;
/** NUMERIC(20,8): the largest magnitude is 10^12 - 10^-8, i.e. 10^20 - 1 units. */
export const MAX_UNITS = 10n ** 20n - 1n;

const DIGIT_0 = 48;
const DIGIT_9 = 57;
const DOT = 46;
const MINUS = 45;

/**
 * Parses a canonical decimal string into units. Returns `undefined` for anything that is not one:
 * exponent forms, signs where not allowed, `+`, spaces, NaN/Infinity, more than 12 integer or 8 fractional
 * digits, leading zeros ("007"), a bare or trailing dot. JavaScript numbers are refused too: a price sent
 * as a JSON number has already been through binary floating point.
 */
export function parseUnits(value: unknown, allowNegative = false): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const n = value.length;
  if (n === 0 || n > 22) return undefined;
  const negative = value.charCodeAt(0) === MINUS;
  if (negative && !allowNegative) return undefined;
  if (!scanDecimal(value, negative ? 1 : 0)) return undefined;
  // intPart < 10^12 and frac < 10^8: the sum is < 10^20, beyond 2^53, so combine in bigint.
  const units = BigInt(scannedInt) * UNIT + BigInt(scannedFrac);
  if (!negative) return units;
  return units === 0n ? undefined : -units; // "-0" is not canonical
}

/** What the last successful `scanDecimal` read: the integer part, and the fraction in 1e-8 units. */
let scannedInt = 0;
let scannedFrac = 0;

/**
 * The one grammar of a canonical unsigned decimal, from `start` to the end of `value`: 1 to 12 integer
 * digits without a leading zero, then optionally a dot and 1 to 8 digits. Both parts fit a double exactly
 * (< 10^12 and < 10^8), so no bigint is made here; the callers combine them as they need.
 */
function scanDecimal(value: string, start: number): boolean {
  const n = value.length;
  let i = start;
  let intPart = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) break;
    intPart = intPart * 10 + (c - DIGIT_0);
    i++;
  }
  const intDigits = i - start;
  if (intDigits === 0 || intDigits > 12) return false;
  if (intDigits > 1 && value.charCodeAt(start) === DIGIT_0) return false;
  let frac = 0;
  let fracDigits = 0;
  if (i < n) {
    if (value.charCodeAt(i) !== DOT) return false;
    i++;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c < DIGIT_0 || c > DIGIT_9) return false;
      frac = frac * 10 + (c - DIGIT_0);
      fracDigits++;
      i++;
    }
    if (fracDigits === 0 || fracDigits > SCALE) return false;
  }
  scannedInt = intPart;
  scannedFrac = frac * FRAC_SCALE[fracDigits];
  return true;
}

/** Units as a number up to this bound are exact; beyond it the bigint paths take over. */
const SAFE_UNITS = Number.MAX_SAFE_INTEGER;
/** Largest integer part whose units (int * 1e8 + frac) stay a safe integer. */
const SAFE_INT_PART = 90_071_991;
const SAFE_UNITS_BIG = BigInt(SAFE_UNITS);

/** `parseSteps` results: a value that is not a canonical decimal above zero (negative ones included), a
 * canonical value beyond 2^53 units (parse it with `parseUnits`), and one that is not a whole number of steps. */
export const PARSE_INVALID = -1;
export const PARSE_TOO_BIG = -2;
export const PARSE_OFF_STEP = -3;

/**
 * The hot-path twin of `parseUnits`, for counts of a step (a price in ticks, a quantity in lots): the same
 * grammar, the units computed as a plain number (exact: integer arithmetic below 2^53), no bigint
 * allocated, and the count returned when the units are a whole number of steps. The units stay inside: a
 * large double returned from a call that is not inlined is boxed, an allocation per order field.
 */
export function parseSteps(value: unknown, step: number): number {
  if (typeof value !== 'string') return PARSE_INVALID;
  const n = value.length;
  if (n === 0 || n > 22) return PARSE_INVALID;
  if (!scanDecimal(value, 0)) return PARSE_INVALID;
  if (scannedInt > SAFE_INT_PART) return PARSE_TOO_BIG;
  const u = scannedInt * 100_000_000 + scannedFrac;
  if (u === 0) return PARSE_INVALID;
  return u % step === 0 ? u / step : PARSE_OFF_STEP;
}

/** 10^(8 - digits): scales a fraction of `digits` digits to 1e-8 units. */
const FRAC_SCALE = [100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1000, 100, 10, 1];

/** `formatUnits` for units held as a safe integer number (no bigint on the way). */
export function formatUnitsNumber(units: number): string {
  const negative = units < 0;
  const abs = negative ? -units : units;
  // The float quotient may round up across an integer when abs is just below a multiple of 1e8: correct it.
  let intPart = Math.floor(abs / 100_000_000);
  let frac = abs - intPart * 100_000_000;
  if (frac < 0) {
    intPart--;
    frac += 100_000_000;
  }
  let s: string;
  if (frac === 0) s = String(intPart);
  else {
    let digits = SCALE;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    const f = String(frac);
    s = `${intPart}.${f.length === digits ? f : ZEROS[digits - f.length] + f}`;
  }
  return negative ? `-${s}` : s;
}

const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];

/** Formats units as the shortest exact decimal string: 150000000n -> "1.5", -1n -> "-0.00000001". */
export function formatUnits(units: bigint): string {
  if (units === 0n) return '0';
  // Most amounts are far below 2^53 units: format those as numbers, without bigint division.
  if (units <= SAFE_UNITS_BIG && units >= -SAFE_UNITS_BIG) return formatUnitsNumber(Number(units));
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const intPart = abs / UNIT;
  const fracPart = abs % UNIT;
  let s = intPart.toString();
  if (fracPart !== 0n) {
    let frac = fracPart.toString().padStart(SCALE, '0');
    let end = frac.length;
    while (frac.charCodeAt(end - 1) === DIGIT_0) end--;
    frac = frac.slice(0, end);
    s = `${s}.${frac}`;
  }
  return negative ? `-${s}` : s;
}

/** True when the value fits NUMERIC(20,8). */
export function fitsNumeric(units: bigint): boolean {
  return units <= MAX_UNITS && units >= -MAX_UNITS;
}

/**
 * Rounding of a quotient, written once. `mode`:
 * - 'down': toward zero (truncate); used where the exchange must not give away what it does not have.
 * - 'up': away from zero; used where the exchange must not under-reserve (fees charged, margin held).
 * - 'half_even': banker's rounding, used for reported averages.
 */
export type Rounding = 'down' | 'up' | 'half_even';

export function divRound(numerator: bigint, denominator: bigint, mode: Rounding): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  let q = abs / denominator;
  const r = abs % denominator;
  if (r !== 0n) {
    if (mode === 'up') q += 1n;
    else if (mode === 'half_even') {
      const twice = r * 2n;
      if (twice > denominator || (twice === denominator && (q & 1n) === 1n)) q += 1n;
    }
  }
  return negative ? -q : q;
}

/** units * units / UNIT, rounded: the product of two 8-place decimals brought back to 8 places. */
export function mulUnits(a: bigint, b: bigint, mode: Rounding): bigint {
  return divRound(a * b, UNIT, mode);
}

/** Largest integer a tick or lot count may be: beyond it a JavaScript number stops being exact. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;
