/**
 * The book checksum and the sorted book side both ends of the protocol share: CRC-32 as zlib computes it,
 * the documented example, and BookLevels against a reference that sorts by exact value.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUnits } from '../../engine/numeric.js';
import { BookLevels, comparePrices } from '../../src/protocol/book-levels.js';
import { bookChecksum, CHECKSUM_LEVELS, crc32 } from '../../src/protocol/checksum.js';
import type { Level } from '../../src/protocol/types.js';

/** A canonical positive decimal as the engine writes prices: up to 12 integer digits, 8 fraction digits. */
const price = fc
  .tuple(fc.bigInt({ min: 0n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 99_999_999 }))
  .filter(([i, f]) => i > 0n || f > 0)
  .map(([i, f]) => {
    const frac = String(f).padStart(8, '0').replace(/0+$/, '');
    return frac === '' ? String(i) : `${i}.${frac}`;
  });

describe('crc32', () => {
  it('is the CRC-32 zlib computes', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)) }),
        (s) => {
          expect(crc32(s)).toBe(zlibCrc32(s));
        },
      ),
    );
  });

  it('hashes the best levels of each side as docs/protocol.md shows', () => {
    const bids: Level[] = [
      ['99.5', '2'],
      ['99', '1.25'],
    ];
    const asks: Level[] = [['100.5', '0.3']];
    expect(bookChecksum(bids, asks)).toBe(crc32('99.5:2,99:1.25|100.5:0.3'));
    expect(bookChecksum(bids, asks)).toBe(4109642458);
    // The delta example: 99.5 down to 1.5.
    expect(bookChecksum([['99.5', '1.5'], bids[1]!], asks)).toBe(1140844563);
    expect(bookChecksum([], [])).toBe(crc32('|'));
    // Only the best CHECKSUM_LEVELS count.
    const many: Level[] = Array.from({ length: 15 }, (_, i) => [String(100 - i), '1']);
    expect(bookChecksum(many, [])).toBe(bookChecksum(many.slice(0, CHECKSUM_LEVELS), []));
  });
});

describe('comparePrices', () => {
  it('orders canonical decimals by exact value', () => {
    fc.assert(
      fc.property(price, price, (a, b) => {
        const ua = parseUnits(a)!;
        const ub = parseUnits(b)!;
        expect(Math.sign(comparePrices(a, b))).toBe(ua < ub ? -1 : ua > ub ? 1 : 0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('BookLevels', () => {
  it('keeps a side best first through any sequence of level changes', () => {
    const change = fc.tuple(
      fc.constantFrom('99', '99.5', '100', '100.25', '101', '9', '1000', '0.5', '12.345'),
      fc.constantFrom('0', '0', '1', '2.5'),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(change, { maxLength: 60 }), (bids, changes) => {
        const side = new BookLevels(bids);
        const ref = new Map<string, string>();
        for (const [p, q] of changes) {
          const before = rank(ref, bids, p);
          const r = side.set(p, q);
          if (q === '0') {
            expect(r).toBe(ref.has(p) ? before : -1);
            ref.delete(p);
          } else {
            ref.set(p, q);
            expect(r).toBe(rank(ref, bids, p));
          }
          const expected = sorted(ref, bids);
          expect(side.top(Number.MAX_SAFE_INTEGER)).toEqual(expected);
          expect(side.size).toBe(ref.size);
          expect(side.best()).toBe(expected[0]?.[0] ?? null);
          expect(side.worst()).toBe(expected[expected.length - 1]?.[0] ?? null);
        }
      }),
    );
  });
});

function sorted(ref: Map<string, string>, bids: boolean): Level[] {
  const rows = [...ref].map(([p, q]) => ({ u: parseUnits(p)!, l: [p, q] as Level }));
  rows.sort((a, b) => (a.u < b.u ? -1 : a.u > b.u ? 1 : 0) * (bids ? -1 : 1));
  return rows.map((r) => r.l);
}

/** Where `p` stands (or would stand) best first. */
function rank(ref: Map<string, string>, bids: boolean, p: string): number {
  const u = parseUnits(p)!;
  return sorted(ref, bids).filter(([x]) => (bids ? parseUnits(x)! > u : parseUnits(x)! < u)).length;
}
