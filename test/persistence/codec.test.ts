/**
 * The batch job codec (src/pipeline/codec.ts): a batch read back from a job is exactly what JSON would have
 * given (same keys in the same order, no undefined-valued keys, null kept, numbers and strings unchanged),
 * over a seeded engine flow with the risk core on; jobs in the format of earlier versions (the Batch itself)
 * are still read; a job of an unknown format is refused loudly, by decodeBatch and by a real worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWatermark } from '../../persistence/watermark.js';
import { BATCH_FORMAT, BatchFormatError, decodeBatch, encodeBatch } from '../../src/pipeline/codec.js';
import type { Batch } from '../../src/pipeline/types.js';
import { flow, toBatches } from './flow-batches.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';
import { TEST_JOB_OPTIONS, TestQueue, waitForWatermark } from './queue-helpers.js';

/** What BullMQ does to job data on its way through Redis. */
const throughRedis = <T>(data: T): unknown => JSON.parse(JSON.stringify(data));
const viaJson = (b: Batch): unknown => JSON.parse(JSON.stringify(b));

function countUndefinedKeys(x: unknown): number {
  if (Array.isArray(x)) return x.reduce((n: number, y) => n + countUndefinedKeys(y), 0);
  if (x === null || typeof x !== 'object') return 0;
  let n = 0;
  for (const [, v] of Object.entries(x)) n += v === undefined ? 1 : countUndefinedKeys(v);
  return n;
}

/** Exactly equal: toStrictEqual tells an undefined-valued key from a missing one; the text, key order. */
function expectSameAsJson(decoded: Batch, original: Batch): void {
  expect(decoded).toStrictEqual(viaJson(original));
  expect(JSON.stringify(decoded)).toBe(JSON.stringify(original));
  expect(countUndefinedKeys(decoded)).toBe(0);
}

describe('batch codec', () => {
  const steps = flow(4000);
  const batches = toBatches(steps, [1, 17, 3, 250, 40, 1200]);

  it('the flow exercises what matters: fills, risk events, nulls, undefined-valued keys, big numbers', () => {
    const events = batches.flatMap((b) => b.events);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['trade', 'order', 'account', 'position', 'ledger']) expect(types).toContain(t);
    expect(events.filter((e) => e.type === 'trade').length).toBeGreaterThan(100);
    // Commands carry optional fields set to undefined (set_position_tpsl's takeProfit): JSON drops them.
    expect(countUndefinedKeys(batches)).toBeGreaterThan(0);
    expect(JSON.stringify(batches)).toContain('null');
  });

  it('round-trips every batch to exactly what JSON gives, each decoded alone and in any order', () => {
    const encoded = batches.map((b) => throughRedis(encodeBatch(b)));
    for (const e of encoded) expect(e).toMatchObject({ v: BATCH_FORMAT });
    // Backwards: no batch may depend on the record definitions of another.
    for (let i = batches.length - 1; i >= 0; i--) {
      expectSameAsJson(decodeBatch(encoded[i], `b-${i}`), batches[i]!);
    }
    // Encoding is repeatable: the same batch encodes the same whatever was encoded before.
    expect(throughRedis(encodeBatch(batches[3]!))).toEqual(encoded[3]);
  });

  it('the whole flow as one batch, and the job is much smaller than JSON', () => {
    const [all] = toBatches(steps, [steps.length]);
    const job = JSON.stringify(encodeBatch(all!));
    expectSameAsJson(decodeBatch(JSON.parse(job)), all!);
    expect(job.length).toBeLessThan(JSON.stringify(all).length * 0.6);
  });

  it('edge values: undefined keys and array items, null, big and negative numbers, unicode, many shapes', () => {
    const odd = {
      type: 'checkpoint',
      seq: 1,
      ts: 2 ** 53 - 1,
      a: undefined,
      b: null,
      c: [1, undefined, null, -0, -1.5, 0.1, 4294967296, -4294967297],
      d: { e: undefined, f: '', g: 'ünïcødé € 😀', h: [] as unknown[], i: {} },
      j: 'x'.repeat(70_000),
      k: true,
      l: false,
    };
    // More object shapes than msgpackr keeps record ids for (64): ids are reused within the batch.
    const shapes = Array.from({ length: 300 }, (_, i) => ({
      type: 'state_hash',
      [`k${i}`]: i,
      seq: i,
      hash: String(i),
      nested: i % 2 === 0 ? { [`n${i % 90}`]: null } : undefined,
    }));
    const batch = {
      fromSeq: 1,
      toSeq: 1,
      commands: [odd, odd],
      events: [...shapes, ...shapes.slice(0, 10)],
    } as unknown as Batch;
    expectSameAsJson(decodeBatch(throughRedis(encodeBatch(batch))), batch);
  });

  it('reads the format of earlier versions: the Batch itself as the job data', () => {
    for (const b of batches.slice(0, 5)) expectSameAsJson(decodeBatch(throughRedis(b), 'old'), b);
  });

  it('refuses an unknown format, or anything that is not a batch, with an error', () => {
    const b = batches[1]!;
    expect(() => decodeBatch({ v: 3, fromSeq: 1, toSeq: 2, mp: '' }, 'b-1-2')).toThrow(BatchFormatError);
    expect(() => decodeBatch({ ...encodeBatch(b), v: 99 }, 'b-1-2')).toThrow(
      /batch job b-1-2 has batch format 99.*reads formats 1 and 2/,
    );
    expect(() => decodeBatch({ ...encodeBatch(b), v: '2' })).toThrow(/batch format "2"/);
    expect(() => decodeBatch({ v: BATCH_FORMAT, fromSeq: 1, toSeq: 1 })).toThrow(/without its payload/);
    const truncated = { ...encodeBatch(b), mp: encodeBatch(b).mp.slice(0, 40) };
    expect(() => decodeBatch(truncated)).toThrow(/payload unreadable/);
    expect(() => decodeBatch({ ...encodeBatch(b), mp: '' })).toThrow(BatchFormatError);
    expect(() => decodeBatch({})).toThrow(/carries no batch/);
    expect(() => decodeBatch(null)).toThrow(/carries no batch/);
    expect(() => decodeBatch('a string')).toThrow(/carries no batch/);
    expect(() => decodeBatch({ fromSeq: 1, toSeq: 1, commands: [] })).toThrow(/carries no batch/);
  });
});

describe('batch codec through BullMQ and a worker', () => {
  let db: TestDatabase;
  let q: TestQueue;
  beforeAll(async () => {
    db = await createTestDatabase('exch_codec');
    q = new TestQueue();
  });
  afterAll(async () => {
    await q?.dispose();
    await db?.drop();
  });

  it('persists jobs of both formats mixed; stops loudly on a job of an unknown format', async () => {
    const batches = toBatches(flow(1500), [7, 60, 200]);
    // Old-format jobs left in Redis by an earlier version, and new ones after them.
    const half = Math.floor(batches.length / 2);
    await q.add(batches.slice(0, half), '', 1);
    await q.add(batches.slice(half), '', 2);
    const last = batches[batches.length - 1]!.toSeq;
    const w = q.worker(db.url);
    await waitForWatermark(db.pool, last);

    const fatal = new Promise<Error>((resolve) => w.on('fatal', resolve));
    await q.queue.add('batch', { v: 3, fromSeq: last + 1, toSeq: last + 1, mp: '' } as never, {
      ...TEST_JOB_OPTIONS,
      attempts: 2,
      jobId: `b-${last + 1}-${last + 1}`,
    });
    expect((await fatal).message).toMatch(/failed 2 times: batch job b-\d+-\d+ has batch format 3/);
    expect(await q.queue.isPaused()).toBe(true);
    expect(await readWatermark(db.pool)).toBe(last);
  }, 60_000);
});
