import type { CommonQueryMethods } from 'slonik';
import { describe, expect, it } from 'vitest';
import { pollWatermark } from '../../src/pipeline/watermark-poller.js';

describe('watermark poller', () => {
  it('hands every read to the sequencer, keeps going after a failed read, and stops', async () => {
    const answers: Array<number | Error> = [5, new Error('connection lost'), 9];
    const db = {
      oneFirst: async () => {
        const a = answers.shift() ?? 9;
        if (a instanceof Error) throw a;
        return a;
      },
    } as unknown as CommonQueryMethods;
    const seen: number[] = [];
    const errors: unknown[] = [];
    const poller = pollWatermark(db, (s) => seen.push(s), { everyMs: 5, onError: (e) => errors.push(e) });
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    poller.stop();
    expect(seen.slice(0, 2)).toEqual([5, 9]);
    expect(errors).toHaveLength(1);
  });
});
