/** numeric.ts: exact decimal parsing, formatting and the one rounding function. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { divRound, fitsNumeric, formatUnits, MAX_UNITS, mulUnits, parseUnits } from '../../engine/numeric.js';

describe('parseUnits', () => {
  test.each([
    ['0', 0n],
    ['1', 100_000_000n],
    ['1.5', 150_000_000n],
    ['0.00000001', 1n],
    ['100.10', 10_010_000_000n],
    ['999999999999.99999999', MAX_UNITS],
    ['123456789012.12345678', 12_345_678_901_212_345_678n],
  ])('%s', (text, units) => {
    expect(parseUnits(text)).toBe(units);
  });

  test('negatives only when allowed, and never "-0"', () => {
    expect(parseUnits('-1.5')).toBeUndefined();
    expect(parseUnits('-1.5', true)).toBe(-150_000_000n);
    expect(parseUnits('-0', true)).toBeUndefined();
    expect(parseUnits('-0.0', true)).toBeUndefined();
    expect(parseUnits('-', true)).toBeUndefined();
  });

  test.each([
    '',
    ' ',
    ' 1',
    '1 ',
    '+1',
    '01',
    '00',
    '00.5',
    '1.',
    '.5',
    '1..5',
    '1.5.',
    '1e5',
    '1E5',
    '1e-5',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '1,5',
    '1_000',
    '１', // full-width digit
    '1000000000000', // 13 integer digits
    '1.000000001', // 9 fractional digits
    '0.000000001',
    '9999999999999.9',
  ])('refuses %j', (text) => {
    expect(parseUnits(text)).toBeUndefined();
    expect(parseUnits(text, true)).toBeUndefined();
  });

  test('refuses anything that is not a string', () => {
    for (const v of [1, 1.5, 0, Number.NaN, 10n, null, undefined, {}, [], true]) {
      expect(parseUnits(v)).toBeUndefined();
    }
  });
});

describe('formatUnits', () => {
  test.each([
    [0n, '0'],
    [1n, '0.00000001'],
    [-1n, '-0.00000001'],
    [100_000_000n, '1'],
    [150_000_000n, '1.5'],
    [10_010_000_000n, '100.1'],
    [-12_345_678_901_212_345_678n, '-123456789012.12345678'],
    [MAX_UNITS, '999999999999.99999999'],
  ])('%s', (units, text) => {
    expect(formatUnits(units)).toBe(text);
  });

  test('format then parse is the identity over NUMERIC(20,8)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_UNITS, max: MAX_UNITS }), (u) => {
        expect(parseUnits(formatUnits(u), true)).toBe(u);
      }),
      { numRuns: 2000 },
    );
  });

  test('parse then format is canonical: trailing fractional zeros go, nothing else changes', () => {
    expect(formatUnits(parseUnits('100.50000000')!)).toBe('100.5');
    expect(formatUnits(parseUnits('7.0')!)).toBe('7');
  });
});

describe('divRound', () => {
  test.each([
    // numerator, denominator, down, up, half_even
    [7n, 2n, 3n, 4n, 4n], // 3.5 -> 4 (even)
    [5n, 2n, 2n, 3n, 2n], // 2.5 -> 2 (even)
    [-5n, 2n, -2n, -3n, -2n],
    [-7n, 2n, -3n, -4n, -4n],
    [10n, 4n, 2n, 3n, 2n], // 2.5
    [11n, 4n, 2n, 3n, 3n], // 2.75
    [9n, 4n, 2n, 3n, 2n], // 2.25
    [6n, 3n, 2n, 2n, 2n], // exact
    [0n, 5n, 0n, 0n, 0n],
    [1n, 3n, 0n, 1n, 0n],
    [2n, 3n, 0n, 1n, 1n],
    [5n, -2n, -2n, -3n, -2n], // a negative denominator flips the sign
    [-5n, -2n, 2n, 3n, 2n],
  ])('%s / %s', (n, d, down, up, even) => {
    expect(divRound(n, d, 'down')).toBe(down);
    expect(divRound(n, d, 'up')).toBe(up);
    expect(divRound(n, d, 'half_even')).toBe(even);
  });

  test('division by zero throws', () => {
    expect(() => divRound(1n, 0n, 'down')).toThrow(RangeError);
  });

  test('against a reference: down truncates, up is away from zero, half_even is within half and even on ties', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (n, d) => {
          const down = divRound(n, d, 'down');
          const up = divRound(n, d, 'up');
          const even = divRound(n, d, 'half_even');
          expect(down).toBe(n / d); // bigint division truncates toward zero
          if (n % d === 0n) expect(up).toBe(down);
          else expect(up).toBe(down + (n < 0n ? -1n : 1n));
          // |n - even*d| <= d/2, and on an exact tie the quotient is even
          const err = n - even * d;
          const twice = (err < 0n ? -err : err) * 2n;
          expect(twice <= d).toBe(true);
          if (twice === d) expect(even % 2n).toBe(0n);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('mulUnits and fitsNumeric', () => {
  test('mulUnits multiplies two 8-place values back to 8 places with the given rounding', () => {
    expect(mulUnits(parseUnits('1.5')!, parseUnits('2')!, 'down')).toBe(parseUnits('3'));
    // 0.00000001 * 0.5 = 0.000000005: a tie
    expect(mulUnits(1n, 50_000_000n, 'down')).toBe(0n);
    expect(mulUnits(1n, 50_000_000n, 'up')).toBe(1n);
    expect(mulUnits(1n, 50_000_000n, 'half_even')).toBe(0n);
    expect(mulUnits(3n, 50_000_000n, 'half_even')).toBe(2n); // 0.000000015 -> 0.00000002
    expect(mulUnits(-3n, 50_000_000n, 'up')).toBe(-2n);
  });

  test('fitsNumeric is exactly NUMERIC(20,8)', () => {
    expect(fitsNumeric(MAX_UNITS)).toBe(true);
    expect(fitsNumeric(-MAX_UNITS)).toBe(true);
    expect(fitsNumeric(MAX_UNITS + 1n)).toBe(false);
    expect(fitsNumeric(-MAX_UNITS - 1n)).toBe(false);
  });
});
