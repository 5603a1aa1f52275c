/**
 * Exact amounts of 1e-8 units held as plain numbers while they can be, bigints beyond.
 *
 * Almost every amount the risk core handles (balances, margins, notionals, fees, PnL) is far below 2^53
 * units (90,071,992.54740991 of a currency), where a JavaScript number is an exact integer and arithmetic
 * on it allocates nothing. NUMERIC(20,8) allows up to 10^20 units, so every operation here checks its
 * result and redoes it in bigint when it leaves the safe range. A `Units` value is canonical: a number
 * whenever it is a safe integer, a bigint only beyond, so `===`, `<` and `>` compare values exactly
 * (JavaScript compares a bigint with a number by value).
 *
 * Why the checks are sound: the sum or product of two safe integers is computed exactly when the exact
 * result is a safe integer, and otherwise rounds to a magnitude of at least 2^53, which the range test
 * refuses. A quotient `Math.floor(a / d)` of integers with 0 <= a < 2^53 and d >= 1 is exact, because the
 * division's rounding error (below a / (d * 2^53) < 1 / d) cannot cross an integer.
 */
import {
  divRound as divRoundBig,
  formatUnits as formatBig,
  formatUnitsNumber,
  parseUnits,
  type Rounding,
  UNIT as UNIT_BIG,
} from './numeric.js';

/** An exact count of 1e-8 units: a safe-integer number, or a bigint beyond 2^53 - 1 in magnitude. */
export type Units = number | bigint;

/** One (a whole currency unit, or a rate or ratio of 1) in units: numeric.ts's UNIT as a number. */
export const ONE = 100_000_000;

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_BIG = BigInt(MAX);

/** A bigint as canonical Units (a number when it is a safe integer). */
export function fromBig(v: bigint): Units {
  return v <= MAX_BIG && v >= -MAX_BIG ? Number(v) : v;
}

export function toBig(v: Units): bigint {
  return typeof v === 'number' ? BigInt(v) : v;
}

/** numeric.ts's parseUnits, as canonical Units (undefined for anything that is not a canonical decimal). */
export function parseAmount(value: unknown, allowNegative = false): Units | undefined {
  const parsed = parseUnits(value, allowNegative);
  return parsed === undefined ? undefined : fromBig(parsed);
}

export function add(a: Units, b: Units): Units {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (r <= MAX && r >= -MAX) return r;
  }
  return fromBig(toBig(a) + toBig(b));
}

export function sub(a: Units, b: Units): Units {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r <= MAX && r >= -MAX) return r;
  }
  return fromBig(toBig(a) - toBig(b));
}

export function mul(a: Units, b: Units): Units {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (r <= MAX && r >= -MAX) return r === 0 ? 0 : r; // never -0: 0 * -5 is -0 in floating point
  }
  return fromBig(toBig(a) * toBig(b));
}

/** -v (never -0). */
export function neg(v: Units): Units {
  return typeof v === 'number' ? (v === 0 ? 0 : -v) : -v;
}

export function min(a: Units, b: Units): Units {
  return a < b ? a : b;
}

/**
 * Whether `n / d < t / ONE` (a ratio below a threshold given in units), exactly, for d > 0 and
 * t > 0. The products n * 1e8 and t * d usually pass 2^53, so they are compared as doubles first: each is
 * one correctly rounded multiplication, and rounding never reverses an order, so when the rounded products
 * differ they order the exact ones; only equal rounded products are redone in bigint.
 */
export function ratioBelow(n: Units, d: Units, t: Units): boolean {
  if (n <= 0) return true;
  if (typeof n === 'number' && typeof d === 'number' && typeof t === 'number') {
    const l = n * ONE;
    const r = t * d;
    if (l !== r) return l < r;
  }
  return toBig(n) * UNIT_BIG < toBig(t) * toBig(d);
}

/** `n / d` rounded by `mode` (numeric.ts's rules: 'down' toward zero, 'up' away from zero). */
export function divRound(n: Units, d: Units, mode: Rounding): Units {
  if (typeof n === 'number' && typeof d === 'number' && d !== 0) {
    const negative = n < 0 !== d < 0;
    return roundQuotient(negative, n < 0 ? -n : n, d < 0 ? -d : d, 0, mode);
  }
  return fromBig(divRoundBig(toBig(n), toBig(d), mode));
}

/**
 * `a * b / d` rounded by `mode`, exact. The common case whose product passes 2^53 (a notional times a fee
 * rate, a basis times a share) stays in numbers by splitting `a` into `hi * d + lo`:
 * a * b / d = hi * b + lo * b / d.
 */
export function mulDiv(a: Units, b: Units, d: Units, mode: Rounding): Units {
  if (typeof a === 'number' && typeof b === 'number' && typeof d === 'number' && d !== 0) {
    const negative = (a < 0 !== b < 0) !== d < 0;
    // The larger factor is split, so the part left over (below d) meets the smaller one.
    let absA = a < 0 ? -a : a;
    let absB = b < 0 ? -b : b;
    if (absA < absB) {
      const t = absA;
      absA = absB;
      absB = t;
    }
    const absD = d < 0 ? -d : d;
    const p = absA * absB;
    if (p <= MAX) return roundQuotient(negative, p, absD, 0, mode);
    // A divisor that is a multiple of the smaller factor (a basis * 1e8 / a quantity of whole 1e8 lots)
    // cancels it: the same rational number, so the same rounding.
    if (absD % absB === 0) return roundQuotient(negative, absA, absD / absB, 0, mode);
    const hi = Math.floor(absA / absD);
    const lo = absA - hi * absD;
    const whole = hi * absB;
    const part = lo * absB;
    if (whole <= MAX && part <= MAX) {
      const r = roundQuotient(negative, part, absD, whole, mode);
      if (r <= MAX && r >= -MAX) return r;
    }
  }
  return fromBig(divRoundBig(toBig(a) * toBig(b), toBig(d), mode));
}

/**
 * `base + n / d` with the sign applied and rounded by `mode`, where 0 <= n, base are safe integers and
 * d >= 1. The result may pass the safe range by one; callers check it.
 */
function roundQuotient(negative: boolean, n: number, d: number, base: number, mode: Rounding): number {
  let q = Math.floor(n / d);
  const r = n - q * d;
  q += base;
  if (r !== 0) {
    if (mode === 'up') q += 1;
    else if (mode === 'half_even') {
      const twice = r * 2;
      if (twice > d || (twice === d && q % 2 === 1)) q += 1;
    }
  }
  return negative && q !== 0 ? -q : q;
}

/** The shortest exact decimal string of an amount: 150000000 -> "1.5". */
export function format(v: Units): string {
  return typeof v === 'number' ? (v === 0 ? '0' : formatUnitsNumber(v)) : formatBig(v);
}
