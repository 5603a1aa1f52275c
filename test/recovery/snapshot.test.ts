/**
 * The snapshot codec: a restored engine is the original. Property: for random command streams and a random
 * cut point, snapshot the engine at the cut, restore it, feed the rest of the stream to both, and compare
 * every event, the state hash after every checkpoint and at the end, and the final snapshots byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { restoreEngine, snapshotEngine, snapshotInfo } from '../../engine/snapshot.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';

const TS0 = 1_750_000_000_000_000;

function stamp(engine: Engine, body: CommandBody): Command {
  const seq = engine.lastSeq + 1;
  return { ...body, seq, ts: TS0 + seq * 1000 } as Command;
}

/** Runs setup plus `n` generated commands; returns the engine and the commands it took. */
function drive(seed: number, n: number, risk = true): { engine: Engine; commands: Command[] } {
  const engine = new Engine({ risk });
  const commands: Command[] = [];
  const out: EngineEvent[] = [];
  for (const body of setupCommands()) {
    const cmd = stamp(engine, body);
    commands.push(cmd);
    engine.apply(cmd, out);
  }
  const gen = new FlowGenerator(seed, engine);
  for (let i = 0; i < n; i++) {
    const cmd = stamp(engine, gen.next());
    commands.push(cmd);
    out.length = 0;
    engine.apply(cmd, out);
  }
  return { engine, commands };
}

function replay(engine: Engine, commands: readonly Command[], from: number, to: number): EngineEvent[][] {
  const all: EngineEvent[][] = [];
  for (let i = from; i < to; i++) {
    const out: EngineEvent[] = [];
    engine.apply(commands[i], out);
    all.push(out);
  }
  return all;
}

describe('engine snapshot', () => {
  test('an empty engine round-trips', () => {
    const e = new Engine();
    const r = restoreEngine(snapshotEngine(e));
    expect(r.stateHash()).toBe(e.stateHash());
    expect(r.lastSeq).toBe(0);
  });

  test('a restored engine continues exactly like the original (random streams, random cut)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, f) => {
          const total = 1500;
          const { commands } = drive(seed, total);
          const cut = Math.floor(f * commands.length);
          // the original, replayed from scratch to the cut
          const original = new Engine();
          replay(original, commands, 0, cut);
          const bytes = snapshotEngine(original);
          expect(snapshotInfo(bytes).seq).toBe(cut);
          const restored = restoreEngine(bytes);
          expect(restored.stateHash()).toBe(original.stateHash());
          expect(restored.lastSeq).toBe(cut);
          const a = replay(original, commands, cut, commands.length);
          const b = replay(restored, commands, cut, commands.length);
          for (let i = 0; i < a.length; i++) {
            if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
              expect({ seq: cut + i + 1, events: b[i] }).toEqual({ seq: cut + i + 1, events: a[i] });
            }
          }
          expect(restored.stateHash()).toBe(original.stateHash());
          expect(Buffer.from(snapshotEngine(restored)).equals(Buffer.from(snapshotEngine(original)))).toBe(
            true,
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  test('the stream exercises what a snapshot must carry', () => {
    const { engine, commands } = drive(7, 3000);
    const types = new Set(commands.map((c) => c.type));
    expect(types.size).toBeGreaterThanOrEqual(15);
    const risk = engine.risk!;
    let stops = 0;
    let levels = 0;
    for (const m of engine.markets.values()) {
      stops += m.stops.size;
      levels += m.book.bids.levels.length + m.book.asks.levels.length;
    }
    expect(engine.orders.size).toBeGreaterThan(30);
    expect(levels).toBeGreaterThan(10);
    expect(stops).toBeGreaterThan(0);
    expect(engine.dayOrders.size + engine.owners.size).toBeGreaterThan(0);
    expect([...risk.accounts.values()].some((a) => a.positions.size > 0)).toBe(true);
    expect(risk.totals.size).toBeGreaterThan(0);
    const restored = restoreEngine(snapshotEngine(engine));
    expect(restored.stateHash()).toBe(engine.stateHash());
  });

  test('without the risk core too', () => {
    const engine = new Engine({ risk: false });
    const out: EngineEvent[] = [];
    const { commands } = drive(11, 800);
    // the same orders on a pure matching engine (account commands are refused, orders still rest and trade)
    for (const c of commands) {
      out.length = 0;
      engine.apply(c, out);
    }
    const r = restoreEngine(snapshotEngine(engine));
    expect(r.risk).toBeNull();
    expect(r.stateHash()).toBe(engine.stateHash());
    expect(() => restoreEngine(snapshotEngine(engine), { risk: true })).toThrow(/risk/);
  });

  test('a truncated or foreign snapshot is refused', () => {
    const { engine } = drive(3, 300);
    const bytes = snapshotEngine(engine);
    expect(() => restoreEngine(bytes.subarray(0, bytes.length - 3))).toThrow();
    expect(() => restoreEngine(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/snapshot/);
  });
});
