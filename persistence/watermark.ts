/**
 * The persisted watermark: the highest seq up to which every batch is committed, with no gap. Recovery
 * replays the journal up to it; the server may trust everything at or below it to be in the database.
 *
 * Each batch transaction inserts its range into persisted_batches. Folding that into the single
 * persistence_watermark row is done here, outside the batch transactions, so concurrent workers never
 * queue on one hot row: `advanceWatermark` finds the gap-free run above the stored value, stores its end and
 * prunes the ranges below it. `readWatermark` computes the same value without writing anything.
 */
import { type CommonQueryMethods, sql } from 'slonik';

/**
 * Gap-free end over the stored watermark and the recorded ranges above it. A range continues the run when it
 * starts at most one past the highest end seen before it (ranges may overlap, e.g. after a re-batching).
 */
const GAP_FREE_END = sql.unsafe`
  WITH w AS (SELECT seq FROM persistence_watermark WHERE id),
  r AS (
    SELECT from_seq, to_seq,
      max(to_seq) OVER (ORDER BY from_seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
    FROM persisted_batches
    WHERE to_seq > (SELECT seq FROM w)
  ),
  first_gap AS (
    SELECT min(from_seq) AS from_seq FROM r
    WHERE from_seq > greatest(coalesce(prev_end, 0), (SELECT seq FROM w)) + 1
  )
  SELECT greatest(
    (SELECT seq FROM w),
    (SELECT max(to_seq) FROM r WHERE r.from_seq < coalesce((SELECT from_seq FROM first_gap), 'Infinity'::numeric))
  ) AS seq`;

export async function readWatermark(db: CommonQueryMethods): Promise<number> {
  return Number(await db.oneFirst(GAP_FREE_END));
}

/** Stores the gap-free end and forgets the ranges below it. Safe to run from several processes at once. */
export async function advanceWatermark(db: CommonQueryMethods): Promise<number> {
  const seq = await readWatermark(db);
  await db.query(sql.unsafe`
    UPDATE persistence_watermark SET seq = ${seq}, updated_at = now() WHERE id AND seq < ${seq}`);
  await db.query(sql.unsafe`DELETE FROM persisted_batches WHERE to_seq <= ${seq}`);
  return seq;
}
