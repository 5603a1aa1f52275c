/**
 * The whole pipeline against the real Redis and PostgreSQL: batcher -> BullMQ -> workers -> database, and
 * what happens when deliveries repeat, arrive out of order, a worker dies mid-job, PostgreSQL drops its
 * connections, or a batch can never be written.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'slonik';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { advanceWatermark } from '../../persistence/watermark.js';
import { BatchWriter } from '../../persistence/writer.js';
import { createBullOutputBatcher, jobIdOf } from '../../src/pipeline/batcher.js';
import type { Batch } from '../../src/pipeline/types.js';
import { dumpDatabase } from './dump.js';
import { expectReconciled } from './expect-reconciled.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './helpers.js';
import { TEST_JOB_OPTIONS, TestQueue, waitForWatermark } from './queue-helpers.js';
import { pushEvents } from './sealed.js';
import { rng, synthetic, toBatches } from './synthetic.js';

const flow = synthetic({ seed: 11, accounts: 20, fills: 600 });
const batches = toBatches(flow.steps, 13);
const lastSeq = flow.steps.length;

/** The reference: every batch written once, in order, by one writer. */
let reference: TestDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  reference = await createTestDatabase('exch_pipe_ref');
  const writer = new BatchWriter(reference.pool);
  for (const b of batches) await writer.write(b);
  await advanceWatermark(reference.pool);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  await reference?.drop();
});

async function fresh(prefix: string): Promise<{ db: TestDatabase; q: TestQueue }> {
  const db = await createTestDatabase(prefix);
  const q = new TestQueue();
  cleanups.push(
    () => db.drop(),
    () => q.dispose(),
  );
  return { db, q };
}

describe('pipeline', () => {
  it('durable batcher -> queue -> two workers: released in seq order, persisted exactly', async () => {
    const { db, q } = await fresh('exch_pipe_flow');
    const { batcher, close } = await createBullOutputBatcher({
      mode: 'durable',
      redisUrl: REDIS_URL,
      queueName: q.name,
      maxDelayMs: 1,
      maxEvents: 300,
      jobOptions: TEST_JOB_OPTIONS,
    });
    cleanups.push(close);
    const released: { fromSeq: number; toSeq: number }[] = [];
    batcher.onRelease(({ fromSeq, toSeq }) => released.push({ fromSeq, toSeq }));
    q.worker(db.url);
    q.worker(db.url);
    for (let i = 0; i < flow.steps.length; i++) {
      const s = flow.steps[i]!;
      pushEvents(batcher, s.command, s.events);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1)); // let time-based batches close
    }
    await batcher.flush();
    expect(batcher.releasedSeq).toBe(lastSeq);
    // Released contiguously, in order, each one a job named after its range.
    let next = 1;
    for (const b of released) {
      expect(b.fromSeq).toBe(next);
      next = b.toSeq + 1;
    }
    expect(next).toBe(lastSeq + 1);
    expect(released.length).toBeGreaterThan(5);
    expect(jobIdOf(released[0]!)).toMatch(/^b-1-\d+$/);
    await waitForWatermark(db.pool, lastSeq);
    await expectReconciled(db.pool, flow);
    await advanceWatermark(db.pool);
    expect(await dumpDatabase(db.pool)).toEqual(await dumpDatabase(reference.pool));
  });

  it('every job twice, in shuffled order, to two workers: the same database row for row', async () => {
    const { db, q } = await fresh('exch_pipe_dup');
    const rand = rng(5);
    const jobs = [...batches.map((b) => [b, ''] as const), ...batches.map((b) => [b, '-again'] as const)];
    jobs.sort(() => rand() - 0.5);
    for (const [b, suffix] of jobs) await q.add([b], suffix);
    q.worker(db.url);
    q.worker(db.url);
    await waitForWatermark(db.pool, lastSeq);
    // Both copies of every job have run (not merely the first of each).
    const deadline = Date.now() + 30_000;
    while ((await q.queue.getCompletedCount()) < jobs.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await q.queue.getCompletedCount()).toBe(jobs.length);
    await expectReconciled(db.pool, flow);
    await advanceWatermark(db.pool);
    expect(await dumpDatabase(db.pool)).toEqual(await dumpDatabase(reference.pool));
  });

  it('a worker killed (SIGKILL) in the middle of a job, its batch written but not acked: the job runs again, nothing lost or doubled', async () => {
    const { db, q } = await fresh('exch_pipe_kill');
    await q.add(batches);
    const child = spawn(
      process.execPath,
      [
        join(process.cwd(), 'node_modules/jiti/lib/jiti-cli.mjs'),
        join(import.meta.dirname, 'worker-child.ts'),
      ],
      {
        env: { ...process.env, DATABASE_URL: db.url, REDIS_URL, QUEUE_NAME: q.name, HANG_AFTER: 'trades' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    cleanups.push(async () => void child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('hanging') && resolve());
      child.once('exit', (code) => reject(new Error(`worker child exited early (${code})`)));
    });
    // The child has written its first batch but not told BullMQ: kill it there.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const survivor = q.worker(db.url);
    let stalled = 0;
    survivor.worker.on('stalled', () => stalled++);
    await waitForWatermark(db.pool, lastSeq);
    // The killed job's batch was already committed, so the watermark can get there first: wait for the job
    // itself to have run again (only the survivor can complete it) before checking nothing was doubled.
    const deadline = Date.now() + 30_000;
    while ((await q.queue.getCompletedCount()) < batches.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await q.queue.getCompletedCount()).toBe(batches.length);
    expect(stalled).toBeGreaterThanOrEqual(1);
    await expectReconciled(db.pool, flow);
    await advanceWatermark(db.pool);
    expect(await dumpDatabase(db.pool)).toEqual(await dumpDatabase(reference.pool));
  });

  it('PostgreSQL connections cut for seconds mid-flow: jobs retry, then the database reconciles', async () => {
    const { db, q } = await fresh('exch_pipe_cut');
    const w = q.worker(db.url, { poolOptions: { applicationName: 'exch-cut-victim' } });
    let retried = 0;
    w.worker.on('failed', () => retried++);
    const half = Math.floor(batches.length / 2);
    await q.add(batches.slice(0, half));
    // Keep killing every connection of the worker's pool for 3 s while the rest of the jobs arrive.
    const until = Date.now() + 3000;
    let cut = 0;
    const adding = q.add(batches.slice(half));
    while (Date.now() < until) {
      cut += Number(
        await db.pool.oneFirst(sql.unsafe`
          SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'exch-cut-victim' AND datname = current_database()
              -- Spares the short-lived connection slonik opens to read type oids when it creates a pool:
              -- it has no 'error' listener, so killing it crashes the process (a slonik limitation).
              AND query NOT LIKE '%FROM pg_type%') t`),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await adding;
    expect(cut).toBeGreaterThan(0);
    await waitForWatermark(db.pool, lastSeq);
    expect(retried).toBeGreaterThan(0);
    await expectReconciled(db.pool, flow);
    await advanceWatermark(db.pool);
    expect(await dumpDatabase(db.pool)).toEqual(await dumpDatabase(reference.pool));
  });

  it('a batch that can never be written stops the workers loudly and pauses the queue, no skipping', async () => {
    const { db, q } = await fresh('exch_pipe_fatal');
    await q.add(batches.slice(0, 3));
    const poison: Batch = structuredClone(batches[3]!);
    // A state no engine emits: the CHECK (filled + remaining + cancelled = quantity) refuses it every time.
    const orders = poison.events.filter((e) => e.type === 'order');
    expect(orders.length).toBeGreaterThan(0);
    for (const o of orders) (o as { filledQuantity: string }).filledQuantity = '123';
    await q.queue.add('batch', poison, { ...TEST_JOB_OPTIONS, attempts: 3, jobId: jobIdOf(poison) });
    await q.add(batches.slice(4, 8));
    // Several jobs at once: the poison batch shares a group with good ones, which must still commit.
    const w = q.worker(db.url, { concurrency: 8 });
    const fatal = await new Promise<Error>((resolve) => w.on('fatal', resolve));
    expect(fatal.message).toMatch(/failed 3 times/);
    expect(await q.queue.isPaused()).toBe(true);
    const failed = await q.queue.getFailed();
    expect(failed.map((j) => j.id)).toEqual([jobIdOf(poison)]);
    // The watermark stays below the poison batch, whatever ran after it.
    expect(await advanceWatermark(db.pool)).toBe(batches[2]!.toSeq);
  });
});
