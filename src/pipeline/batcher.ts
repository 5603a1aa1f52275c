/**
 * The output batcher: groups the events of consecutive commands into one BullMQ job (group commit) and
 * releases each batch to clients only once its job is in Redis (output commit, ../../shared/design.md).
 *
 * - A batch closes after `maxDelayMs` (about a millisecond) or when it holds `maxEvents` events or
 *   `maxCommands` commands, whichever comes first. One job carrying many events is what makes BullMQ fast;
 *   one job per command would cost a Redis script per command. When no enqueue is in flight, the batch
 *   closes sooner, at the end of the event loop's turn: an idle server has nothing to group the command
 *   with, and waiting out the delay only adds it to the ack latency. Under load an enqueue is nearly
 *   always in flight, and the delay groups commands as before.
 * - The job id is `b-<fromSeq>-<toSeq>`: the same batch added twice (an enqueue retried after an ambiguous
 *   error) is one job while it exists. BullMQ refuses ids with ':' or made only of digits; this has neither.
 * - durable mode: batches are released strictly in seq order, each after its `queue.add` resolved.
 *   fast mode: released at once, before the enqueue. UNSAFE: a crash can lose batches whose acks and fills
 *   clients already hold. Benchmarks only.
 * - A failed enqueue is retried a few times with backoff; then the batcher is dead: listeners of `onFatal`
 *   hear it, nothing more is released, and `push` throws, so the server stops taking commands.
 * - The job data is the batch encoded by ./codec.ts (its durable records and the commands, with a format
 *   version), encoded once, when the batch is sealed.
 * - The open batch's events are records in `log` (the sequencer applies each command into it); a sealed
 *   batch's log returns to a pool once the batch is released (sealed.ts).
 * - The producer connection has the offline queue disabled: with Redis gone, `add` fails at once instead of
 *   buffering in memory what the caller believes is durable.
 */
import { type JobsOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Command } from '../../engine/commands.js';
import type { EventLog } from '../../engine/event-log.js';
import { type BatchJobData, encodeBatch } from './codec.js';
import { ensureNoEviction } from './redis-check.js';
import { LogPool, Sealed } from './sealed.js';
import type { CommitMode, OutputBatcher, SealedBatch } from './types.js';

export interface BullBatcherOptions {
  mode: CommitMode;
  queue: Queue<BatchJobData>;
  /** ms a batch stays open for more commands. Default 1. */
  maxDelayMs?: number;
  /** Close a batch once it holds this many events. Default 5000. */
  maxEvents?: number;
  /** Close a batch once it holds this many commands. Default 2000. */
  maxCommands?: number;
  /** Tries per enqueue before giving up (fatal). Default 5. */
  enqueueAttempts?: number;
  /** ms before the first enqueue retry, doubled each time. Default 50. */
  enqueueBackoffMs?: number;
  /** Options of every job: retries of the worker (attempts, backoff) and retention. */
  jobOptions?: JobsOptions;
  log?: (level: 'info' | 'warn' | 'error', message: string, context?: object) => void;
}

/**
 * What the workers get by default: ten attempts with exponential backoff from 200 ms (about 3.5 minutes in
 * all, enough to ride out a PostgreSQL restart). Completed jobs are forgotten soon: the database has the
 * rows, a full batch is megabytes of Redis memory, and the job id only has to dedup an enqueue retried
 * within seconds. Failed jobs are kept for an operator, since they stop the workers.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: { count: 100, age: 300 },
  removeOnFail: false,
};

export function jobIdOf(batch: Pick<SealedBatch, 'fromSeq' | 'toSeq'>): string {
  return `b-${batch.fromSeq}-${batch.toSeq}`;
}

interface InFlight {
  batch: Sealed;
  added: boolean;
}

export class BullOutputBatcher implements OutputBatcher {
  readonly mode: CommitMode;
  private readonly queue: Queue<BatchJobData>;
  private readonly maxDelayMs: number;
  private readonly maxEvents: number;
  private readonly maxCommands: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly jobOptions: JobsOptions;
  private readonly logger: NonNullable<BullBatcherOptions['log']>;

  private commands: Command[] = [];
  private readonly logs = new LogPool();
  private open: EventLog = this.logs.take();
  private timer: NodeJS.Timeout | undefined;
  /** A close at the end of this turn, set when nothing is in flight (see the header). */
  private immediate: NodeJS.Immediate | undefined;
  /** Sealed batches not yet released, in seq order (durable mode). */
  private readonly inFlight: InFlight[] = [];
  private readonly enqueues = new Set<Promise<void>>();
  private readonly releaseListeners: ((batch: SealedBatch) => void)[] = [];
  private readonly fatalListeners: ((error: Error) => void)[] = [];
  private fatalError: Error | undefined;
  private released = 0;
  private warnedFast = false;

  constructor(options: BullBatcherOptions) {
    this.mode = options.mode;
    this.queue = options.queue;
    this.maxDelayMs = options.maxDelayMs ?? 1;
    this.maxEvents = options.maxEvents ?? 5000;
    this.maxCommands = options.maxCommands ?? 2000;
    this.attempts = options.enqueueAttempts ?? 5;
    this.backoffMs = options.enqueueBackoffMs ?? 50;
    this.jobOptions = { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions };
    this.logger = options.log ?? (() => {});
  }

  get releasedSeq(): number {
    return this.released;
  }

  /** After recovery: everything up to `seq` is already persisted, the next push is `seq + 1`. */
  setReleasedSeq(seq: number): void {
    this.released = seq;
  }

  /** Batches sealed but not yet released (durable) or not yet enqueued (fast): for backpressure. */
  get pending(): number {
    return this.mode === 'durable' ? this.inFlight.length : this.enqueues.size;
  }

  get log(): EventLog {
    if (this.fatalError) throw new Error(`output batcher stopped: ${this.fatalError.message}`);
    return this.open;
  }

  push(command: Command): void {
    if (this.fatalError) throw new Error(`output batcher stopped: ${this.fatalError.message}`);
    this.commands.push(command);
    if (this.open.count >= this.maxEvents || this.commands.length >= this.maxCommands) this.seal();
    else if (this.timer === undefined && this.immediate === undefined) {
      if (this.enqueues.size === 0) this.immediate = setImmediate(() => this.seal());
      else this.timer = setTimeout(() => this.seal(), this.maxDelayMs);
    }
  }

  onRelease(listener: (batch: SealedBatch) => void): void {
    this.releaseListeners.push(listener);
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  async flush(): Promise<void> {
    this.seal();
    while (this.enqueues.size > 0) await Promise.allSettled([...this.enqueues]);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    if (this.commands.length === 0 || this.fatalError) return;
    const batch = new Sealed(
      this.commands[0]!.seq,
      this.commands[this.commands.length - 1]!.seq,
      this.commands,
      this.open,
    );
    this.commands = [];
    this.open = this.logs.take();
    if (this.mode === 'fast') {
      if (!this.warnedFast) {
        this.warnedFast = true;
        this.logger(
          'warn',
          'output batcher in FAST mode: batches are released before they are durable (unsafe)',
        );
      }
      this.release(batch);
      this.track(this.enqueue(batch)); // encodes the batch before its first await
      this.logs.give(batch.retire());
      return;
    }
    const entry: InFlight = { batch, added: false };
    this.inFlight.push(entry);
    this.track(
      this.enqueue(batch).then(() => {
        entry.added = true;
        this.drain();
      }),
    );
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((error: unknown) => this.fatal(error as Error))
      .finally(() => this.enqueues.delete(tracked));
    this.enqueues.add(tracked);
  }

  /** Releases the leading batches whose jobs are in Redis, never one before an earlier one. */
  private drain(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.added && !this.fatalError) {
      const batch = this.inFlight.shift()!.batch;
      this.release(batch);
      this.logs.give(batch.retire());
    }
  }

  private release(batch: Sealed): void {
    this.released = batch.toSeq;
    for (const l of this.releaseListeners) l(batch);
  }

  private async enqueue(batch: Sealed): Promise<void> {
    const jobId = jobIdOf(batch);
    // Once, however many attempts, and before anything is awaited: the log is reused after release.
    const data = encodeBatch(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queue.add('batch', data, { ...this.jobOptions, jobId });
        return;
      } catch (error) {
        if (attempt >= this.attempts || this.fatalError) throw error;
        const delay = this.backoffMs * 2 ** (attempt - 1);
        this.logger('warn', 'output batcher: enqueue failed, retrying', {
          jobId,
          attempt,
          delay,
          error: String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private fatal(error: Error): void {
    if (this.fatalError) return;
    this.fatalError = error;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.logger('error', 'output batcher: a batch cannot be enqueued; stopping', { error: error.message });
    for (const l of this.fatalListeners) l(error);
  }
}

export interface CreateBatcherOptions extends Omit<BullBatcherOptions, 'queue'> {
  redisUrl: string;
  queueName: string;
  /** Set Redis's maxmemory-policy to noeviction instead of refusing to start. Default false. */
  fixEviction?: boolean;
}

/** A batcher with its own producer connection (offline queue off), after checking Redis's eviction policy. */
export async function createBullOutputBatcher(
  options: CreateBatcherOptions,
): Promise<{ batcher: BullOutputBatcher; close(): Promise<void> }> {
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 2 });
  // Connection errors surface as failed enqueues (retried, then fatal); this only keeps them visible.
  redis.on('error', (error) =>
    options.log?.('warn', 'output batcher: redis connection error', { error: error.message }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      redis.once('error', reject);
    });
    await ensureNoEviction(redis, {
      fix: options.fixEviction ?? false,
      log: (m) => options.log?.('warn', m),
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  const queue = new Queue<BatchJobData>(options.queueName, { connection: redis });
  const batcher = new BullOutputBatcher({ ...options, queue });
  return {
    batcher,
    async close() {
      await batcher.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
