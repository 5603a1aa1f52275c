import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceWatermark, readWatermark } from '../../persistence/watermark.js';
import { BatchWriter } from '../../persistence/writer.js';
import { dumpDatabase } from './dump.js';
import { expectReconciled } from './expect-reconciled.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';
import { rng, synthetic, toBatches } from './synthetic.js';

const flow = synthetic({ seed: 7, accounts: 12, fills: 400 });
const batches = toBatches(flow.steps, 9);

let inOrder: TestDatabase;
let shuffled: TestDatabase;
beforeAll(async () => {
  [inOrder, shuffled] = await Promise.all([
    createTestDatabase('exch_writer_a'),
    createTestDatabase('exch_writer_b'),
  ]);
});
afterAll(async () => {
  await Promise.all([inOrder?.drop(), shuffled?.drop()]);
});

describe('BatchWriter', () => {
  it('writes batches in order and reconciles exactly with the event stream', async () => {
    const writer = new BatchWriter(inOrder.pool);
    for (const b of batches) await writer.write(b);
    await expectReconciled(inOrder.pool, flow);
    expect(await readWatermark(inOrder.pool)).toBe(flow.steps.length);
    const journal = await inOrder.pool.oneFirst(sql.unsafe`SELECT count(*) FROM command_journal`);
    expect(Number(journal)).toBe(flow.steps.length);
  });

  it('gives the same database, row for row, with every batch twice in shuffled order', async () => {
    const writer = new BatchWriter(shuffled.pool);
    const rand = rng(99);
    const twice = [...batches, ...batches].sort(() => rand() - 0.5);
    // Users (and so accounts' parent rows) may come later than their children: a refused batch is retried.
    const pending = [...twice];
    for (let round = 0; pending.length > 0 && round < 10; round++) {
      for (const b of pending.splice(0)) {
        await writer.write(b).catch(() => pending.push(b));
      }
    }
    expect(pending).toEqual([]);
    await expectReconciled(shuffled.pool, flow);
    await advanceWatermark(inOrder.pool);
    await advanceWatermark(shuffled.pool);
    expect(await dumpDatabase(shuffled.pool)).toEqual(await dumpDatabase(inOrder.pool));
  });

  it('groups of batches (duplicates, any order) in one statement give the same database', async () => {
    const grouped = await createTestDatabase('exch_writer_g');
    try {
      const writer = new BatchWriter(grouped.pool);
      const rand = rng(3);
      const jobs = [...batches, ...batches.slice(0, 20)].sort(() => rand() - 0.5);
      const pending: (typeof batches)[] = [];
      for (let i = 0; i < jobs.length; i += 7) pending.push(jobs.slice(i, i + 7));
      // A group whose parents (users) are not in yet fails as a whole and is tried again later.
      for (let round = 0; pending.length > 0 && round < 20; round++) {
        for (const g of pending.splice(0)) await writer.writeGroup(g).catch(() => pending.push(g));
      }
      expect(pending).toEqual([]);
      await advanceWatermark(grouped.pool);
      await advanceWatermark(inOrder.pool);
      expect(await dumpDatabase(grouped.pool)).toEqual(await dumpDatabase(inOrder.pool));
    } finally {
      await grouped.drop();
    }
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the ledger', async () => {
    await expect(inOrder.pool.query(sql.unsafe`UPDATE account_ledger SET amount = amount`)).rejects.toThrow(
      /append-only/,
    );
    await expect(inOrder.pool.query(sql.unsafe`DELETE FROM account_ledger`)).rejects.toThrow(/append-only/);
    await expect(inOrder.pool.query(sql.unsafe`TRUNCATE account_ledger`)).rejects.toThrow(/append-only/);
    await expect(inOrder.pool.query(sql.unsafe`DELETE FROM positions`)).rejects.toThrow(/append-only/);
    // The application role has no such privilege to begin with.
    const privileges = await inOrder.pool.oneFirst(sql.unsafe`
      SELECT array_agg(p ORDER BY p) FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p
      WHERE has_table_privilege('exchange_app', 'account_ledger', p)`);
    expect(privileges).toEqual(['INSERT', 'SELECT']);
  });

  it('an older state never overwrites a newer one', async () => {
    const lastAccountEvent = [...batches].reverse().find((b) => b.events.some((e) => e.type === 'account'))!;
    const early = batches.find((b) => b.events.some((e) => e.type === 'account'))!;
    const before = await dumpDatabase(inOrder.pool);
    await new BatchWriter(inOrder.pool).write(early);
    await new BatchWriter(inOrder.pool).write(lastAccountEvent);
    await advanceWatermark(inOrder.pool);
    expect(await dumpDatabase(inOrder.pool)).toEqual(before);
  });
});

describe('watermark', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('exch_watermark');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is the highest gap-free seq, and advances once a gap fills', async () => {
    const w = new BatchWriter(db.pool);
    await w.write(toBatches(flow.steps.slice(0, 30), 30)[0]!); // set-up: users, instrument, accounts
    const small = toBatches(flow.steps.slice(30, 70), 5); // seq 31..70 in 8 batches
    expect(await readWatermark(db.pool)).toBe(30);
    await w.write(small[1]!); // 36..40
    expect(await readWatermark(db.pool)).toBe(30);
    await w.write(small[0]!); // 31..35
    expect(await readWatermark(db.pool)).toBe(40);
    await w.write(small[3]!); // 46..50
    await w.write(small[4]!); // 51..55
    expect(await advanceWatermark(db.pool)).toBe(40);
    await w.write(small[2]!); // 41..45
    expect(await advanceWatermark(db.pool)).toBe(55);
    await w.write(small[0]!); // a late duplicate changes nothing
    expect(await readWatermark(db.pool)).toBe(55);
    await w.write(small[7]!); // 66..70, gap 56..65
    expect(await advanceWatermark(db.pool)).toBe(55);
    const left = await db.pool.anyFirst(sql.unsafe`SELECT from_seq FROM persisted_batches ORDER BY 1`);
    expect(left.map(Number)).toEqual([66]);
  });
});
