/**
 * Snapshots already stored (in PostgreSQL, from earlier builds) must keep restoring, and the writer must keep
 * writing the same bytes for the same state (snapshot VERSION 2). The fixtures were written by the build
 * before the codec's writer and reader were rewritten for speed; if the layout ever changes on purpose, bump
 * VERSION, keep a reader for the old one, and add fixtures for the new one beside these (never regenerate
 * these). SNAPSHOT_GOLDEN_WRITE=1 writes missing fixtures only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { restoreEngine, snapshotEngine, snapshotInfo } from '../../engine/snapshot.js';
import { FlowGenerator, PERP, setupCommands } from '../support/gen.js';

const TS0 = 1_750_000_000_000_000;
const DIR = join(import.meta.dirname, 'fixtures');

function drive(seed: number, n: number, risk: boolean): Engine {
  const engine = new Engine({ risk });
  const out: EngineEvent[] = [];
  const apply = (body: CommandBody): void => {
    const seq = engine.lastSeq + 1;
    out.length = 0;
    engine.apply({ ...body, seq, ts: TS0 + seq * 1000 } as Command, out);
  };
  for (const body of setupCommands()) apply(body);
  const gen = new FlowGenerator(seed, engine);
  for (let i = 0; i < n; i++) apply(gen.next());
  // a few values the generator does not produce: long client ids, and large quantities and prices
  const accountId = [...engine.owners.keys()][0] ?? 1;
  for (let i = 0; i < 4; i++) {
    apply({
      type: 'place_order',
      accountId,
      symbol: PERP,
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      price: String(5 + i * 5),
      quantity: i % 2 === 0 ? '0.001' : '12345.678',
      clientOrderId: `${'g'.repeat(60)}-${i}`.slice(0, 64),
    });
  }
  return engine;
}

const CASES = [
  { file: 'snapshot-v2-risk.bin', seed: 7, n: 3000, risk: true },
  { file: 'snapshot-v2-norisk.bin', seed: 11, n: 1500, risk: false },
];

describe('stored snapshots (format version 2)', () => {
  for (const c of CASES) {
    test(`${c.file}: restores to the state it was taken from, and is what the writer writes today`, () => {
      const engine = drive(c.seed, c.n, c.risk);
      const path = join(DIR, c.file);
      if (!existsSync(path) && process.env.SNAPSHOT_GOLDEN_WRITE === '1') {
        writeFileSync(path, snapshotEngine(engine));
      }
      const golden = new Uint8Array(readFileSync(path));
      expect(snapshotInfo(golden).version).toBe(2);
      expect(snapshotInfo(golden).orders).toBeGreaterThan(20);
      const restored = restoreEngine(golden);
      expect(restored.stateHash()).toBe(engine.stateHash());
      const now = snapshotEngine(engine);
      expect(createHash('sha256').update(now).digest('hex')).toBe(
        createHash('sha256').update(golden).digest('hex'),
      );
      expect(Buffer.from(snapshotEngine(restored)).equals(Buffer.from(golden))).toBe(true);
    });
  }
});
