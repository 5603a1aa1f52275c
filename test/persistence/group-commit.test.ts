import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../persistence/group-commit.js';
import type { Batch } from '../../src/pipeline/types.js';

const batch = (seq: number, events = 1) =>
  ({ fromSeq: seq, toSeq: seq, commands: [], events: new Array(events) }) as unknown as Batch;

describe('GroupCommitter', () => {
  it('writes the first batch at once and groups those that wait for a free writer', async () => {
    const calls: number[][] = [];
    const gates: (() => void)[] = [];
    const c = new GroupCommitter(
      (bs) => {
        calls.push(bs.map((b) => b.fromSeq));
        return new Promise<void>((r) => gates.push(r));
      },
      { parallel: 1 },
    );
    const done = [1, 2, 3, 4].map((s) => c.submit(batch(s)));
    expect(calls).toEqual([[1]]);
    gates.shift()!();
    await done[0];
    await new Promise((r) => setTimeout(r, 0)); // the freed writer picks up what waited
    expect(calls).toEqual([[1], [2, 3, 4]]);
    gates.shift()!();
    await Promise.all(done);
  });

  it('stops a group at maxEvents', async () => {
    const calls: number[][] = [];
    let release: () => void = () => {};
    const c = new GroupCommitter(
      async (bs) => {
        calls.push(bs.map((b) => b.fromSeq));
        if (calls.length === 1) await new Promise<void>((r) => (release = r));
      },
      { parallel: 1, maxEvents: 10 },
    );
    const done = [c.submit(batch(1, 5)), c.submit(batch(2, 6)), c.submit(batch(3, 4)), c.submit(batch(4, 1))];
    release();
    await Promise.all(done);
    expect(calls).toEqual([[1], [2, 3], [4]]);
  });

  it('a failing group is retried batch by batch: only the bad batch fails', async () => {
    const c = new GroupCommitter(
      async (bs) => {
        if (bs.some((b) => b.fromSeq === 3)) throw new Error('poison');
      },
      { parallel: 1 },
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((s) => c.submit(batch(s))));
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
  });
});
