/** IdTable (engine/id-table.ts): a Map by id, in an array for the ids the engine assigns, in insertion order. */
import { describe, expect, test } from 'vitest';
import { IdTable } from '../../engine/id-table.js';

describe('IdTable', () => {
  test('gets, sets and replaces by id, and iterates in insertion order as a Map does', () => {
    const t = new IdTable<string>();
    const m = new Map<number, string>();
    for (const id of [5, 1, 3, 2 ** 40, 1, 7, 2 ** 24, 16_777_215]) {
      t.set(id, `v${id}-${m.size}`);
      m.set(id, `v${id}-${m.size}`);
    }
    expect(t.size).toBe(m.size);
    expect(t.keys()).toEqual([...m.keys()]);
    expect(t.values()).toEqual([...m.values()]);
    for (const id of [...m.keys(), 0, -1, 2, 1.5, 2 ** 41]) {
      expect(t.get(id)).toBe(m.get(id));
      expect(t.has(id)).toBe(m.has(id));
    }
  });
});
