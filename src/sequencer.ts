/**
 * The sequencer: the one place commands get their order. It stamps each command with the next seq (gap-free)
 * and a timestamp (microseconds, from the clock: the engine has none), applies it to the engine, and hands
 * the command and its events to the output batcher. Nobody sees the events yet: the gateway answers only
 * from released batches (output commit).
 */

import type { EngineApi } from '../engine/api.js';
import type { Command, CommandBody } from '../engine/commands.js';
import type { EngineEvent } from '../engine/events.js';
import type { OutputBatcher, SealedBatch } from './pipeline/types.js';

/** Microseconds since the Unix epoch; never goes backwards within a process, so ts is monotonic with seq. */
export interface Clock {
  nowMicros(): number;
}

export class SystemClock implements Clock {
  private last = 0;
  private readonly origin = performance.timeOrigin * 1000;
  nowMicros(): number {
    const t = Math.floor(this.origin + performance.now() * 1000);
    if (t > this.last) this.last = t;
    return this.last;
  }
}

export interface Sequenced {
  seq: number;
  ts: number;
}

/** A command sequenced with its events read back at once (cold callers: operators, checkpoints). */
export interface SequencedWithEvents extends Sequenced {
  events: EngineEvent[];
}

export class SequencerClosedError extends Error {
  constructor(reason: string) {
    super(`sequencer closed: ${reason}`);
  }
}

export class Sequencer {
  private closedReason: string | null = null;
  /**
   * The persistence workers' watermark as last read from the database (persistence/watermark.ts), set by
   * whoever polls it; -1 while unknown (no database, or not read yet). Released commands above it wait in
   * Redis: load shedding bounds that (gateway/admission.ts).
   */
  persistedSeq = -1;

  /** Released commands the workers have not written yet; -1 while the watermark is unknown. */
  get persistLag(): number {
    return this.persistedSeq < 0 ? -1 : this.batcher.releasedSeq - this.persistedSeq;
  }
  private readonly waiters: { seq: number; resolve: () => void }[] = [];

  constructor(
    readonly engine: EngineApi,
    readonly batcher: OutputBatcher,
    private readonly clock: Clock = new SystemClock(),
  ) {
    batcher.onRelease((batch) => this.released(batch));
  }

  get lastSeq(): number {
    return this.engine.lastSeq;
  }

  get releasedSeq(): number {
    return this.batcher.releasedSeq;
  }

  get accepting(): boolean {
    return this.closedReason === null;
  }

  /** Stops taking commands (shutdown, or the batcher cannot enqueue any more). */
  close(reason: string): void {
    if (this.closedReason === null) this.closedReason = reason;
  }

  /**
   * Stamps, applies and hands over one command. Synchronous: the engine is single-threaded and so is this.
   * Throws SequencerClosedError after close().
   */
  submit(body: CommandBody): Sequenced {
    const cmd = this.stamp(body);
    this.engine.applyInto(cmd, this.batcher.log);
    this.batcher.push(cmd);
    return cmd; // stamped, it is its own Sequenced: nothing more to allocate per command
  }

  /**
   * `submit`, returning the command's events too. They are decoded before the batcher takes the command:
   * a push may seal and release the batch, and a released batch's log is reused.
   */
  submitAndRead(body: CommandBody): SequencedWithEvents {
    const cmd = this.stamp(body);
    const log = this.batcher.log;
    const from = log.n;
    this.engine.applyInto(cmd, log);
    const events = log.toEvents([], from);
    this.batcher.push(cmd);
    return { seq: cmd.seq, ts: cmd.ts, events };
  }

  /** The command with the next seq and the clock's time. Throws SequencerClosedError after close(). */
  private stamp(body: CommandBody): Command {
    if (this.closedReason !== null) throw new SequencerClosedError(this.closedReason);
    const cmd = body as Command;
    cmd.seq = this.engine.lastSeq + 1;
    cmd.ts = this.clock.nowMicros();
    return cmd;
  }

  /** Resolves once every command up to `seq` has been released (already released: at once). */
  whenReleased(seq: number): Promise<void> {
    if (seq <= this.batcher.releasedSeq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  private released(batch: SealedBatch): void {
    if (this.waiters.length === 0) return;
    let keep = 0;
    for (const w of this.waiters) {
      if (w.seq <= batch.toSeq) w.resolve();
      else this.waiters[keep++] = w;
    }
    this.waiters.length = keep;
  }
}
