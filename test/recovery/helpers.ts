/**
 * Shared set-up for the recovery tests: a generated command stream applied to a live engine and cut into
 * batches exactly as the output batcher would, written through the real BatchWriter.
 */
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { BatchWriter } from '../../persistence/writer.js';
import type { Batch } from '../../src/pipeline/types.js';
import type { TestDatabase } from '../persistence/helpers.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';

export const TS0 = 1_750_000_000_000_000;

export interface Stream {
  engine: Engine;
  batches: Batch[];
  /** Called after each command with the live engine (e.g. to snapshot it mid-stream). */
}

/** Setup plus `n` generated commands (a checkpoint every `checkpointEvery`), cut into batches of `batchSize`. */
export function generateStream(
  seed: number,
  n: number,
  options: { batchSize?: number; checkpointEvery?: number; at?: (engine: Engine) => void } = {},
): Stream {
  const engine = new Engine();
  const batchSize = options.batchSize ?? 40;
  const batches: Batch[] = [];
  let commands: Command[] = [];
  let events: EngineEvent[] = [];
  const apply = (body: CommandBody) => {
    const seq = engine.lastSeq + 1;
    const cmd = { ...body, seq, ts: TS0 + seq * 1000 } as Command;
    const out: EngineEvent[] = [];
    engine.apply(cmd, out);
    commands.push(cmd);
    events.push(...out);
    if (commands.length >= batchSize) {
      batches.push({ fromSeq: commands[0].seq, toSeq: seq, commands, events });
      commands = [];
      events = [];
    }
    options.at?.(engine);
  };
  for (const body of setupCommands()) apply(body);
  const gen = new FlowGenerator(seed, engine);
  const every = options.checkpointEvery ?? 100;
  for (let i = 1; i <= n; i++) apply(i % every === 0 ? { type: 'checkpoint' } : gen.next());
  apply({ type: 'checkpoint' });
  if (commands.length > 0)
    batches.push({ fromSeq: commands[0].seq, toSeq: engine.lastSeq, commands, events });
  return { engine, batches };
}

/** Writes batches through the real writer (in order unless told otherwise). */
export async function writeBatches(db: TestDatabase, batches: readonly Batch[]): Promise<void> {
  const writer = new BatchWriter(db.pool);
  for (const b of batches) await writer.write(b);
}
