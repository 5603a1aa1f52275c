import { type DatabasePool, sql } from 'slonik';

/**
 * Every row of every table the workers write, in key order, as text: two databases that received the same
 * batches (in any order, any number of times) must dump identically. persisted_batches is left out (its
 * rows carry the commit time and are pruned by the watermark), the watermark is in.
 */
export async function dumpDatabase(pool: DatabasePool): Promise<Record<string, string[]>> {
  const tables: [string, string][] = [
    ['users', 'id'],
    ['instruments', 'id'],
    ['accounts', 'id'],
    ['orders', 'id'],
    ['positions', 'id'],
    ['trades', 'id'],
    ['account_ledger', 'id'],
    ['command_journal', 'seq'],
    ['state_hashes', 'seq'],
    ['persistence_watermark', 'id'],
  ];
  const out: Record<string, string[]> = {};
  for (const [table, key] of tables) {
    const cols = table === 'persistence_watermark' ? sql.fragment`t.seq` : sql.fragment`t.*`;
    out[table] = (await pool.anyFirst(sql.unsafe`
      SELECT (${cols})::text FROM ${sql.identifier([table])} t ORDER BY ${sql.identifier([key])}`)) as string[];
  }
  return out;
}
