/**
 * The persistence worker: a BullMQ Worker whose every job is one Batch (encoded by src/pipeline/codec.ts).
 * Jobs are taken several at a time and their batches written by a few statements (group commit,
 * group-commit.ts), each batch committed in exactly one transaction; a job completes once its batch is
 * committed.
 *
 * Failure policy. BullMQ delivers at least once and the writer is idempotent, so retrying is always safe.
 * A failed attempt (PostgreSQL down, a connection cut, a deadlock, a batch whose parent rows are not
 * committed yet) is retried with backoff, as the job's `attempts`/`backoff` say (the producer sets them, see
 * src/pipeline/batcher.ts). A job that fails its last attempt, or stalls more often than allowed, is never
 * skipped: the worker pauses the queue for every worker (unless told not to), closes, and emits `fatal`;
 * persistence/main.ts exits non-zero. The job stays in the failed set for an operator to retry, and the
 * watermark stays below it, so no gap forms silently.
 */
import { EventEmitter } from 'node:events';
import { type ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import type { DatabasePool } from 'slonik';
import { type BatchJobData, decodeBatch } from '../src/pipeline/codec.js';
import { createDatabasePool, type PoolOptions } from './db.js';
import { GroupCommitter } from './group-commit.js';
import { advanceWatermark } from './watermark.js';
import { BatchWriter } from './writer.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const consoleLogger: Logger = {
  info: () => {},
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};

export interface PersistenceWorkerOptions {
  databaseUrl: string;
  /** The worker's own pool; its size defaults to writers + 1. */
  poolOptions?: PoolOptions;
  /** A Redis connection for the worker (BullMQ duplicates it as needed): `maxRetriesPerRequest: null`. */
  connection: ConnectionOptions;
  queueName: string;
  /**
   * Jobs taken from the queue at once. Their batches are written by `writers` statements, grouped when
   * several wait (group-commit.ts), so this can be well above `writers`. Default 16.
   */
  concurrency?: number;
  /** Write statements in flight at once, each on its own database connection. Default 2. */
  writers?: number;
  /** ms without a lock renewal after which a job counts as stalled and is run again. Default 30 s. */
  lockDuration?: number;
  /** ms between checks for stalled jobs. Default 15 s. */
  stalledInterval?: number;
  /** Stalls (worker death mid-job) a job survives before it fails. Default 5. */
  maxStalledCount?: number;
  /** ms between watermark advances; 0 turns them off. Default 1000. */
  watermarkIntervalMs?: number;
  /**
   * ms a batch write may take before the attempt counts as failed and the pool is replaced. A connection
   * cut mid-query can leave slonik's promise unsettled forever; without this the job would hang, holding
   * its lock, and never be retried. Default 60 s.
   */
  writeTimeoutMs?: number;
  /** Pause the queue for every worker when a job fails for good. Default true. */
  pauseQueueOnFatal?: boolean;
  log?: Logger;
}

export interface PersistenceWorkerEvents {
  /** A batch committed (possibly in a group with others). */
  written: [range: { fromSeq: number; toSeq: number }, job: Job<BatchJobData>];
  /** The worker stopped because a job cannot be persisted; the process should exit non-zero. */
  fatal: [error: Error];
}

interface Database {
  pool: DatabasePool;
  writer: BatchWriter;
  committer: GroupCommitter;
}

class WriteTimeoutError extends Error {
  override readonly name = 'WriteTimeoutError';
}

export class PersistenceWorker extends EventEmitter<PersistenceWorkerEvents> {
  readonly worker: Worker<BatchJobData, { fromSeq: number; toSeq: number }>;
  private current: Promise<Database> | undefined;
  /** The pool `current` resolved to: a pool is replaced once, however many jobs notice it is stuck. */
  private currentPool: DatabasePool | undefined;
  private readonly pools = new Set<DatabasePool>();
  private readonly log: Logger;
  private watermarkTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: PersistenceWorkerOptions) {
    super();
    this.log = options.log ?? consoleLogger;
    this.worker = new Worker<BatchJobData, { fromSeq: number; toSeq: number }>(
      options.queueName,
      (job) => this.process(job),
      {
        connection: options.connection,
        concurrency: options.concurrency ?? 16,
        lockDuration: options.lockDuration ?? 30_000,
        stalledInterval: options.stalledInterval ?? 15_000,
        maxStalledCount: options.maxStalledCount ?? 5,
        autorun: true,
      },
    );
    this.worker.on('completed', (job, stats) => this.emit('written', stats, job));
    this.worker.on('failed', (job, error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      const context = { jobId: job.id, attempt: job.attemptsMade, attempts, error: error.message };
      if (job.attemptsMade >= attempts) {
        void this.fail(new Error(`batch job ${job.id} failed ${job.attemptsMade} times: ${error.message}`));
      } else {
        this.log.warn(context, 'persistence: batch failed, will retry');
      }
    });
    // A job that stalled too often is failed by BullMQ without a 'failed' event on this worker.
    this.worker.on('stalled', (jobId) => {
      this.log.warn(
        { jobId },
        'persistence: a batch job stalled (its worker died or blocked); it runs again',
      );
      void this.checkStalled(jobId);
    });
    this.worker.on('error', (error) => this.log.error({ error: error.message }, 'persistence: worker error'));
    const interval = options.watermarkIntervalMs ?? 1000;
    if (interval > 0) {
      this.watermarkTimer = setInterval(() => void this.advanceWatermark(), interval);
      this.watermarkTimer.unref();
    }
  }

  /** The pool and writer in use, created on first use and again after a wedge. */
  private async database(): Promise<Database> {
    if (!this.current) {
      const created = createDatabasePool(this.options.databaseUrl, {
        maximumPoolSize: this.poolSize(),
        ...this.options.poolOptions,
      }).then((pool) => {
        this.pools.add(pool);
        this.currentPool = pool;
        const writer = new BatchWriter(pool);
        const committer = new GroupCommitter((batches) => writer.writeGroup(batches), {
          parallel: this.options.writers ?? 2,
        });
        return { pool, writer, committer };
      });
      created.catch(() => {
        if (this.current === created) this.current = undefined;
      });
      this.current = created;
    }
    return this.current;
  }

  private poolSize(): number {
    return this.options.poolOptions?.maximumPoolSize ?? (this.options.writers ?? 2) + 1;
  }

  /** Drops a pool that stopped working; its connections are closed in the background. */
  private replacePool(pool: DatabasePool, why: string): void {
    if (this.currentPool !== pool) return; // already replaced
    this.current = undefined;
    this.currentPool = undefined;
    this.log.warn({ why }, 'persistence: replacing the database pool');
    // Jobs still running on it finish (or time out) first; then its connections are closed.
    const grace = setTimeout(() => {
      if (this.pools.delete(pool)) void pool.end().catch(() => {});
    }, this.options.writeTimeoutMs ?? 60_000);
    grace.unref();
  }

  private async process(job: Job<BatchJobData>): Promise<{ fromSeq: number; toSeq: number }> {
    // Either format (src/pipeline/codec.ts); a job it cannot read fails, is retried, then stops the worker.
    const batch = decodeBatch(job.data, job.id);
    const { pool, committer } = await this.database();
    const state = pool.state();
    if (state.pendingDestroyConnections >= this.poolSize() && state.waitingClients > 0) {
      this.replacePool(pool, 'every connection is stuck being destroyed');
      throw new Error('database pool wedged; replaced, retrying');
    }
    const timeoutMs = this.options.writeTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new WriteTimeoutError(`batch write took over ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const write = committer.submit(batch);
    write.catch(() => {}); // it may settle after the timeout: nobody listens any more
    try {
      await Promise.race([write, timeout]);
      return { fromSeq: batch.fromSeq, toSeq: batch.toSeq };
    } catch (error) {
      if (error instanceof WriteTimeoutError) this.replacePool(pool, error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The pool in use (for watermark reads and tests). */
  async pool(): Promise<DatabasePool> {
    return (await this.database()).pool;
  }

  private async checkStalled(jobId: string): Promise<void> {
    try {
      const job = await Job.fromId<BatchJobData>(this.worker, jobId);
      if (job && (await job.getState()) === 'failed') {
        await this.fail(
          new Error(`batch job ${jobId} stalled more than ${this.worker.opts.maxStalledCount} times`),
        );
      }
    } catch (error) {
      this.log.error({ jobId, error: (error as Error).message }, 'persistence: cannot check a stalled job');
    }
  }

  private async advanceWatermark(): Promise<void> {
    if (this.stopped) return;
    try {
      await advanceWatermark((await this.database()).pool);
    } catch (error) {
      // Only bookkeeping: the next tick tries again, and readWatermark() is always exact.
      this.log.warn({ error: (error as Error).message }, 'persistence: watermark not advanced');
    }
  }

  private async fail(error: Error): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.log.error({ error: error.message }, 'persistence: FATAL, a batch cannot be persisted; stopping');
    if (this.options.pauseQueueOnFatal ?? true) {
      const queue = new Queue(this.options.queueName, { connection: this.options.connection });
      try {
        await queue.pause();
      } catch (e) {
        this.log.error({ error: (e as Error).message }, 'persistence: could not pause the queue');
      } finally {
        await queue.close();
      }
    }
    await this.close();
    this.emit('fatal', error);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.watermarkTimer) clearInterval(this.watermarkTimer);
    await this.worker.close();
    const pools = [...this.pools];
    this.pools.clear();
    this.current = undefined;
    this.currentPool = undefined;
    // A wedged pool's end() can wait forever for connections that never finish dying.
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([Promise.all(pools.map((p) => p.end().catch(() => {}))), grace]);
  }
}
