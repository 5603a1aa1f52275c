/**
 * Batches as the output batcher seals them (src/pipeline/sealed.ts), for tests: from a real engine's records
 * (sealedFlow), or from events given as objects (seal: each kept whole in the log, as a hand-made stream has
 * no engine to write records), and pushing object events into a batcher as the sequencer pushes records.
 */
import type { Command } from '../../engine/commands.js';
import { EventLog } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';
import { Sealed } from '../../src/pipeline/sealed.js';
import type { Batch, OutputBatcher } from '../../src/pipeline/types.js';
import { runFlow } from './flow-batches.js';

/** A batch whose events are object records. */
export function seal(batch: Batch): Sealed {
  const log = new EventLog();
  for (const e of batch.events) log.object(e);
  return new Sealed(batch.fromSeq, batch.toSeq, batch.commands, log);
}

/** Hands one command and its events (as objects) to a batcher. */
export function pushEvents(batcher: OutputBatcher, command: Command, events: readonly EngineEvent[]): void {
  const log = batcher.log;
  for (const e of events) log.object(e);
  batcher.push(command);
}

/**
 * The recovery tests' seeded flow (risk core on) through a real engine, its records cut into batches of
 * `sizes` commands (cycled), as the server's output batcher would seal them.
 */
export function sealedFlow(commands: number, sizes: readonly number[]): Sealed[] {
  const out: Sealed[] = [];
  let batch: Command[] = [];
  let log = new EventLog();
  runFlow(commands, (engine, command) => {
    engine.applyInto(command, log);
    batch.push(command);
    if (batch.length >= sizes[out.length % sizes.length]!) {
      out.push(new Sealed(batch[0]!.seq, command.seq, batch, log));
      batch = [];
      log = new EventLog();
    }
  });
  if (batch.length > 0) out.push(new Sealed(batch[0]!.seq, batch.at(-1)!.seq, batch, log));
  return out;
}
