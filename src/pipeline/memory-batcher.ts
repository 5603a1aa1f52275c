/**
 * An in-memory OutputBatcher: groups what the sequencer pushes during one turn of the event loop into a
 * batch and releases it on the next turn (setImmediate), without persisting anything. For tests, and for
 * benchmarking the gateway alone; the product uses the BullMQ batcher (batcher.ts).
 *
 * `mode` is reported as given, but nothing here is durable: with this batcher `durable` only means the
 * release happens asynchronously, as it would after an enqueue.
 */
import type { Command } from '../../engine/commands.js';
import type { EventLog } from '../../engine/event-log.js';
import { LogPool, Sealed } from './sealed.js';
import type { Batch, CommitMode, OutputBatcher, SealedBatch } from './types.js';

export interface MemoryBatcherOptions {
  mode?: CommitMode;
  /** Release early when a batch holds this many commands. */
  maxCommands?: number;
  /** Keep released batches, their events decoded (tests read them back). */
  keep?: boolean;
  /** false: hold every batch until flush() (tests of what clients see before output commit). Default true. */
  autoRelease?: boolean;
}

export class MemoryBatcher implements OutputBatcher {
  readonly mode: CommitMode;
  private commands: Command[] = [];
  private readonly logs = new LogPool();
  private open: EventLog = this.logs.take();
  private releaseListeners: ((batch: SealedBatch) => void)[] = [];
  private fatalListeners: ((error: Error) => void)[] = [];
  private scheduled = false;
  private _releasedSeq = 0;
  private readonly maxCommands: number;
  readonly kept: Batch[] = [];
  private readonly keep: boolean;
  /** false: batches wait for flush() (tests of output commit). */
  autoRelease: boolean;
  private dead = false;

  constructor(options: MemoryBatcherOptions = {}) {
    this.mode = options.mode ?? 'fast';
    this.maxCommands = options.maxCommands ?? 4096;
    this.keep = options.keep ?? false;
    this.autoRelease = options.autoRelease ?? true;
  }

  get releasedSeq(): number {
    return this._releasedSeq;
  }

  /** Start after recovery: the first pushed command must be `seq + 1`. */
  setReleasedSeq(seq: number): void {
    this._releasedSeq = seq;
  }

  get log(): EventLog {
    if (this.dead) throw new Error('output batcher stopped');
    return this.open;
  }

  push(command: Command): void {
    if (this.dead) throw new Error('output batcher stopped');
    this.commands.push(command);
    if (!this.autoRelease) return;
    if (this.commands.length >= this.maxCommands) this.release();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.release());
    }
  }

  onRelease(listener: (batch: SealedBatch) => void): void {
    this.releaseListeners.push(listener);
  }

  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  /** Test hook: behave as if the queue had failed for good (what is pending is never released). */
  fail(error: Error): void {
    this.dead = true;
    this.commands = [];
    this.open.clear();
    for (const l of this.fatalListeners) l(error);
  }

  async flush(): Promise<void> {
    if (!this.dead) this.release();
  }

  async close(): Promise<void> {
    if (!this.dead) this.release();
  }

  private release(): void {
    this.scheduled = false;
    if (this.commands.length === 0) return;
    const batch = new Sealed(
      this.commands[0]!.seq,
      this.commands[this.commands.length - 1]!.seq,
      this.commands,
      this.open,
    );
    this.commands = [];
    this.open = this.logs.take();
    this._releasedSeq = batch.toSeq;
    if (this.keep) {
      const { fromSeq, toSeq, commands, events } = batch;
      this.kept.push({ fromSeq, toSeq, commands, events });
    }
    try {
      for (const l of this.releaseListeners) l(batch);
    } finally {
      this.logs.give(batch.retire());
    }
  }
}
