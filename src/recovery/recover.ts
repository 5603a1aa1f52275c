/**
 * Recovery (../../shared/design.md, "Recovery"): brings a fresh engine to exactly the persisted state before
 * the server opens for trading.
 *
 *   1. drain: wait until the batch queue holds nothing pending (queue-drain.ts), so every batch a previous
 *      run released to clients is in PostgreSQL;
 *   2. watermark: the gap-free persisted seq; journal rows above it (batches that landed past a lost one)
 *      refuse the start, naming the missing seq, since the next run would reuse those seqs;
 *   3. snapshot: the newest one at or below the watermark, restored into the engine and checked against
 *      its recorded state hash;
 *   4. replay: the journal after the snapshot up to the watermark, in pages, through the same engine; at
 *      every persisted state hash (checkpoint commands) the replayed hash must match, or the start is
 *      refused naming the seq;
 *   5. the caller resumes sequencing at watermark + 1.
 *
 * Progress goes to a callback (the health endpoint shows it while the server is "recovering").
 */
import type { ConnectionOptions } from 'bullmq';
import { type CommonQueryMethods, type DatabasePool, sql } from 'slonik';
import type { EngineApi } from '../../engine/api.js';
import { Engine } from '../../engine/engine.js';
import { restoreInto } from '../../engine/snapshot.js';
import { readWatermark } from '../../persistence/watermark.js';
import { RecoveryError } from './errors.js';
import { readJournal } from './journal-reader.js';
import { waitForQueueDrained } from './queue-drain.js';
import { loadLatestSnapshot } from './snapshot-store.js';

export interface RecoveryProgress {
  phase: 'draining' | 'loading_snapshot' | 'replaying' | 'done';
  /** Batches still pending in the queue (draining). */
  pendingBatches?: number;
  /** Last seq applied to the engine so far. */
  seq: number;
  /** The watermark: where replay ends (0 until known). */
  targetSeq: number;
  /** seq of the snapshot recovery started from (0: from scratch). */
  snapshotSeq: number;
  replayed: number;
  hashesChecked: number;
  /** Whether the snapshot was hashed at load (see verifySnapshotHash). */
  snapshotVerified?: boolean;
}

export interface RecoverOptions {
  pool: DatabasePool;
  /** The engine to fill; it must be fresh (nothing applied). Default: a new Engine with `risk`. */
  engine?: EngineApi;
  risk?: boolean;
  /** The batch queue to drain first; omit only when no batcher ever ran against this database. */
  queue?: {
    connection: ConnectionOptions;
    queueName: string;
    timeoutMs?: number;
    /** Persist pending batches from this process as well (a worker on this database URL). */
    selfDrainDatabaseUrl?: string;
  };
  /** 'latest' (default) or 'none': ignore snapshots and replay the whole journal. */
  snapshot?: 'latest' | 'none';
  /**
   * Hash the restored snapshot and compare it with its recorded hash (a full hash of the state: seconds
   * for millions of orders). 'auto' (default): only when no persisted state hash at the snapshot's seq
   * equals it; when one does, the snapshotter already proved that restoring these bytes gives the live
   * engine's state (snapshotter.ts), and gzip's checksum guards the bytes since.
   */
  verifySnapshotHash?: boolean | 'auto';
  pageSize?: number;
  /** false: stop after loading the snapshot (the caller replays the tail itself). Default true. */
  replay?: boolean;
  /**
   * Refuse when journal rows lie above the watermark (a lost batch; see step 2). Default true: right for a
   * restart, which would reuse those seqs. false for a reader beside a running server (the replica), for
   * which rows above the watermark are batches that workers committed out of order, not yet contiguous.
   */
  refuseOrphans?: boolean;
  onProgress?: (p: RecoveryProgress) => void;
}

export interface RecoveryResult {
  engine: Engine;
  /** The watermark: the engine's lastSeq now; sequencing resumes at seq + 1. */
  seq: number;
  snapshotSeq: number;
  replayed: number;
  hashesChecked: number;
  snapshotVerified: boolean;
  ms: { drain: number; snapshot: number; replay: number; total: number };
}

async function persistedHashes(
  db: CommonQueryMethods,
  after: number,
  upTo: number,
): Promise<Map<number, string>> {
  const rows = await db.any(sql.unsafe`
    SELECT seq, hash FROM state_hashes WHERE seq > ${after} AND seq <= ${upTo} ORDER BY seq`);
  return new Map(rows.map((r) => [Number(r.seq), String(r.hash)]));
}

/** Journal rows above the watermark mean a batch below them was lost: the first missing seq. */
async function firstOrphan(db: CommonQueryMethods, watermark: number): Promise<number | null> {
  const v = await db.maybeOneFirst(sql.unsafe`SELECT min(seq) FROM command_journal WHERE seq > ${watermark}`);
  return v === null ? null : Number(v);
}

export async function recover(options: RecoverOptions): Promise<RecoveryResult> {
  const started = performance.now();
  const engine = (options.engine ?? new Engine({ risk: options.risk ?? true })) as Engine;
  if (engine.lastSeq !== 0) {
    throw new RecoveryError('engine_not_fresh', engine.lastSeq, 'recovery needs a fresh engine');
  }
  const progress: RecoveryProgress = {
    phase: 'draining',
    seq: 0,
    targetSeq: 0,
    snapshotSeq: 0,
    replayed: 0,
    hashesChecked: 0,
  };
  const report = () => options.onProgress?.({ ...progress });
  report();

  if (options.queue !== undefined) {
    const q = options.queue;
    await waitForQueueDrained({
      connection: q.connection,
      queueName: q.queueName,
      timeoutMs: q.timeoutMs,
      selfDrain: q.selfDrainDatabaseUrl ? { databaseUrl: q.selfDrainDatabaseUrl } : undefined,
      onProgress: (pending) => {
        progress.pendingBatches = pending;
        report();
      },
    });
  }
  const drained = performance.now();

  const watermark = await readWatermark(options.pool);
  progress.targetSeq = watermark;
  const orphan = options.refuseOrphans === false ? null : await firstOrphan(options.pool, watermark);
  if (orphan !== null) {
    throw new RecoveryError(
      'orphan_batches',
      watermark + 1,
      `command journal gap: seq ${watermark + 1} is missing but commands from seq ${orphan} are persisted ` +
        'after it (a batch was lost before it reached the queue); refusing to open, since new commands ' +
        'would reuse those seqs. See docs/recovery.md, "Orphan batches".',
    );
  }

  progress.phase = 'loading_snapshot';
  report();
  if ((options.snapshot ?? 'latest') === 'latest') {
    const snap = await loadLatestSnapshot(options.pool, watermark);
    if (snap !== null) {
      try {
        restoreInto(engine, snap.bytes);
      } catch (error) {
        throw new RecoveryError(
          'snapshot_invalid',
          snap.seq,
          `engine snapshot at seq ${snap.seq} cannot be restored (${(error as Error).message}); ` +
            'start with snapshot "none" to replay the whole journal',
        );
      }
      const verify = options.verifySnapshotHash ?? 'auto';
      const proven =
        verify === 'auto' &&
        (await options.pool.maybeOneFirst(
          sql.unsafe`SELECT hash FROM state_hashes WHERE seq = ${snap.seq}`,
        )) === snap.hash;
      progress.snapshotVerified = verify === true || (verify === 'auto' && !proven);
      if (progress.snapshotVerified && engine.stateHash() !== snap.hash) {
        throw new RecoveryError(
          'snapshot_invalid',
          snap.seq,
          `engine snapshot at seq ${snap.seq} does not match its recorded state hash; ` +
            'start with snapshot "none" to replay the whole journal',
        );
      }
      progress.snapshotSeq = snap.seq;
      progress.seq = snap.seq;
    }
  }
  const loaded = performance.now();
  if (options.replay === false) {
    return {
      engine,
      seq: watermark,
      snapshotSeq: progress.snapshotSeq,
      replayed: 0,
      hashesChecked: 0,
      snapshotVerified: progress.snapshotVerified ?? false,
      ms: { drain: drained - started, snapshot: loaded - drained, replay: 0, total: loaded - started },
    };
  }

  progress.phase = 'replaying';
  report();
  const hashes = await persistedHashes(options.pool, engine.lastSeq, watermark);
  for await (const page of readJournal(options.pool, engine.lastSeq, watermark, options.pageSize)) {
    const cmds = page.commands;
    for (let i = 0; i < cmds.length; i++) {
      const cmd = cmds[i];
      // The journal's events are persisted already: replay changes state without building them.
      engine.replay(cmd);
      // Every hash persisted in the replayed range (checkpoints, a final snapshot's proof) is recomputed.
      if (hashes.size > 0 && hashes.has(cmd.seq)) {
        const expected = hashes.get(cmd.seq);
        const actual = engine.stateHash();
        if (actual !== expected) {
          throw new RecoveryError(
            'hash_mismatch',
            cmd.seq,
            `state hash mismatch at seq ${cmd.seq}: replaying the journal gives ${actual}, ` +
              `the persisted hash is ${expected}; refusing to open`,
          );
        }
        progress.hashesChecked++;
        hashes.delete(cmd.seq);
      }
    }
    progress.replayed += cmds.length;
    progress.seq = engine.lastSeq;
    report();
  }
  if (engine.lastSeq !== watermark) {
    throw new RecoveryError(
      'journal_gap',
      engine.lastSeq + 1,
      `replay stopped at seq ${engine.lastSeq}, expected ${watermark}`,
    );
  }
  progress.phase = 'done';
  report();
  const done = performance.now();
  return {
    engine,
    seq: watermark,
    snapshotSeq: progress.snapshotSeq,
    replayed: progress.replayed,
    hashesChecked: progress.hashesChecked,
    snapshotVerified: progress.snapshotVerified ?? false,
    ms: {
      drain: drained - started,
      snapshot: loaded - drained,
      replay: done - loaded,
      total: done - started,
    },
  };
}
