import { describe, expect, it } from 'vitest';
import { missingNodeFlags, NODE_FLAGS } from '../../src/runtime.js';

describe('the product V8 flags', () => {
  it('counts a flag given on the command line or in NODE_OPTIONS, with any value', () => {
    expect(missingNodeFlags([], '')).toEqual([...NODE_FLAGS]);
    expect(missingNodeFlags([...NODE_FLAGS], '')).toEqual([]);
    expect(missingNodeFlags([], NODE_FLAGS.join(' '))).toEqual([]);
    // An operator's own size for the same flag is theirs to choose: not reported as missing.
    expect(missingNodeFlags(['--max-semi-space-size=128'], '')).toEqual([]);
    expect(missingNodeFlags(['--expose-gc'], '--inspect')).toEqual([...NODE_FLAGS]);
  });
});
