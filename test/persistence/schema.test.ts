import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as enums from '../../engine/enums.js';
import { ENTITY_KINDS, fromUuid, toUuid } from '../../persistence/ids.js';
import { migrate } from '../../persistence/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('exch_schema');
});
afterAll(async () => {
  await db?.drop();
});

describe('schema', () => {
  it('migrates a second time without doing anything', async () => {
    expect(await migrate({ databaseUrl: db.url })).toEqual([]);
    const tables = await db.pool.anyFirst(sql.unsafe`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
    expect(tables).toEqual(
      expect.arrayContaining([
        'users',
        'instruments',
        'accounts',
        'orders',
        'trades',
        'positions',
        'account_ledger',
        'command_journal',
        'engine_snapshots',
        'state_hashes',
        'persisted_batches',
        'persistence_watermark',
        'api_keys',
      ]),
    );
  });

  it('round-trips NUMERIC(20,8) to the last digit', async () => {
    const values = ['999999999999.99999999', '-999999999999.99999999', '0.00000001', '123456.12345678'];
    const back = await db.pool.anyFirst(sql.unsafe`
      SELECT v::numeric(20,8) FROM unnest(${sql.array(values, 'numeric')}) WITH ORDINALITY AS t(v, i) ORDER BY i`);
    expect(back).toEqual([
      '999999999999.99999999',
      '-999999999999.99999999',
      '0.00000001',
      '123456.12345678',
    ]);
    // int8 comes back as bigint, never a rounded number.
    expect(await db.pool.oneFirst(sql.unsafe`SELECT 9007199254740993::int8`)).toBe(9007199254740993n);
  });

  it('converts microsecond timestamps exactly, both ways', async () => {
    const us = [1732500000123457, 1, 4102444799999999];
    const back = await db.pool.anyFirst(sql.unsafe`
      SELECT exch_ts_to_us(exch_us_to_ts(u)) FROM unnest(${sql.array(us, 'int8')}) WITH ORDINALITY AS t(u, i)
      ORDER BY i`);
    expect(back).toEqual(us.map(BigInt));
  });

  it('maps engine ids to the same UUIDs in TypeScript and SQL, reversibly', async () => {
    for (const [kind, code] of Object.entries(ENTITY_KINDS) as [keyof typeof ENTITY_KINDS, number][]) {
      for (const n of [1, 255, 4096, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
        const uuid = toUuid(kind, n);
        expect(fromUuid(uuid)).toEqual({ kind, id: n });
        const row = await db.pool.one(sql.unsafe`
          SELECT exch_uuid(${code}, ${n}::int8)::text AS u, exch_uuid_id(${uuid}::uuid) AS n`);
        expect(row).toEqual({ u: uuid, n: BigInt(n) });
      }
    }
    expect(() => toUuid('order', 0)).toThrow();
    expect(() => fromUuid('00000000-0000-0000-0000-000000000000')).toThrow();
  });

  it('has CHECK constraints with exactly the strings of engine/enums.ts', async () => {
    const checks = await db.pool.any(sql.unsafe`
      SELECT c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace`);
    const allowed = (tbl: string, column: string): string[] => {
      const row = checks.find(
        (c) => c.tbl === tbl && new RegExp(`^CHECK \\(\\(?${column} = ANY`).test(c.def),
      );
      if (!row) throw new Error(`no CHECK on ${tbl}.${column}`);
      return [...row.def.matchAll(/'([A-Z_]+)'::text/g)].map((m) => m[1]!).sort();
    };
    const sorted = (xs: readonly string[]) => [...xs].sort();
    expect(allowed('instruments', 'kind')).toEqual(sorted(enums.INSTRUMENT_KINDS));
    expect(allowed('accounts', 'status')).toEqual(sorted(enums.ACCOUNT_STATUSES));
    expect(allowed('orders', 'side')).toEqual(sorted(enums.SIDES));
    expect(allowed('orders', 'order_type')).toEqual(sorted(enums.ORDER_TYPES));
    expect(allowed('orders', 'time_in_force')).toEqual(sorted(enums.TIME_IN_FORCE));
    expect(allowed('orders', 'status')).toEqual(sorted(enums.ORDER_STATUSES));
    expect(allowed('orders', 'rejection_reason')).toEqual(sorted(enums.REJECT_REASONS));
    expect(allowed('orders', 'cancel_reason')).toEqual(sorted(enums.CANCEL_REASONS));
    expect(allowed('trades', 'side')).toEqual(sorted(enums.SIDES));
    expect(allowed('trades', 'liquidity')).toEqual(sorted(enums.LIQUIDITY));
    expect(allowed('positions', 'side')).toEqual(sorted(enums.POSITION_SIDES));
    expect(allowed('positions', 'status')).toEqual(sorted(enums.POSITION_STATUSES));
    expect(allowed('account_ledger', 'entry_type')).toEqual(sorted(enums.LEDGER_ENTRY_TYPES));
  });
});
