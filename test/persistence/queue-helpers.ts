import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { DatabasePool } from 'slonik';
import { readWatermark } from '../../persistence/watermark.js';
import { PersistenceWorker, type PersistenceWorkerOptions } from '../../persistence/worker.js';
import { type BatchJobData, encodeBatch, encodeFormat2 } from '../../src/pipeline/codec.js';
import type { Batch } from '../../src/pipeline/types.js';
import { REDIS_URL, uniqueName } from './helpers.js';
import { seal } from './sealed.js';

const verbose = process.env.TEST_VERBOSE === '1';
export const quietLog = {
  info() {},
  warn: (o: object, m?: string) => verbose && console.warn(m, o),
  error: (o: object, m?: string) => verbose && console.error(m, o),
};

/** Fast retries and stall detection, so failure tests take seconds. */
export const TEST_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 100 },
  removeOnComplete: { count: 1000 },
  removeOnFail: false,
};

/** A queue name of the test's own, its Redis connections, and cleanup of exactly what it created. */
export class TestQueue {
  readonly name = uniqueName('exch-q');
  private readonly connections: Redis[] = [];
  private readonly workers: PersistenceWorker[] = [];
  readonly queue: Queue<BatchJobData>;

  constructor() {
    this.queue = new Queue<BatchJobData>(this.name, { connection: this.connection() });
  }

  connection(): Redis {
    const r = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    this.connections.push(r);
    return r;
  }

  worker(databaseUrl: string, options: Partial<PersistenceWorkerOptions> = {}): PersistenceWorker {
    const w = new PersistenceWorker({
      databaseUrl,
      connection: this.connection(),
      queueName: this.name,
      concurrency: 8,
      writers: 2,
      lockDuration: 3000,
      stalledInterval: 1000,
      watermarkIntervalMs: 200,
      writeTimeoutMs: 15_000,
      log: quietLog,
      ...options,
    });
    this.workers.push(w);
    return w;
  }

  /**
   * Adds the batches as the output batcher does (codec.ts; their events kept whole in the records, see
   * sealed.ts); `format: 1` or `2` as earlier versions did.
   */
  async add(batches: readonly Batch[], suffix = '', format: 1 | 2 | 3 = 3): Promise<void> {
    for (const b of batches) {
      const data = format === 1 ? b : format === 2 ? encodeFormat2(b) : encodeBatch(seal(b));
      await this.queue.add('batch', data, {
        ...TEST_JOB_OPTIONS,
        jobId: `b-${b.fromSeq}-${b.toSeq}${suffix}`,
      });
    }
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
    await this.queue.obliterate({ force: true }).catch(() => {});
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}

/** Waits until everything up to `seq` is persisted with no gap. */
export async function waitForWatermark(pool: DatabasePool, seq: number, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await readWatermark(pool).catch(() => -1);
    if (w >= seq) return;
    if (Date.now() > deadline) throw new Error(`watermark ${w}, waited for ${seq}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
