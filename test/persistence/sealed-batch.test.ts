/**
 * A sealed batch (src/pipeline/sealed.ts) lends its log to the release listeners only: once released, the
 * log goes back to the pool for another batch. Events read in the listener stay readable; reading the log
 * afterwards is refused with a clear error instead of returning another batch's records.
 */
import { describe, expect, it } from 'vitest';
import type { Command } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { MemoryBatcher } from '../../src/pipeline/memory-batcher.js';
import { RetiredBatchError } from '../../src/pipeline/sealed.js';
import type { SealedBatch } from '../../src/pipeline/types.js';
import { pushEvents } from './sealed.js';

const cmd = (seq: number) => ({ type: 'checkpoint', seq, ts: seq }) as Command;
const hash = (seq: number) => ({ type: 'state_hash', seq, ts: seq, hash: `h${seq}` }) as EngineEvent;

describe('sealed batches', () => {
  it('keep the events read in the release listener, and refuse the log once it is reused', async () => {
    const b = new MemoryBatcher({ maxCommands: 2 });
    const read: EngineEvent[][] = [];
    const held: SealedBatch[] = [];
    b.onRelease((batch) => {
      held.push(batch);
      if (batch.fromSeq === 1) read.push(batch.events);
    });
    for (let s = 1; s <= 4; s++) pushEvents(b, cmd(s), [hash(s)]);
    await b.flush();
    expect(held.map((x) => [x.fromSeq, x.toSeq])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(read[0]).toEqual([hash(1), hash(2)]);
    expect(held[0]!.events).toEqual([hash(1), hash(2)]); // decoded in the listener: kept
    expect(() => held[1]!.events).toThrow(RetiredBatchError);
    expect(() => held[1]!.log).toThrow(/read `events` in the release listener/);
  });
});
