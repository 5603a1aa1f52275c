import { describe, expect, it } from 'vitest';
import { missingNodeFlags, WORKER_NODE_FLAGS } from '../../src/runtime.js';

describe('the workers V8 flags', () => {
  it('counts a flag given on the command line or in NODE_OPTIONS, with any value', () => {
    const W = WORKER_NODE_FLAGS;
    expect(missingNodeFlags(W, [], '')).toEqual([...W]);
    expect(missingNodeFlags(W, [...W], '')).toEqual([]);
    expect(missingNodeFlags(W, [], W.join(' '))).toEqual([]);
    // An operator's own size for the same flag is theirs to choose: not reported as missing.
    expect(missingNodeFlags(W, ['--max-semi-space-size=128'], '')).toEqual([]);
    expect(missingNodeFlags(W, ['--expose-gc'], '--inspect')).toEqual([...W]);
  });
});
