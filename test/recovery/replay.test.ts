/**
 * Engine.replay: recovery applies journal commands without building their events. Property: an engine fed
 * a random stream partly through `replay` and partly through `apply` has, after every command, the state
 * hash of an engine fed everything through `apply`; where it applies, it emits the same events (so a replay
 * stretch leaves nothing half-done for the next command), and its final snapshot is byte-identical.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { snapshotEngine } from '../../engine/snapshot.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';

const TS0 = 1_760_000_000_000_000;

function stamp(engine: Engine, body: CommandBody): Command {
  const seq = engine.lastSeq + 1;
  return { ...body, seq, ts: TS0 + seq * 1000 } as Command;
}

describe('engine replay (no events built)', () => {
  test('mixed replay/apply matches apply alone: hashes, events, snapshots', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 2, max: 40 }),
        fc.boolean(),
        (seed, stretch, risk) => {
          const ref = new Engine({ risk });
          const mixed = new Engine({ risk });
          const gen = new FlowGenerator(seed, ref);
          const bodies = setupCommands();
          const n = bodies.length + 600;
          let replaying = false;
          for (let i = 0; i < n; i++) {
            const cmd = stamp(ref, i < bodies.length ? bodies[i] : gen.next());
            const expected: EngineEvent[] = [];
            ref.apply(cmd, expected);
            if (i % stretch === 0) replaying = !replaying;
            if (replaying) {
              mixed.replay(structuredClone(cmd));
            } else {
              const got: EngineEvent[] = [];
              mixed.apply(structuredClone(cmd), got);
              expect(got, `seq ${cmd.seq}: events after a replay stretch`).toEqual(expected);
            }
            if (cmd.type === 'checkpoint' || i === n - 1) {
              expect(mixed.stateHash(), `seq ${cmd.seq}: state hash`).toBe(ref.stateHash());
            }
          }
          expect(Buffer.from(snapshotEngine(mixed)).equals(Buffer.from(snapshotEngine(ref)))).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
  });

  test('a checkpoint replayed builds no hash event; the caller computes it', () => {
    const e = new Engine();
    e.replay({ type: 'checkpoint', seq: 1, ts: TS0 } as Command);
    expect(e.lastSeq).toBe(1);
    const out: EngineEvent[] = [];
    e.apply({ type: 'checkpoint', seq: 2, ts: TS0 + 1 } as Command, out);
    expect(out).toEqual([{ type: 'state_hash', seq: 2, ts: TS0 + 1, hash: e.stateHash() }]);
  });

  test('replay keeps the seq discipline', () => {
    const e = new Engine();
    expect(() => e.replay({ type: 'checkpoint', seq: 2, ts: TS0 } as Command)).toThrow(/expected seq 1/);
  });
});
