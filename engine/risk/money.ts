/**
 * The rounding rules of the risk core, written once. Every amount is a count of 1e-8 units of the
 * account's currency, as `Units` (../units.ts: exact, a number while safe, a bigint beyond). Trade
 * notionals are exact (an instrument's tick times lot is a whole unit), so rounding happens only where a
 * rate or a ratio divides:
 *
 * | quantity                      | rule                                                     | why                                  |
 * |-------------------------------|----------------------------------------------------------|--------------------------------------|
 * | fee charged (rate > 0)        | up (away from zero)                                      | never undercharge                    |
 * | fee rebate (rate < 0)         | down (toward zero)                                       | never overpay                        |
 * | initial margin, reservations  | up                                                       | never under-reserve                  |
 * | margin released on a reduce   | down; the last close releases all that is left           | what stays held is never too little  |
 * | cost released on a reduce     | half-even; the remainder stays in the open position      | realized PnL over a position's life  |
 * |                               |                                                          | sums exactly to its cash flows       |
 * | funding paid                  | up                                                       | payers never pay less than owed      |
 * | funding received              | down; the difference (dust) goes to the insurance fund   | receivers never get more than paid   |
 * | margin ratio, prices shown    | half-even (reporting only, never booked)                 |                                      |
 */
import { divRound, mulDiv, neg, ONE, type Units } from '../units.js';

/** Fee on a notional at a rate (rate in units, so divide by ONE). Negative for a rebate. */
export function fee(notional: Units, rate: Units): Units {
  // Notionals are never negative: the sign is the rate's.
  return mulDiv(notional, rate, ONE, rate >= 0 ? 'up' : 'down');
}

/** Initial margin of a notional at a whole-number leverage. */
export function initialMargin(notional: Units, leverage: number): Units {
  return divRound(notional, leverage, 'up');
}

/** The share `part / whole` of an amount, rounded down (for margin released on a reduce). */
export function shareDown(amount: Units, part: number, whole: number): Units {
  return part === whole ? amount : mulDiv(amount, part, whole, 'down');
}

/** The share `part / whole` of a cost basis, rounded half-even (for cost released on a reduce). */
export function shareEven(amount: Units, part: number, whole: number): Units {
  return part === whole ? amount : mulDiv(amount, part, whole, 'half_even');
}

/** Funding for one position: paid amounts round up, received ones down (sign: + receives, - pays). */
export function funding(notionalAtMark: Units, rate: Units, long: boolean): Units {
  // Longs pay when the rate is positive: the position's flow is -rate * notional for a long, + for a short.
  const flowRate = long ? neg(rate) : rate;
  return mulDiv(notionalAtMark, flowRate, ONE, flowRate < 0 ? 'up' : 'down');
}

/** A ratio of two amounts as units (equity / margin), rounded half-even; for reporting and thresholds. */
export function ratio(numerator: Units, denominator: Units): Units {
  return mulDiv(numerator, ONE, denominator, 'half_even');
}
