/**
 * The rounding rules of the risk core, written once. Every amount is a bigint count of 1e-8 units of the
 * account's currency. Trade notionals are exact (an instrument's tick times lot is a whole unit), so
 * rounding happens only where a rate or a ratio divides:
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
import { divRound, UNIT } from '../numeric.js';

/** Fee on a notional at a rate (rate in units, so divide by UNIT). Negative for a rebate. */
export function fee(notional: bigint, rate: bigint): bigint {
  const product = notional * rate;
  return divRound(product, UNIT, product >= 0n ? 'up' : 'down');
}

/** Initial margin of a notional at a whole-number leverage. */
export function initialMargin(notional: bigint, leverage: number): bigint {
  return divRound(notional, BigInt(leverage), 'up');
}

/** The share `part / whole` of an amount, rounded down (for margin released on a reduce). */
export function shareDown(amount: bigint, part: number, whole: number): bigint {
  return part === whole ? amount : divRound(amount * BigInt(part), BigInt(whole), 'down');
}

/** The share `part / whole` of a cost basis, rounded half-even (for cost released on a reduce). */
export function shareEven(amount: bigint, part: number, whole: number): bigint {
  return part === whole ? amount : divRound(amount * BigInt(part), BigInt(whole), 'half_even');
}

/** Funding for one position: paid amounts round up, received ones down (sign: + receives, - pays). */
export function funding(notionalAtMark: bigint, rate: bigint, long: boolean): bigint {
  // Longs pay when the rate is positive: the position's flow is -rate * notional for a long, + for a short.
  const flow = (long ? -notionalAtMark : notionalAtMark) * rate;
  return divRound(flow, UNIT, flow < 0n ? 'up' : 'down');
}

/** A ratio of two amounts as units (equity / margin), rounded half-even; for reporting and thresholds. */
export function ratio(numerator: bigint, denominator: bigint): bigint {
  return divRound(numerator * UNIT, denominator, 'half_even');
}

export function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
