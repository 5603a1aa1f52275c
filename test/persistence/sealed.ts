/**
 * Batches as the output batcher seals them (src/pipeline/sealed.ts), for tests: from a real engine's records
 * (sealedFlow), or from events given as objects (seal: each kept whole in the log, as a hand-made stream has
 * no engine to write records), and pushing object events into a batcher as the sequencer pushes records.
 */
import type { Command, CommandBody } from '../../engine/commands.js';
import { EventLog } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import { Sealed } from '../../src/pipeline/sealed.js';
import type { Batch, OutputBatcher } from '../../src/pipeline/types.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';

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

const SEED = 20261125;
const TRADERS = 40;

/**
 * The recovery tests' seeded flow (risk core on) through a real engine, its records cut into batches of
 * `sizes` commands (cycled), as the server's output batcher would seal them.
 */
export function sealedFlow(commands: number, sizes: readonly number[]): Sealed[] {
  const engine = new Engine();
  const out: Sealed[] = [];
  let batch: Command[] = [];
  let log = new EventLog();
  let seq = 0;
  let ts = 1_764_000_000_000_000; // microseconds: past 2^32, as every real ts
  const apply = (body: CommandBody) => {
    seq++;
    ts += 137;
    const command = { ...body, seq, ts } as Command;
    engine.applyInto(command, log);
    batch.push(command);
    if (batch.length >= sizes[out.length % sizes.length]!) {
      out.push(new Sealed(batch[0]!.seq, command.seq, batch, log));
      batch = [];
      log = new EventLog();
    }
  };
  for (const body of setupCommands(TRADERS)) apply(body);
  const gen = new FlowGenerator(SEED, engine, TRADERS + 2);
  while (seq < commands) apply(gen.next());
  if (batch.length > 0) out.push(new Sealed(batch[0]!.seq, seq, batch, log));
  return out;
}
