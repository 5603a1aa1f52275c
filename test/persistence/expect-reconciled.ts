import type { DatabasePool } from 'slonik';
import { expect } from 'vitest';
import { type Expected, reconcile } from './reconcile.js';

/** Asserts that the database holds exactly what the engine decided, and that every ledger chain holds. */
export async function expectReconciled(pool: DatabasePool, expected: Expected): Promise<void> {
  const r = (await reconcile(pool, expected)) as Record<string, { db: unknown[]; engine: unknown[] }> & {
    chain: string[];
  };
  expect(r.chain).toEqual([]);
  for (const table of ['accounts', 'orders', 'positions', 'trades', 'ledger'] as const) {
    expect(r[table].db.length, `${table} rows`).toBe(r[table].engine.length);
    expect(r[table].db, table).toEqual(r[table].engine);
  }
}
