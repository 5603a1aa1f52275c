/**
 * The offline check CLI: a consistent database passes (exit 0), and tampering with balances, orders,
 * positions or the ledger is reported line by line (exit 1); a journal gap cannot be checked (exit 2).
 */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { restoreEngine, snapshotEngine } from '../../engine/snapshot.js';
import { runCheck } from '../../src/cli/check.js';
import { takeSnapshot } from '../../src/recovery/snapshotter.js';
import { createTestDatabase, type TestDatabase } from '../persistence/helpers.js';
import { generateStream, writeBatches } from './helpers.js';

describe('check CLI', () => {
  let db: TestDatabase;
  let lastSeq = 0;
  let mid: Uint8Array | null = null;

  beforeAll(async () => {
    db = await createTestDatabase('exch_check');
    const { engine, batches } = generateStream(707, 1200, {
      batchSize: 25,
      at: (e) => {
        if (e.lastSeq === 600) mid = new Uint8Array(snapshotEngine(e));
      },
    });
    lastSeq = engine.lastSeq;
    await writeBatches(db, batches);
  });
  afterAll(async () => {
    await db.drop();
  });

  const check = (...args: string[]) => runCheck(['--database-url', db.url, '--quiet', ...args]);
  const summary = (lines: string[]) => JSON.parse(lines.at(-1)!);

  test('a consistent database passes, from scratch and from a snapshot', async () => {
    const r = await check();
    expect(r.lines).toHaveLength(1);
    expect(r.code).toBe(0);
    const s = summary(r.lines);
    expect(s).toMatchObject({ ok: true, watermark: lastSeq, snapshotSeq: 0, differences: 0 });
    expect(s.compared.orders).toBeGreaterThan(100);
    expect(s.compared.ledger).toBeGreaterThan(100);
    expect(s.hashesChecked).toBeGreaterThan(5);

    const engine = restoreEngine(mid!);
    await takeSnapshot(engine, db.pool, { offThread: false });
    const fromSnap = await check('--from-snapshot');
    expect(fromSnap.code).toBe(0);
    expect(summary(fromSnap.lines)).toMatchObject({ ok: true, snapshotSeq: engine.lastSeq });
  });

  test('tampered rows are reported, one line per difference', async () => {
    const order = Number(
      await db.pool.oneFirst(
        sql.unsafe`SELECT engine_id FROM orders WHERE status = 'NEW' ORDER BY engine_id LIMIT 1`,
      ),
    );
    await db.pool.query(sql.unsafe`UPDATE accounts SET balance = balance + 1 WHERE engine_id = 2`);
    await db.pool.query(sql.unsafe`UPDATE orders SET status = 'CANCELLED' WHERE engine_id = ${order}`);
    const position = Number(await db.pool.oneFirst(sql.unsafe`SELECT min(engine_id) FROM positions`));
    await db.pool.query(
      sql.unsafe`UPDATE positions SET quantity = quantity + 1 WHERE engine_id = ${position}`,
    );
    const r = await check();
    expect(r.code).toBe(1);
    const text = r.lines.join('\n');
    expect(text).toContain('DIFF accounts accountId=2 balance: database');
    expect(text).toMatch(/DIFF ledger sum: account 2 has balance/);
    expect(text).toContain(`DIFF orders orderId=${order} status: database "CANCELLED", replay "NEW"`);
    expect(text).toContain(`DIFF positions positionId=${position} quantity`);
    expect(summary(r.lines).differences).toBe(r.lines.length - 1);
    // from the snapshot, the live-state comparison sees the same order
    const s = await check('--from-snapshot');
    expect(s.code).toBe(1);
    expect(s.lines.join('\n')).toContain(`orders orderId=${order}`);
  });

  test('a journal gap cannot be checked: exit 2 naming the seq', async () => {
    const other = await createTestDatabase('exch_check_gap');
    try {
      const { batches } = generateStream(808, 200);
      const victim = batches[2];
      const missing = victim.commands[3].seq;
      victim.commands = victim.commands.filter((c) => c.seq !== missing);
      await writeBatches(other, batches);
      const r = await runCheck(['--database-url', other.url, '--quiet']);
      expect(r.code).toBe(2);
      expect(summary(r.lines)).toMatchObject({ ok: false, reason: 'journal_gap', seq: missing });
    } finally {
      await other.drop();
    }
  });

  test('refuses flags it does not know and values it cannot use, naming them (exit 2), before any database', async () => {
    const typo = await runCheck(['--from-snaphot']);
    expect(typo.code).toBe(2);
    expect(summary(typo.lines).error).toMatch(/usage: .*from-snaphot/);
    const nan = await runCheck(['--max-listed', 'abc']);
    expect(nan.code).toBe(2);
    expect(summary(nan.lines).error).toMatch(/max-listed/);
  });

  test('takes --database-url=URL as well, and names the database it checked (password masked)', async () => {
    const r = await runCheck([`--database-url=${db.url}`, '--quiet']);
    expect(r.code).not.toBe(2); // it ran against that database (earlier tests here tampered with it)
    expect(summary(r.lines).database).toBe(db.url.replace(/\/\/[^@/]*@/, '//***@'));
  });
});
