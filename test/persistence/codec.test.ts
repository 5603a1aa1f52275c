/**
 * The batch job codec (src/pipeline/codec.ts). A job of format 3 carries the commands and the durable records
 * (src/pipeline/durable.ts) of a sealed batch; read back, it gives exactly what JSON would have given for
 * those events as objects (same keys in the same order, no undefined-valued keys, null kept, numbers and
 * strings unchanged), over a seeded engine flow with the risk core on and over amounts past 2^53; events
 * kept whole in the log (a hand-made stream) travel the same way; jobs in the formats of earlier versions
 * are still read; a job of an unknown format is refused loudly, by decodeBatch and by a real worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../engine/commands.js';
import { EventLog } from '../../engine/event-log.js';
import { Engine } from '../../engine/index.js';
import { readWatermark } from '../../persistence/watermark.js';
import {
  BATCH_FORMAT,
  BatchFormatError,
  decodeBatch,
  encodeBatch,
  encodeFormat2,
} from '../../src/pipeline/codec.js';
import { durableRecords } from '../../src/pipeline/durable.js';
import { Sealed } from '../../src/pipeline/sealed.js';
import type { Batch } from '../../src/pipeline/types.js';
import { BTC_PERP } from '../fixtures.js';
import { flow, toBatches } from './flow-batches.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';
import { TEST_JOB_OPTIONS, TestQueue, waitForWatermark } from './queue-helpers.js';
import { seal, sealedFlow } from './sealed.js';

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

/** What a job of the sealed batch must read back as: its commands and its durable events, as objects. */
function durableBatch(b: Sealed): Batch {
  const { fromSeq, toSeq, commands, log } = b;
  return { fromSeq, toSeq, commands, events: durableRecords(log).map((o) => log.event(o)) };
}

describe('batch codec', () => {
  const sealed = sealedFlow(4000, [1, 17, 3, 250, 40, 1200]);

  it('the flow exercises what matters: fills, risk events, nulls, undefined-valued keys, big numbers', () => {
    const events = sealed.flatMap((b) => b.events);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['trade', 'order', 'account', 'position', 'ledger', 'book', 'rejected'])
      expect(types).toContain(t);
    expect(events.filter((e) => e.type === 'trade').length).toBeGreaterThan(100);
    expect(events.some((e) => e.type === 'order' && e.clientOrderId !== null)).toBe(true);
    // Commands carry optional fields set to undefined (set_position_tpsl's takeProfit): JSON drops them.
    expect(countUndefinedKeys(sealed.map((b) => b.commands))).toBeGreaterThan(0);
  });

  it('round-trips every batch to its durable events, exactly as JSON gives them, each decoded alone', () => {
    const encoded = sealed.map((b) => throughRedis(encodeBatch(b)));
    for (const e of encoded) expect(e).toMatchObject({ v: BATCH_FORMAT });
    // Backwards: no batch may depend on what was encoded before it.
    for (let i = sealed.length - 1; i >= 0; i--) {
      expectSameAsJson(decodeBatch(encoded[i], `b-${i}`), durableBatch(sealed[i]!));
    }
    // Encoding is repeatable: the same batch encodes the same whatever was encoded before.
    expect(throughRedis(encodeBatch(sealed[3]!))).toEqual(encoded[3]);
  });

  it('the whole flow as one batch; the job is much smaller than its events as JSON', () => {
    const [all] = sealedFlow(4000, [4000]);
    const job = JSON.stringify(encodeBatch(all!));
    const expected = durableBatch(all!);
    expectSameAsJson(decodeBatch(JSON.parse(job)), expected);
    expect(job.length).toBeLessThan(JSON.stringify(expected).length * 0.7);
  });

  it('amounts past 2^53 units, and client order ids, keep every digit', () => {
    const engine = new Engine();
    const log = new EventLog();
    const commands: Command[] = [];
    let seq = 0;
    const apply = (body: Record<string, unknown>) => {
      const cmd = { ...body, seq: ++seq, ts: 1_764_000_000_000_000 + seq } as unknown as Command;
      engine.applyInto(cmd, log);
      commands.push(cmd);
    };
    apply({ type: 'create_instrument', ...BTC_PERP });
    for (const name of ['a', 'b']) {
      apply({ type: 'create_user', name, email: null });
      apply({
        type: 'open_account',
        userId: seq === 2 ? 1 : 2,
        currency: 'USD',
        maxLeverage: '10',
        marginEnabled: true,
        autoLiquidation: true,
      });
      apply({ type: 'deposit', accountId: name === 'a' ? 1 : 2, amount: '999999999999.99999999' });
    }
    const order = { type: 'place_order', symbol: 'BTC-PERP', orderType: 'LIMIT', timeInForce: 'GTC' };
    apply({ ...order, accountId: 1, side: 'SELL', price: '50000', quantity: '100', clientOrderId: 'ask-1' });
    apply({ ...order, accountId: 2, side: 'BUY', price: '50000', quantity: '100', clientOrderId: 'bid-1' });
    const b = new Sealed(1, seq, commands, log);
    const events = b.events;
    expect(events.some((e) => e.type === 'ledger' && e.balanceAfter.startsWith('9999999'))).toBe(true);
    expect(log.bigs.length).toBeGreaterThan(0);
    expectSameAsJson(decodeBatch(throughRedis(encodeBatch(b))), durableBatch(b));
  });

  it('events kept whole (a hand-made stream): undefined keys and array items, null, unicode, many shapes', () => {
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
    expectSameAsJson(decodeBatch(throughRedis(encodeBatch(seal(batch)))), batch);
  });

  it('reads the formats of earlier versions: 2 (the Batch as MessagePack) and 1 (the Batch itself)', () => {
    const batches = toBatches(flow(800), [1, 30, 300]);
    for (const b of batches.slice(0, 5)) {
      expectSameAsJson(decodeBatch(throughRedis(encodeFormat2(b)), 'v2'), b);
      expectSameAsJson(decodeBatch(throughRedis(b), 'old'), b);
    }
  });

  it('refuses an unknown format, or anything that is not a batch, with an error', () => {
    const b = sealed[1]!;
    expect(() => decodeBatch({ v: 4, fromSeq: 1, toSeq: 2, mp: '' }, 'b-1-2')).toThrow(BatchFormatError);
    expect(() => decodeBatch({ ...encodeBatch(b), v: 99 }, 'b-1-2')).toThrow(
      /batch job b-1-2 has batch format 99.*reads formats 1 to 3/,
    );
    expect(() => decodeBatch({ ...encodeBatch(b), v: '3' })).toThrow(/batch format "3"/);
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

  it('persists jobs of every format mixed; stops loudly on a job of an unknown format', async () => {
    const batches = toBatches(flow(1500), [7, 60, 200]);
    // Old-format jobs left in Redis by earlier versions, and new ones after them.
    const third = Math.floor(batches.length / 3);
    await q.add(batches.slice(0, third), '', 1);
    await q.add(batches.slice(third, 2 * third), '', 2);
    await q.add(batches.slice(2 * third), '', 3);
    const last = batches[batches.length - 1]!.toSeq;
    const w = q.worker(db.url);
    await waitForWatermark(db.pool, last);

    const fatal = new Promise<Error>((resolve) => w.on('fatal', resolve));
    await q.queue.add('batch', { v: 4, fromSeq: last + 1, toSeq: last + 1, mp: '' } as never, {
      ...TEST_JOB_OPTIONS,
      attempts: 2,
      jobId: `b-${last + 1}-${last + 1}`,
    });
    expect((await fatal).message).toMatch(/failed 2 times: batch job b-\d+-\d+ has batch format 4/);
    expect(await q.queue.isPaused()).toBe(true);
    expect(await readWatermark(db.pool)).toBe(last);
  }, 60_000);
});
