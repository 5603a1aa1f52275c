/**
 * A batch job carries only what the tables are made of (src/pipeline/durable.ts). Pinned here: for the
 * recovery tests' seeded flow (risk core on) cut into batches of many sizes, the rows a worker builds from
 * the job (decoded as a worker decodes it) equal the rows it would build from all of the batch's events,
 * table by table, and the instruments the worker must resolve are the same.
 */
import { describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../engine/events.js';
import { batchRows, batchSymbols } from '../../persistence/rows.js';
import { decodeBatch, encodeBatch } from '../../src/pipeline/codec.js';
import { durableRecords } from '../../src/pipeline/durable.js';
import type { Batch } from '../../src/pipeline/types.js';
import { seal, sealedFlow } from './sealed.js';

const instruments = new Map<string, number>();

function rowsOf(batch: Batch) {
  for (const e of batch.events)
    if (e.type === 'instrument_created') instruments.set(e.symbol, e.instrumentId);
  return batchRows(batch, (s) => instruments.get(s) ?? null);
}

describe('durable events of a batch', () => {
  test.each([[[1]], [[7, 30, 2]], [[250]], [[6000]]])('same rows with batch sizes %j', (sizes) => {
    let all = 0;
    let kept = 0;
    for (const sealed of sealedFlow(6000, sizes)) {
      const { fromSeq, toSeq, commands, events } = sealed;
      const batch: Batch = { fromSeq, toSeq, commands, events };
      const durable = decodeBatch(JSON.parse(JSON.stringify(encodeBatch(sealed))));
      all += batch.events.length;
      kept += durable.events.length;
      expect(rowsOf(durable)).toStrictEqual(rowsOf(batch));
      const full = batchSymbols(batch);
      const slim = batchSymbols(durable);
      expect(slim.created).toEqual(full.created);
      for (const s of slim.required) expect(full.required.has(s) || full.optional.has(s)).toBe(true);
    }
    expect(kept).toBeLessThan(all);
  });

  test('keeps every append-only event and the newest state of each entity, in order', () => {
    const ev = (e: Record<string, unknown>) => e as unknown as EngineEvent;
    const events = [
      ev({ type: 'order', seq: 1, orderId: 1, status: 'NEW' }),
      ev({ type: 'book', seq: 1 }),
      ev({ type: 'account', seq: 1, accountId: 9 }),
      ev({ type: 'trade', seq: 2, tradeId: 1 }),
      ev({ type: 'ledger', seq: 2, entryId: 1 }),
      ev({ type: 'order', seq: 2, orderId: 1, status: 'FILLED' }),
      ev({ type: 'rejected', seq: 3 }),
      ev({ type: 'account', seq: 3, accountId: 9 }),
      ev({ type: 'state_hash', seq: 4, hash: 'h' }),
    ];
    const log = seal({ fromSeq: 1, toSeq: 4, commands: [], events }).log;
    expect(durableRecords(log).map((o) => log.event(o))).toEqual([
      events[3],
      events[4],
      events[5],
      events[7],
      events[8],
    ]);
  });
});
