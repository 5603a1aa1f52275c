/**
 * The contract between the sequencer (which applies commands to the engine) and the output batcher
 * (which makes their results durable before anyone sees them). See ../shared/design.md, "Output commit".
 */
import type { Command } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';

/** One BullMQ job's payload: the commands with seq in [fromSeq, toSeq] and every event they caused. */
export interface Batch {
  fromSeq: number;
  toSeq: number;
  commands: Command[];
  events: EngineEvent[];
}

/**
 * durable: a batch's events are released to clients only after its job is in Redis (output commit).
 * fast: released at once, before the enqueue. Unsafe: a crash can lose acks clients already hold.
 * Benchmarks only.
 */
export type CommitMode = 'durable' | 'fast';

export interface OutputBatcher {
  readonly mode: CommitMode;
  /** Hands over one applied command and its events (the array is the batcher's from now on). */
  push(command: Command, events: EngineEvent[]): void;
  /** Called once per batch, in seq order, when it may be released to clients. */
  onRelease(listener: (batch: Batch) => void): void;
  /** Called when a batch cannot be enqueued after retries: the server must stop accepting commands. */
  onFatal(listener: (error: Error) => void): void;
  /** Enqueues whatever is pending and resolves when every pushed command has been released. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Highest seq released so far. */
  readonly releasedSeq: number;
}
