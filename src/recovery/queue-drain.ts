/**
 * Before replaying, every batch the previous engine run enqueued must be in PostgreSQL: those batches were
 * released to clients (output commit), so their acks are out there, and the journal must hold them before
 * the watermark is read. This waits until the BullMQ queue holds no batch that is waiting, running,
 * delayed (a retry) or paused; optionally it runs a persistence worker in this process meanwhile, for
 * deployments where no worker process may be up yet.
 *
 * A failed batch job means a worker gave up on it (persistence/worker.ts pauses the queue then): the
 * watermark can never pass it, so recovery refuses to open and names its seq range.
 */
import { type ConnectionOptions, Queue } from 'bullmq';
import { PersistenceWorker } from '../../persistence/worker.js';
import { RecoveryError } from './errors.js';

export interface QueueDrainOptions {
  connection: ConnectionOptions;
  queueName: string;
  /** Give up (refuse to open) after this long. Default 5 minutes. */
  timeoutMs?: number;
  pollMs?: number;
  /** Persist the pending batches from this process too (idempotent alongside other workers). */
  selfDrain?: { databaseUrl: string; concurrency?: number };
  onProgress?: (pending: number) => void;
}

// A paused queue keeps its jobs in 'waiting' (BullMQ 5+); isPaused() tells the two apart.
const PENDING_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

function seqOfJobId(id: string | undefined): number {
  const m = /^b-(\d+)-(\d+)/.exec(id ?? '');
  return m ? Number(m[1]) : 0;
}

/** Resolves when the queue is empty of pending batches; returns how many were pending at first. */
export async function waitForQueueDrained(options: QueueDrainOptions): Promise<number> {
  const queue = new Queue(options.queueName, { connection: options.connection });
  let worker: PersistenceWorker | undefined;
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  try {
    let first: number | undefined;
    for (;;) {
      const counts = await queue.getJobCounts(...PENDING_STATES, 'failed');
      if ((counts.failed ?? 0) > 0) {
        const [job] = await queue.getJobs(['failed'], 0, 0, true);
        const seq = seqOfJobId(job?.id);
        throw new RecoveryError(
          'queue_failed',
          seq,
          `batch job ${job?.id ?? '?'} (from seq ${seq}) failed for good: fix the cause and retry it ` +
            `before the engine can open (${job?.failedReason ?? 'no reason recorded'})`,
        );
      }
      const pending = PENDING_STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
      first ??= pending;
      options.onProgress?.(pending);
      if (pending === 0) return first;
      if (await queue.isPaused()) {
        const [job] = await queue.getJobs(['waiting'], 0, 0, true);
        throw new RecoveryError(
          'queue_failed',
          seqOfJobId(job?.id),
          `the batch queue is paused with ${pending} batch(es) pending (a worker stopped on a batch it ` +
            'cannot persist); resume it once the cause is fixed',
        );
      }
      if (options.selfDrain !== undefined && worker === undefined) {
        worker = new PersistenceWorker({
          databaseUrl: options.selfDrain.databaseUrl,
          connection: options.connection,
          queueName: options.queueName,
          concurrency: options.selfDrain.concurrency ?? 2,
          watermarkIntervalMs: 0,
          log: { info() {}, warn() {}, error() {} },
        });
      }
      if (Date.now() > deadline) {
        throw new RecoveryError(
          'queue_timeout',
          0,
          `${pending} batch(es) still pending in queue ${options.queueName}: are the persistence workers running?`,
        );
      }
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  } finally {
    await worker?.close();
    await queue.close();
  }
}
