/**
 * Writes one Batch to PostgreSQL in one transaction (one statement), idempotently and independently of the order in which
 * batches arrive:
 * - append-only rows (trades, ledger, journal, state hashes) carry deterministic ids: ON CONFLICT DO NOTHING;
 * - current-state rows (users, instruments, accounts, orders, positions) are upserted only when the incoming
 *   seq is higher than the stored one;
 * - the batch's seq range goes to persisted_batches in the same transaction, so the watermark never counts
 *   a batch whose rows are not all there.
 * One statement per table, whatever the number of rows.
 */
import { type DatabasePool, sql } from 'slonik';
import type { Batch } from '../src/pipeline/types.js';
import { bulkInsert } from './columns.js';
import { type BatchRows, batchRows, batchSymbols } from './rows.js';

/** A batch referencing an instrument whose own batch is not persisted yet: retrying later will succeed. */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';
}

export interface WriteStats {
  fromSeq: number;
  toSeq: number;
  /** Rows offered per table (after keeping only the newest state per entity). */
  rows: Record<keyof BatchRows, number>;
}

export class BatchWriter {
  /** symbol -> instrument engine id. Safe to cache: the engine never renumbers an instrument. */
  private readonly instruments = new Map<string, number>();

  constructor(private readonly pool: DatabasePool) {}

  async write(batch: Batch): Promise<WriteStats> {
    return this.writeGroup([batch]);
  }

  /**
   * Several batches in one statement (group commit, see group-commit.ts): their events are taken together,
   * so each entity's newest state wins across them, and each batch's range is recorded. The result is the
   * same as writing them one by one, in any order.
   */
  async writeGroup(batches: readonly Batch[]): Promise<WriteStats> {
    if (batches.length === 0) throw new RangeError('no batch to write');
    for (const b of batches) {
      if (!(b.fromSeq > 0 && b.toSeq >= b.fromSeq))
        throw new RangeError(`bad batch range ${b.fromSeq}..${b.toSeq}`);
    }
    const merged: Batch =
      batches.length === 1
        ? batches[0]!
        : {
            fromSeq: Math.min(...batches.map((b) => b.fromSeq)),
            toSeq: Math.max(...batches.map((b) => b.toSeq)),
            commands: batches.flatMap((b) => b.commands),
            events: batches.flatMap((b) => b.events),
          };
    await this.resolveInstruments(merged);
    const rows = batchRows(merged, (symbol) => this.instruments.get(symbol) ?? null);
    // One statement, one transaction (see batchStatement). slonik may retry it after a serialization
    // failure: it is idempotent.
    await this.pool.query(batchStatement(batches, rows));
    const counts = {} as Record<keyof BatchRows, number>;
    for (const [name, set] of Object.entries(rows)) counts[name as keyof BatchRows] = set.size;
    return { fromSeq: merged.fromSeq, toSeq: merged.toSeq, rows: counts };
  }

  /** Learns the ids of the symbols the batch uses: from the batch itself, else from the database. */
  private async resolveInstruments(batch: Batch): Promise<void> {
    const { required, optional, created } = batchSymbols(batch);
    for (const [symbol, id] of created) this.instruments.set(symbol, id);
    const unknown = [...required, ...optional].filter((s) => !this.instruments.has(s));
    if (unknown.length === 0) return;
    const found = await this.pool.any(sql.unsafe`
      SELECT symbol, engine_id FROM instruments WHERE symbol = ANY(${sql.array(unknown, 'text')})`);
    for (const row of found) this.instruments.set(row.symbol as string, Number(row.engine_id));
    // A refused order's unknown symbol is looked up on every batch that has one: rare, and cheap.
    const missing = [...required].filter((s) => !this.instruments.has(s));
    if (missing.length > 0) {
      throw new MissingDependencyError(
        `batch ${batch.fromSeq}-${batch.toSeq} references instruments not persisted yet: ${missing.join(', ')}`,
      );
    }
  }
}

/**
 * The whole batch as ONE statement: every table's INSERT is a data-modifying CTE of the final INSERT into
 * persisted_batches. A single statement is a transaction of its own (all or nothing), and it costs one
 * round trip instead of a BEGIN, a statement per table and a COMMIT: with small batches the round trips,
 * not the rows, were the bottleneck. Foreign-key checks run at the end of the statement, so parents written
 * by the same batch are seen. Parents come first and rows within a table are sorted by key, so concurrent
 * writers take row locks in one order.
 */
export function batchStatement(batches: readonly Batch[], rows: BatchRows) {
  const steps: [string, BatchRows[keyof BatchRows], 'seq' | 'nothing'][] = [
    ['users', rows.users, 'seq'],
    ['instruments', rows.instruments, 'seq'],
    ['accounts', rows.accounts, 'seq'],
    ['orders', rows.orders, 'seq'],
    ['positions', rows.positions, 'seq'],
    ['trades', rows.trades, 'nothing'],
    ['account_ledger', rows.ledger, 'nothing'],
    ['command_journal', rows.journal, 'nothing'],
    ['state_hashes', rows.stateHashes, 'nothing'],
  ];
  const ctes = steps
    .filter(([, set]) => set.size > 0)
    .map(([table, set, mode]) => {
      const conflict =
        mode === 'seq' ? ({ kind: 'newer-seq', key: 'id' } as const) : ({ kind: 'nothing' } as const);
      return sql.fragment`${sql.identifier([`w_${table}`])} AS (${bulkInsert(table, set, conflict)})`;
    });
  const withClause =
    ctes.length > 0 ? sql.fragment`WITH ${sql.join(ctes, sql.fragment`, `)}` : sql.fragment``;
  return sql.unsafe`
    ${withClause}
    INSERT INTO persisted_batches (from_seq, to_seq, events)
    SELECT * FROM unnest(
      ${sql.array(
        batches.map((b) => b.fromSeq),
        'int8',
      )}, ${sql.array(
        batches.map((b) => b.toSeq),
        'int8',
      )}, ${sql.array(
        batches.map((b) => b.events.length),
        'int4',
      )})
    ON CONFLICT DO NOTHING`;
}
