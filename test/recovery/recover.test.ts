/**
 * Recovery against the real PostgreSQL and Redis: replaying the persisted journal gives the live engine's
 * state (hash), from scratch and from a snapshot; a journal gap, an orphan batch past a lost one and a state
 * hash mismatch each refuse to open, naming the seq; pending batches in the queue are persisted first.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { readWatermark } from '../../persistence/watermark.js';
import { RecoveryError } from '../../src/recovery/errors.js';
import { type RecoveryProgress, recover } from '../../src/recovery/recover.js';
import { finishShutdown } from '../../src/recovery/shutdown.js';
import { loadLatestSnapshot, pruneSnapshots } from '../../src/recovery/snapshot-store.js';
import { takeSnapshot } from '../../src/recovery/snapshotter.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../persistence/helpers.js';
import { generateStream, writeBatches } from './helpers.js';

const dbs: TestDatabase[] = [];
async function freshDb(): Promise<TestDatabase> {
  const db = await createTestDatabase('exch_recov');
  dbs.push(db);
  return db;
}
afterAll(async () => {
  await Promise.allSettled(dbs.map((d) => d.drop()));
});

async function refusal(p: Promise<unknown>): Promise<RecoveryError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof RecoveryError) return error;
    throw error;
  }
  throw new Error('recovery opened, expected a refusal');
}

describe('recovery from the persisted journal', () => {
  let db: TestDatabase;
  let live: Engine;
  let midSeq = 0;
  let midHash = '';
  let midSnapshot: Uint8Array | null = null;

  beforeAll(async () => {
    db = await freshDb();
    const stream = generateStream(101, 1500, {
      at: (engine) => {
        if (engine.lastSeq === 900) {
          midSnapshot = new Uint8Array(snapshotEngine(engine));
          midSeq = engine.lastSeq;
          midHash = engine.stateHash();
        }
      },
    });
    live = stream.engine;
    await writeBatches(db, stream.batches);
  });

  test('replay from scratch equals the live engine, and every persisted hash is checked', async () => {
    const progress: RecoveryProgress[] = [];
    const r = await recover({ pool: db.pool, onProgress: (p) => progress.push(p), pageSize: 300 });
    expect(r.seq).toBe(live.lastSeq);
    expect(r.seq).toBe(await readWatermark(db.pool));
    expect(r.engine.stateHash()).toBe(live.stateHash());
    expect(r.snapshotSeq).toBe(0);
    expect(r.replayed).toBe(live.lastSeq);
    const persisted = Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM state_hashes`));
    expect(persisted).toBeGreaterThan(10);
    expect(r.hashesChecked).toBe(persisted);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', seq: live.lastSeq, targetSeq: live.lastSeq });
    expect(progress.filter((p) => p.phase === 'replaying').length).toBeGreaterThan(3);
  });

  test('replay from a snapshot replays only the tail and ends in the same state', async () => {
    // the snapshot taken mid-stream, stored as the snapshotter stores it (worker thread: hash + gzip)
    const restored = restoreEngine(midSnapshot!);
    expect(restored.stateHash()).toBe(midHash);
    const stats = await takeSnapshot(restored, db.pool, { offThread: true });
    expect(stats).toMatchObject({ seq: midSeq, hash: midHash });
    expect(stats.storedBytes).toBeLessThan(stats.bytes);
    const loaded = await loadLatestSnapshot(db.pool, live.lastSeq);
    expect(loaded?.seq).toBe(midSeq);

    const r = await recover({ pool: db.pool });
    expect(r.snapshotSeq).toBe(midSeq);
    expect(r.replayed).toBe(live.lastSeq - midSeq);
    expect(r.engine.stateHash()).toBe(live.stateHash());

    // snapshot 'none' still replays everything
    const full = await recover({ pool: db.pool, snapshot: 'none' });
    expect(full.replayed).toBe(live.lastSeq);
    expect(full.engine.stateHash()).toBe(live.stateHash());
  });

  test('graceful shutdown leaves a snapshot at the last seq: the next start replays nothing', async () => {
    const r = await recover({ pool: db.pool });
    const done = await finishShutdown({ engine: r.engine, pool: db.pool, timeoutMs: 5000, offThread: false });
    expect(done).toMatchObject({ persisted: true, seq: live.lastSeq });
    expect(done.snapshot?.seq).toBe(live.lastSeq);
    expect(done.snapshot?.proven).toBe(true);
    const again = await recover({ pool: db.pool });
    expect(again.snapshotSeq).toBe(live.lastSeq);
    expect(again.replayed).toBe(0);
    // proven against the live engine at shutdown: the restart does not hash it again
    expect(again.snapshotVerified).toBe(false);
    expect((await recover({ pool: db.pool, verifySnapshotHash: true })).snapshotVerified).toBe(true);
    expect(again.engine.stateHash()).toBe(live.stateHash());
  });

  test('pruning keeps the newest snapshots and the one recovery would load', async () => {
    const before = Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM engine_snapshots`));
    expect(before).toBe(2);
    // keep 1: the newest (at the watermark) stays; the older goes
    expect(await pruneSnapshots(db.pool, 1, live.lastSeq)).toBe(1);
    // with a watermark below every snapshot, the newest at or below it is kept: none exists, nothing breaks
    expect(await pruneSnapshots(db.pool, 1, 10)).toBe(0);
    expect(Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM engine_snapshots`))).toBe(1);
  });
});

test('a snapshot taken at a checkpoint is checked against the live hash before it is stored', async () => {
  const db = await freshDb();
  const { engine, batches } = generateStream(909, 300);
  await writeBatches(db, batches);
  const hash = engine.stateHash();
  await expect(
    takeSnapshot(engine, db.pool, { offThread: false, checkpoint: () => 'f'.repeat(64) }),
  ).rejects.toThrow(/does not reproduce the live engine/);
  expect(Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM engine_snapshots`))).toBe(0);
  // the stream ends with a checkpoint, whose hash the workers persisted: the snapshot is proven
  const stats = await takeSnapshot(engine, db.pool, { offThread: false, checkpoint: () => hash });
  expect(stats).toMatchObject({ proven: true, seq: engine.lastSeq, hash });
  const r = await recover({ pool: db.pool });
  expect(r).toMatchObject({ snapshotSeq: engine.lastSeq, snapshotVerified: false, replayed: 0 });
  expect(r.engine.stateHash()).toBe(hash);
});

describe('recovery refuses to open', () => {
  test('on a gap inside the journal, naming the missing seq', async () => {
    const db = await freshDb();
    const { batches } = generateStream(202, 300);
    // a batch recorded as persisted whose journal lacks one command (a damaged journal)
    const victim = batches[3];
    const missing = victim.commands[5].seq;
    victim.commands = victim.commands.filter((c) => c.seq !== missing);
    await writeBatches(db, batches);
    const e = await refusal(recover({ pool: db.pool }));
    expect(e.reason).toBe('journal_gap');
    expect(e.seq).toBe(missing);
    expect(e.message).toContain(`seq ${missing}`);
  });

  test('on batches persisted past a lost one, naming the first missing seq', async () => {
    const db = await freshDb();
    const { batches } = generateStream(303, 300);
    const lost = batches[4];
    await writeBatches(
      db,
      batches.filter((b) => b !== lost),
    );
    expect(await readWatermark(db.pool)).toBe(lost.fromSeq - 1);
    const e = await refusal(recover({ pool: db.pool }));
    expect(e.reason).toBe('orphan_batches');
    expect(e.seq).toBe(lost.fromSeq);
    expect(e.message).toContain(`seq ${lost.fromSeq} is missing`);
  });

  test('on a state hash mismatch, naming the seq', async () => {
    const db = await freshDb();
    const { batches } = generateStream(404, 400);
    await writeBatches(db, batches);
    const seq = Number(
      await db.pool.oneFirst(sql.unsafe`SELECT seq FROM state_hashes ORDER BY seq OFFSET 2 LIMIT 1`),
    );
    await db.pool.query(sql.unsafe`UPDATE state_hashes SET hash = repeat('0', 64) WHERE seq = ${seq}`);
    const e = await refusal(recover({ pool: db.pool }));
    expect(e.reason).toBe('hash_mismatch');
    expect(e.seq).toBe(seq);
    expect(e.message).toContain(`state hash mismatch at seq ${seq}`);
  });

  test('on a snapshot that does not match its recorded hash', async () => {
    const db = await freshDb();
    const { engine, batches } = generateStream(505, 200);
    await writeBatches(db, batches);
    await takeSnapshot(engine, db.pool, { offThread: false });
    await db.pool.query(sql.unsafe`UPDATE engine_snapshots SET hash = 'x'`);
    const e = await refusal(recover({ pool: db.pool }));
    expect(e.reason).toBe('snapshot_invalid');
    expect(e.seq).toBe(engine.lastSeq);
    // the operator's way out: ignore snapshots
    const r = await recover({ pool: db.pool, snapshot: 'none' });
    expect(r.engine.stateHash()).toBe(engine.stateHash());
  });
});

test('pending batches in the queue are persisted before the replay', async () => {
  const db = await freshDb();
  const { engine, batches } = generateStream(606, 400);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queueName = uniqueName('exch-recov-q');
  const queue = new Queue(queueName, { connection });
  try {
    await writeBatches(db, batches.slice(0, 3));
    for (const b of batches.slice(3))
      await queue.add('batch', b, { jobId: `b-${b.fromSeq}-${b.toSeq}`, attempts: 5 });
    const pending: number[] = [];
    const r = await recover({
      pool: db.pool,
      queue: { connection, queueName, selfDrainDatabaseUrl: db.url, timeoutMs: 30_000 },
      onProgress: (p) => p.pendingBatches !== undefined && pending.push(p.pendingBatches),
    });
    expect(pending[0]).toBe(batches.length - 3);
    expect(r.seq).toBe(engine.lastSeq);
    expect(r.engine.stateHash()).toBe(engine.stateHash());
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
});
