/**
 * The replica engine (src/recovery/replica.ts): it follows the persisted journal, and the checkpoints and
 * snapshots it records are the live engine's state at their seqs, which recovery then trusts and checks.
 */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { recover } from '../../src/recovery/recover.js';
import { DEFAULT_REPLICA_SCHEDULE, due, Replica } from '../../src/recovery/replica.js';
import { startReplica } from '../../src/recovery/replica-host.js';
import type { ReplicaMessage } from '../../src/recovery/replica-thread.js';
import { until } from '../e2e/helpers.js';
import { createTestDatabase, type TestDatabase } from '../persistence/helpers.js';
import { generateStream, writeBatches } from './helpers.js';

describe('replica', () => {
  // No checkpoint commands in the journal (every > n): the hashes recovery checks are the replica's alone.
  const stream = generateStream(4242, 1500, { batchSize: 25, checkpointEvery: 1_000_000 });
  const half = Math.floor(stream.batches.length / 2);
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('exch_replica');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('follows the journal up to the watermark; its checkpoint and snapshot are what the live engine had', async () => {
    await writeBatches(db, stream.batches.slice(0, half));
    const firstEnd = stream.batches[half - 1]!.toSeq;
    const replica = await Replica.open(db.pool, { risk: true });
    expect(replica.seq).toBe(firstEnd);
    expect((await replica.follow()).applied).toBe(0);

    await writeBatches(db, stream.batches.slice(half));
    const end = stream.engine.lastSeq;
    // follow(upTo) stops early; follow() goes to the watermark.
    expect((await replica.follow(firstEnd + 100)).seq).toBe(firstEnd + 100);
    const r = await replica.follow();
    expect(r).toMatchObject({ seq: end, watermark: end, applied: end - firstEnd - 100 });

    const cp = await replica.checkpoint();
    expect(cp).toMatchObject({ seq: end, hash: stream.engine.stateHash() });
    const snap = await replica.snapshot(3);
    expect(snap).toMatchObject({ seq: end, hash: cp.hash });
    expect(snap.storedBytes).toBeGreaterThan(0);

    // A restart loads it without hashing it again (the replica recorded the proof) and replays nothing.
    const restarted = await recover({ pool: db.pool });
    expect(restarted).toMatchObject({ seq: end, snapshotSeq: end, replayed: 0, snapshotVerified: false });
    expect(restarted.engine.stateHash()).toBe(stream.engine.stateHash());
  });

  test('on its own thread: checkpoints and snapshots on schedule as batches land, all verified by a replay', async () => {
    const fresh = await createTestDatabase('exch_replica_thread');
    try {
      const messages: ReplicaMessage[] = [];
      await writeBatches(fresh, stream.batches.slice(0, 10));
      const host = startReplica({
        databaseUrl: fresh.url,
        risk: true,
        pollMs: 20,
        schedule: { checkpointEveryCommands: 200, checkpointEveryMs: 200, snapshotEveryCommands: 700 },
        onMessage: (m) => messages.push(m),
      });
      await until(() => messages.some((m) => m.type === 'ready'), 30_000);
      for (let i = 10; i < stream.batches.length; i += 10) {
        await writeBatches(fresh, stream.batches.slice(i, i + 10));
      }
      const end = stream.engine.lastSeq;
      // The time rule (200 ms) checkpoints the end of the journal, wherever the command count left off.
      await until(
        () => messages.some((m) => (m.type === 'checkpoint' || m.type === 'snapshot') && m.seq === end),
        30_000,
      );
      // A snapshot on request, at the replica's seq, though none is due.
      const snapshotsAtEnd = () => messages.filter((m) => m.type === 'snapshot' && m.seq === end).length;
      const before = snapshotsAtEnd();
      host.snapshotNow();
      await until(() => snapshotsAtEnd() > before, 30_000);
      await host.stop();
      expect(messages.filter((m) => m.type === 'error')).toEqual([]);
      expect(host.status).toMatchObject({
        seq: end,
        lastSnapshotSeq: end,
        lastCheckpointSeq: end,
        failures: 0,
      });
      expect(messages.at(-1)?.type).toBe('stopped');

      const checkpoints = messages.filter((m) => m.type === 'checkpoint');
      const snapshots = messages.filter((m) => m.type === 'snapshot');
      expect(checkpoints.length).toBeGreaterThanOrEqual(3);
      expect(snapshots.length).toBeGreaterThanOrEqual(1);
      const rows = await fresh.pool.anyFirst(sql.unsafe`SELECT seq FROM state_hashes ORDER BY seq`);
      for (const m of [...checkpoints, ...snapshots]) expect(rows.map(Number)).toContain(m.seq);

      // From scratch, every hash the replica recorded is checked against the replay, and all hold.
      const replayed = await recover({ pool: fresh.pool, snapshot: 'none' });
      expect(replayed.hashesChecked).toBe(rows.length);
      expect(replayed.engine.stateHash()).toBe(stream.engine.stateHash());
      // From its newest snapshot, too.
      const fromSnapshot = await recover({ pool: fresh.pool });
      expect(fromSnapshot.snapshotSeq).toBe(snapshots.at(-1)!.seq);
      expect(fromSnapshot.engine.stateHash()).toBe(stream.engine.stateHash());
    } finally {
      await fresh.drop();
    }
  });

  test('opens and follows while batches land out of order (rows above the watermark are not an error)', async () => {
    const fresh = await createTestDatabase('exch_replica_gap');
    try {
      // Batch 3 is late: 4 and 5 are committed, the watermark stops at batch 2's end.
      const [b0, b1, b2, b3, b4, ...rest] = stream.batches;
      await writeBatches(fresh, [b0!, b1!, b2!, b4!]);
      const replica = await Replica.open(fresh.pool, { risk: true });
      expect(replica.seq).toBe(b2!.toSeq);
      expect((await replica.follow()).seq).toBe(b2!.toSeq);
      await writeBatches(fresh, [b3!, ...rest]);
      expect((await replica.follow()).seq).toBe(stream.engine.lastSeq);
      expect((await replica.checkpoint()).hash).toBe(stream.engine.stateHash());
    } finally {
      await fresh.drop();
    }
  });

  test('schedule: a snapshot (which includes a checkpoint) wins; nothing is due without new commands', () => {
    const s = { ...DEFAULT_REPLICA_SCHEDULE, checkpointEveryCommands: 10, snapshotEveryCommands: 100 };
    const last = { checkpointSeq: 50, checkpointAt: 0, snapshotSeq: 50, snapshotAt: 0 };
    expect(due(s, 50, 10 ** 9, last)).toBeNull();
    expect(due(s, 59, 1, last)).toBeNull();
    expect(due(s, 60, 1, last)).toBe('checkpoint');
    expect(due(s, 150, 1, last)).toBe('snapshot');
    expect(due(s, 51, s.checkpointEveryMs, last)).toBe('checkpoint');
    expect(due(s, 51, s.snapshotEveryMs, last)).toBe('snapshot');
  });
});
