/**
 * What both output batchers share: the sealed batch they release, and the pool of event logs they reuse.
 *
 * A batch's events are the engine's records (engine/event-log.ts), appended to the log the batcher holds
 * open. Sealing hands that log to the batch and opens another; once the batch is released (and its job
 * encoded) the log goes back to the pool, so the records of a busy server live in a few large, long-lived
 * arrays instead of millions of short-lived objects.
 */
import type { Command } from '../../engine/commands.js';
import { EventLog } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';
import type { SealedBatch } from './types.js';

export class Sealed implements SealedBatch {
  private decoded: EngineEvent[] | null = null;
  private current: EventLog | null;

  constructor(
    readonly fromSeq: number,
    readonly toSeq: number,
    readonly commands: Command[],
    log: EventLog,
  ) {
    this.current = log;
  }

  get log(): EventLog {
    if (this.current === null) throw new RetiredBatchError(this);
    return this.current;
  }

  get events(): EngineEvent[] {
    if (this.decoded === null) this.decoded = this.log.toEvents();
    return this.decoded;
  }

  /** Gives up the log (to the pool): from now on only events already decoded can be read. */
  retire(): EventLog | null {
    const log = this.current;
    this.current = null;
    return log;
  }
}

export class RetiredBatchError extends Error {
  constructor(batch: Sealed) {
    super(
      `batch ${batch.fromSeq}-${batch.toSeq} was released and its log reused: ` +
        'read `events` in the release listener to keep them',
    );
  }
}

/** Logs kept for reuse at most, and the largest kept (words): a rare giant batch is left to the collector. */
const MAX_SPARE_LOGS = 8;
const MAX_SPARE_WORDS = 1 << 21;

export class LogPool {
  private readonly spare: EventLog[] = [];

  take(): EventLog {
    return this.spare.pop() ?? new EventLog(1 << 16);
  }

  give(log: EventLog | null): void {
    if (log === null || this.spare.length >= MAX_SPARE_LOGS || log.f.length > MAX_SPARE_WORDS) return;
    log.clear();
    this.spare.push(log);
  }
}
