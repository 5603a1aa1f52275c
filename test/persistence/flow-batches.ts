/**
 * Realistic batches for pipeline tests: the recovery tests' seeded flow (marks, funding, liquidations,
 * stops, amends, refusals) through a real engine with the risk core on, cut into batches.
 */
import type { Command, CommandBody } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import type { Batch } from '../../src/pipeline/types.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';

const SEED = 20261125;
const TRADERS = 40;

/**
 * The seeded flow of the recovery tests through a real engine (risk core on): each command stamped (ts
 * past 2^32 microseconds, as every real ts) and handed to `apply`, which applies it to `engine` as it likes.
 */
export function runFlow(commands: number, apply: (engine: Engine, command: Command) => void): void {
  const engine = new Engine();
  let seq = 0;
  let ts = 1_764_000_000_000_000;
  const step = (body: CommandBody) => {
    seq++;
    ts += 137;
    apply(engine, { ...body, seq, ts } as Command);
  };
  for (const body of setupCommands(TRADERS)) step(body);
  const gen = new FlowGenerator(SEED, engine, TRADERS + 2);
  while (seq < commands) step(gen.next());
}

/** The seeded flow, as one step per command with its events. */
export function flow(commands: number): { command: Command; events: EngineEvent[] }[] {
  const steps: { command: Command; events: EngineEvent[] }[] = [];
  runFlow(commands, (engine, command) => {
    const events: EngineEvent[] = [];
    engine.apply(command, events);
    steps.push({ command, events });
  });
  return steps;
}

export function toBatches(steps: ReturnType<typeof flow>, sizes: readonly number[]): Batch[] {
  const out: Batch[] = [];
  for (let i = 0, k = 0; i < steps.length; k++) {
    const part = steps.slice(i, i + sizes[k % sizes.length]!);
    i += part.length;
    out.push({
      fromSeq: part[0]!.command.seq,
      toSeq: part[part.length - 1]!.command.seq,
      commands: part.map((s) => s.command),
      events: part.flatMap((s) => s.events),
    });
  }
  return out;
}
