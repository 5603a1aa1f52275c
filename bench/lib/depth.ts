/**
 * Book depth in ticks and lots, and its comparison: after replaying the flow, the book under test must hold
 * exactly the levels the reference book predicts. A benchmark of a book that matched differently would be
 * measuring a different workload.
 */
import type { Depth } from './refbook.js';

/** null when equal, else a short description of the first difference. */
export function diffDepth(expected: Depth, actual: Depth): string | null {
  for (const side of ['bids', 'asks'] as const) {
    const e = expected[side];
    const a = actual[side];
    if (e.length !== a.length) return `${side}: expected ${e.length} levels, got ${a.length}`;
    for (let i = 0; i < e.length; i++) {
      if (e[i][0] !== a[i][0] || e[i][1] !== a[i][1]) {
        return `${side}[${i}]: expected ${e[i][1]} lots at tick ${e[i][0]}, got ${a[i][1]} at ${a[i][0]}`;
      }
    }
  }
  return null;
}

export function depthLevels(d: Depth): number {
  return d.bids.length + d.asks.length;
}
