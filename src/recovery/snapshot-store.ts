/**
 * Engine snapshots in PostgreSQL (table engine_snapshots: seq, state hash, gzip'd bytes).
 *
 * Pruning policy (documented in docs/recovery.md): keep the newest `keep` snapshots (default 3), and never
 * delete the newest snapshot at or below the persisted watermark, since that is the one recovery would
 * load (a snapshot above the watermark describes commands that are not durable yet and may never be).
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { type CommonQueryMethods, sql } from 'slonik';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface StoredSnapshot {
  seq: number;
  hash: string;
  /** The engine snapshot, uncompressed (engine/snapshot.ts). */
  bytes: Uint8Array;
  /** Size as stored (compressed). */
  storedBytes: number;
}

/**
 * Compresses off the engine thread: zlib's async API runs in libuv's thread pool. Level 1: on engine
 * snapshots it is about 4x faster than the default level for a few percent more bytes.
 */
export function compressSnapshot(bytes: Uint8Array): Promise<Buffer> {
  return gzipAsync(bytes, { level: 1 });
}

export function decompressSnapshot(stored: Uint8Array): Promise<Buffer> {
  return gunzipAsync(stored);
}

export async function saveSnapshot(
  db: CommonQueryMethods,
  seq: number,
  hash: string,
  compressed: Uint8Array,
): Promise<void> {
  // ON CONFLICT: a snapshot at the same seq is the same state (the engine is deterministic).
  await db.query(sql.unsafe`
    INSERT INTO engine_snapshots (seq, hash, state)
    VALUES (${seq}, ${hash}, ${sql.binary(Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength))})
    ON CONFLICT (seq) DO NOTHING`);
}

/** The newest snapshot at or below `maxSeq`, decompressed; null when there is none. */
export async function loadLatestSnapshot(
  db: CommonQueryMethods,
  maxSeq: number,
): Promise<StoredSnapshot | null> {
  const row = await db.maybeOne(sql.unsafe`
    SELECT seq, hash, state FROM engine_snapshots WHERE seq <= ${maxSeq} ORDER BY seq DESC LIMIT 1`);
  if (row === null) return null;
  const stored = row.state as Buffer;
  return {
    seq: Number(row.seq),
    hash: String(row.hash),
    bytes: await decompressSnapshot(stored),
    storedBytes: stored.length,
  };
}

/** Applies the pruning policy above; returns how many snapshots were deleted. */
export async function pruneSnapshots(
  db: CommonQueryMethods,
  keep: number,
  watermark: number,
): Promise<number> {
  if (!(Number.isInteger(keep) && keep >= 1)) throw new RangeError('keep must be a whole number >= 1');
  const result = await db.query(sql.unsafe`
    DELETE FROM engine_snapshots
    WHERE seq < (SELECT seq FROM engine_snapshots ORDER BY seq DESC OFFSET ${keep - 1} LIMIT 1)
      AND seq < coalesce((SELECT max(seq) FROM engine_snapshots WHERE seq <= ${watermark}), 0)`);
  return result.rowCount;
}
