/**
 * Restore registers live orders by id in ascending order whatever order the snapshot lists them in (book
 * order): dense ids through a counting pass, sparse ones (an old survivor far behind the id counter)
 * through a sort. Either way every order must be found by id afterwards, exactly as in the original.
 */
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { Engine } from '../../engine/engine.js';
import type { EngineEvent } from '../../engine/events.js';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { SPOT, setupCommands } from '../support/gen.js';

const TS0 = 1_750_000_000_000_000;

function apply(engine: Engine, body: CommandBody): EngineEvent[] {
  const seq = engine.lastSeq + 1;
  const out: EngineEvent[] = [];
  engine.apply({ ...body, seq, ts: TS0 + seq * 1000 } as Command, out);
  return out;
}

function bid(engine: Engine, price: string, accountId: number): void {
  apply(engine, {
    type: 'place_order',
    accountId,
    symbol: SPOT,
    side: 'BUY',
    orderType: 'LIMIT',
    timeInForce: 'GTC',
    price,
    quantity: '1',
  });
}

function build(gap: number): Engine {
  const engine = new Engine({ risk: false });
  for (const body of setupCommands()) if (body.type === 'create_instrument') apply(engine, body);
  // newer orders at better prices, so the book lists ids out of order
  for (let i = 0; i < 50; i++) bid(engine, `${1000 - i}.00`, 1 + (i % 3));
  engine.nextOrderId += gap;
  for (let i = 0; i < 50; i++) bid(engine, `${2000 - i}.00`, 1 + (i % 3));
  for (let i = 0; i < 20; i++) bid(engine, `${999 - i}.00`, 2);
  return engine;
}

describe('restored live orders are found by id', () => {
  for (const [name, gap] of [
    ['dense ids', 0],
    ['sparse ids', 2_000_000],
  ] as const) {
    test(name, () => {
      const original = build(gap);
      const restored = restoreEngine(snapshotEngine(original));
      expect(restored.stateHash()).toBe(original.stateHash());
      expect(Buffer.from(snapshotEngine(restored)).equals(Buffer.from(snapshotEngine(original)))).toBe(true);
      const ids = original.orders.keys();
      expect(restored.orders.keys()).toEqual(ids);
      for (const id of ids) {
        const o = original.orders.get(id)!;
        expect(restored.orders.get(id)?.id).toBe(id);
        const cancel: CommandBody = { type: 'cancel_order', accountId: o.accountId, orderId: id };
        expect(apply(restored, cancel)).toEqual(apply(original, cancel));
      }
      expect(restored.orders.size).toBe(0);
      expect(restored.stateHash()).toBe(original.stateHash());
    });
  }
});
