/**
 * A replica engine: a second copy of the engine that follows the persisted command journal, so that state
 * hashes (checkpoints) and snapshots are taken from it instead of from the live engine.
 *
 * Hashing and serializing the whole state are O(state): with a million resting orders, about 1.5 s and 1.2 s
 * that the live engine would spend paused (docs/recovery.md). The replica spends them on its own thread
 * (replica-thread.ts); order flow does not see them. It is how journalled engines (LMAX and its followers)
 * take snapshots: from a replica fed by the journal, never from the primary.
 *
 * What it does:
 * - opens by recovering from PostgreSQL exactly as a restart would (newest snapshot at or below the
 *   watermark, then the journal up to it, every persisted hash checked), but without draining the queue;
 * - follows: the journal from its seq up to the current watermark, through `Engine.apply` (events built and
 *   discarded), the same code path as the live engine's. A state hash it records is therefore the hash the
 *   live engine had at that seq (the engine is deterministic), and recovery, which replays with
 *   `Engine.replay`, still checks its own path against the live one's;
 * - checkpoints: records its state hash at its seq in state_hashes;
 * - snapshots: serializes, proves the bytes restore to the hash it just recorded, compresses, stores, prunes.
 *
 * It reads only what the workers persisted (the watermark bounds it), so it never sees a command that may
 * be lost, and it never writes anything recovery would trust without checking (hashes are compared, a
 * snapshot is stored only after it restored to the live hash).
 */
import { type DatabasePool, sql } from 'slonik';
import type { Engine } from '../../engine/engine.js';
import { snapshotEngine } from '../../engine/snapshot.js';
import { readWatermark } from '../../persistence/watermark.js';
import { readJournal } from './journal-reader.js';
import { recover } from './recover.js';
import { pruneSnapshots, saveSnapshot } from './snapshot-store.js';
import { processSnapshot } from './snapshot-worker.js';

export interface ReplicaCheckpoint {
  seq: number;
  hash: string;
  hashMs: number;
}

export interface ReplicaSnapshot {
  seq: number;
  hash: string;
  /** Serialization, restore-and-hash of the copy, compression, write: all on the replica's thread. */
  serializeMs: number;
  proveMs: number;
  compressMs: number;
  writeMs: number;
  bytes: number;
  storedBytes: number;
  pruned: number;
}

export interface FollowResult {
  /** Commands applied by this call. */
  applied: number;
  seq: number;
  watermark: number;
}

export class Replica {
  /** The hash recorded at the replica's current seq, if any (a snapshot reuses it as its proof). */
  private hashAt: { seq: number; hash: string } | null = null;

  private constructor(
    readonly engine: Engine,
    private readonly pool: DatabasePool,
  ) {}

  /** Recovers a fresh engine from the database (no queue drain: the live server owns the queue). */
  static async open(pool: DatabasePool, options: { risk: boolean }): Promise<Replica> {
    // Beside a running server, journal rows above the watermark are batches committed out of order by
    // concurrent workers, not lost ones: only a restart must refuse them.
    const r = await recover({ pool, risk: options.risk, refuseOrphans: false });
    return new Replica(r.engine, pool);
  }

  get seq(): number {
    return this.engine.lastSeq;
  }

  /** Applies the persisted journal after the replica's seq, up to the watermark (or `upTo`, if lower). */
  async follow(upTo = Number.POSITIVE_INFINITY): Promise<FollowResult> {
    const watermark = await readWatermark(this.pool);
    const target = Math.min(watermark, upTo);
    let applied = 0;
    if (target > this.engine.lastSeq) {
      for await (const page of readJournal(this.pool, this.engine.lastSeq, target)) {
        // State alone: the journal's events are persisted already, and the replica hashes where it
        // checkpoints (a checkpoint command applied with events would hash the whole state once more).
        const cmds = page.commands;
        for (let i = 0; i < cmds.length; i++) this.engine.replay(cmds[i]);
        applied += cmds.length;
      }
    }
    return { applied, seq: this.engine.lastSeq, watermark };
  }

  /** Records the state hash at the replica's seq (state_hashes; recovery checks its replay against it). */
  async checkpoint(): Promise<ReplicaCheckpoint> {
    const seq = this.engine.lastSeq;
    const t0 = performance.now();
    const hash = this.hashAt?.seq === seq ? this.hashAt.hash : this.engine.stateHash();
    const hashMs = performance.now() - t0;
    this.hashAt = { seq, hash };
    await this.pool.query(sql.unsafe`
      INSERT INTO state_hashes (seq, hash, ts) VALUES (${seq}, ${hash}, exch_us_to_ts(${this.engine.now}))
      ON CONFLICT (seq) DO NOTHING`);
    return { seq, hash, hashMs };
  }

  /**
   * Stores a snapshot at the replica's seq, after a checkpoint there (recorded first, so a restart finds the
   * proof recover.ts looks for and need not hash the snapshot again), and prunes old ones.
   */
  async snapshot(keep: number): Promise<ReplicaSnapshot> {
    const seq = this.engine.lastSeq;
    const { hash } = await this.checkpoint();
    const t0 = performance.now();
    const bytes = snapshotEngine(this.engine);
    const t1 = performance.now();
    const r = processSnapshot(bytes);
    if (r.hash !== hash) {
      throw new Error(
        `replica snapshot at seq ${seq} does not restore to the replica's state (restored ${r.hash}, ` +
          `live ${hash}): not stored`,
      );
    }
    const t2 = performance.now();
    await saveSnapshot(this.pool, seq, hash, r.compressed);
    const pruned = await pruneSnapshots(this.pool, keep, await readWatermark(this.pool));
    return {
      seq,
      hash,
      serializeMs: t1 - t0,
      proveMs: r.hashMs,
      compressMs: r.compressMs,
      writeMs: performance.now() - t2,
      bytes: bytes.byteLength,
      storedBytes: r.compressed.byteLength,
      pruned,
    };
  }
}

export interface ReplicaSchedule {
  /** A checkpoint after this many commands since the last one... Default 100,000. */
  checkpointEveryCommands: number;
  /** ... or after this long with at least one command since. Default 60 s. */
  checkpointEveryMs: number;
  /** A snapshot after this many commands since the last one... Default 1,000,000. */
  snapshotEveryCommands: number;
  /** ... or after this long with at least one command since. Default 10 minutes. */
  snapshotEveryMs: number;
  /** Snapshots kept by the pruning policy (snapshot-store.ts). Default 3. */
  keep: number;
}

export const DEFAULT_REPLICA_SCHEDULE: ReplicaSchedule = {
  checkpointEveryCommands: 100_000,
  checkpointEveryMs: 60_000,
  snapshotEveryCommands: 1_000_000,
  snapshotEveryMs: 600_000,
  keep: 3,
};

/** What is due at `seq` and `now`, given when the last checkpoint and snapshot were taken. */
export function due(
  s: ReplicaSchedule,
  seq: number,
  now: number,
  last: { checkpointSeq: number; checkpointAt: number; snapshotSeq: number; snapshotAt: number },
): 'snapshot' | 'checkpoint' | null {
  const sinceSnapshot = seq - last.snapshotSeq;
  if (
    sinceSnapshot > 0 &&
    (sinceSnapshot >= s.snapshotEveryCommands || now - last.snapshotAt >= s.snapshotEveryMs)
  )
    return 'snapshot';
  const sinceCheckpoint = seq - last.checkpointSeq;
  if (
    sinceCheckpoint > 0 &&
    (sinceCheckpoint >= s.checkpointEveryCommands || now - last.checkpointAt >= s.checkpointEveryMs)
  )
    return 'checkpoint';
  return null;
}
