/**
 * The contract between the sequencer (which applies commands to the engine) and the output batcher
 * (which makes their results durable before anyone sees them). See ../shared/design.md, "Output commit".
 */
import type { Command } from '../../engine/commands.js';
import type { EventLog } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';

/**
 * A batch as a reader sees it: the commands with seq in [fromSeq, toSeq] and their events as objects. What a
 * job decodes to (codec.ts) and what the persistence workers write.
 */
export interface Batch {
  fromSeq: number;
  toSeq: number;
  commands: Command[];
  events: EngineEvent[];
}

/**
 * A batch as the producer seals and releases it: the events are the engine's records (engine/event-log.ts).
 * `log` is valid until the release listeners have returned (the batcher then reuses it); `events` decodes
 * it on first use, and that array may be kept.
 */
export interface SealedBatch {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly commands: Command[];
  readonly log: EventLog;
  readonly events: EngineEvent[];
}

/**
 * durable: a batch's events are released to clients only after its job is in Redis (output commit).
 * fast: released at once, before the enqueue. Unsafe: a crash can lose acks clients already hold.
 * Benchmarks only.
 */
export type CommitMode = 'durable' | 'fast';

export interface OutputBatcher {
  readonly mode: CommitMode;
  /** The open batch's log: the next command's events are appended here (Engine.applyInto), then `push`. */
  readonly log: EventLog;
  /** Hands over one applied command, whose events are the newest records of `log`. */
  push(command: Command): void;
  /** Called once per batch, in seq order, when it may be released to clients. */
  onRelease(listener: (batch: SealedBatch) => void): void;
  /** Called when a batch cannot be enqueued after retries: the server must stop accepting commands. */
  onFatal(listener: (error: Error) => void): void;
  /** Enqueues whatever is pending and resolves when every pushed command has been released. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Highest seq released so far. */
  readonly releasedSeq: number;
}
