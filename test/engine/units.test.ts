/**
 * engine/units.ts against bigint arithmetic: every operation, on values spread over the safe range, its
 * edges (2^53 - 1 and around) and beyond, must give the same value as the bigint reference, in canonical
 * form (a number whenever the value is a safe integer), and never -0.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { divRound as divRoundBig, formatUnits, type Rounding } from '../../engine/numeric.js';
import {
  add,
  divRound,
  format,
  fromBig,
  mul,
  mulDiv,
  neg,
  ratioBelow,
  sub,
  toBig,
  type Units,
} from '../../engine/units.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const LIMIT = 10n ** 20n; // NUMERIC(20,8) in units, and a little beyond for products

/** Integers clustered where the number paths change: small, near 1e8 and 2^53, and far beyond. */
const anchors = [0n, 1n, 99_999_999n, 100_000_000n, 100_000_001n, MAX - 1n, MAX, MAX + 1n, MAX + 2n, LIMIT];
const magnitude = fc.oneof(
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: 0n, max: 10n ** 12n }),
  fc.bigInt({ min: 0n, max: MAX }),
  fc.bigInt({ min: 0n, max: LIMIT }),
  fc.constantFrom(...anchors),
  fc
    .constantFrom(...anchors)
    .chain((a) => fc.bigInt({ min: -3n, max: 3n }).map((d) => (a + d < 0n ? 0n : a + d))),
);
const signed = fc.tuple(magnitude, fc.boolean()).map(([m, negative]) => (negative ? -m : m));
const nonZero = signed.filter((v) => v !== 0n);
const modes = fc.constantFrom<Rounding>('down', 'up', 'half_even');

function canonical(v: Units, expected: bigint): void {
  expect(toBig(v)).toBe(expected);
  const safe = expected <= MAX && expected >= -MAX;
  expect(typeof v).toBe(safe ? 'number' : 'bigint');
  if (typeof v === 'number') expect(Object.is(v, -0)).toBe(false);
}

const runs = { numRuns: 3000 };

describe('units: exact amounts as numbers while safe, bigints beyond', () => {
  test('fromBig/toBig round-trip in canonical form', () => {
    fc.assert(
      fc.property(signed, (a) => canonical(fromBig(a), a)),
      runs,
    );
  });

  test('add, sub, mul and neg equal bigint arithmetic', () => {
    fc.assert(
      fc.property(signed, signed, (a, b) => {
        const x = fromBig(a);
        const y = fromBig(b);
        canonical(add(x, y), a + b);
        canonical(sub(x, y), a - b);
        canonical(mul(x, y), a * b);
        canonical(neg(x), -a);
      }),
      runs,
    );
  });

  test('divRound equals numeric.divRound in every mode', () => {
    fc.assert(
      fc.property(signed, nonZero, modes, (n, d, mode) => {
        canonical(divRound(fromBig(n), fromBig(d), mode), divRoundBig(n, d, mode));
      }),
      runs,
    );
  });

  test('mulDiv equals divRound(a * b, d) in every mode, also when a * b passes 2^53', () => {
    fc.assert(
      fc.property(signed, signed, nonZero, modes, (a, b, d, mode) => {
        canonical(mulDiv(fromBig(a), fromBig(b), fromBig(d), mode), divRoundBig(a * b, d, mode));
      }),
      runs,
    );
  });

  test('mulDiv on the shapes the risk core uses: notional x fee rate / 1e8, basis x 1e8 / quantity', () => {
    const notional = fc.bigInt({ min: 0n, max: 10n ** 18n });
    const rate = fc.bigInt({ min: -99_999_999n, max: 99_999_999n });
    fc.assert(
      fc.property(notional, rate, modes, (n, r, mode) => {
        canonical(mulDiv(fromBig(n), fromBig(r), 100_000_000, mode), divRoundBig(n * r, 100_000_000n, mode));
      }),
      runs,
    );
    // Quantities of whole 1e8 lots (a divisor that is a multiple of the factor) and arbitrary ones.
    const qty = fc.oneof(
      fc.bigInt({ min: 1n, max: 10n ** 12n }),
      fc.bigInt({ min: 1n, max: 10n ** 6n }).map((lots) => lots * 100_000_000n),
    );
    fc.assert(
      fc.property(notional, qty, (basis, q) => {
        canonical(
          mulDiv(fromBig(basis), 100_000_000, fromBig(q), 'half_even'),
          divRoundBig(basis * 100_000_000n, q, 'half_even'),
        );
      }),
      runs,
    );
  });

  test('ratioBelow decides n / d < t / 1e8 exactly, near-ties included', () => {
    const positive = magnitude.filter((v) => v > 0n);
    fc.assert(
      fc.property(signed, positive, positive, (n, d, t) => {
        expect(ratioBelow(fromBig(n), fromBig(d), fromBig(t))).toBe(n * 100_000_000n < t * d);
      }),
      runs,
    );
    // Products one unit apart, far beyond 2^53, so their doubles are equal: n * 1e8 - t * d = d - 1e8 * k
    // with t = 1e8 - 1 and n = d - k; d = 1e8 * k + e makes the difference exactly e.
    const t = 99_999_999n;
    for (const k of [1n, 100_000n, 90_000_000n]) {
      for (const e of [-1n, 0n, 1n]) {
        const d = 100_000_000n * k + e;
        const n = d - k;
        expect(n * 100_000_000n - t * d).toBe(e);
        expect(ratioBelow(fromBig(n), fromBig(d), fromBig(t))).toBe(e < 0n);
      }
    }
  });

  test('format equals formatUnits', () => {
    fc.assert(
      fc.property(signed, (a) => {
        expect(format(fromBig(a))).toBe(formatUnits(a));
      }),
      runs,
    );
  });
});
