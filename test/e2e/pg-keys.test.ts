/**
 * API keys in PostgreSQL: the secret is never stored, only its hash; revoked keys stay refused; a key may be
 * narrowed to some of its user's accounts.
 */
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toUuid } from '../../persistence/ids.js';
import { PgKeyStore } from '../../src/gateway/pg-keys.js';
import { hashSecret } from '../../src/protocol/sign.js';
import { createTestDatabase, type TestDatabase } from '../persistence/helpers.js';

describe('PostgreSQL key store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('exch_e2e_keys');
  });
  afterAll(async () => db.drop());

  it('creates, finds, lists and revokes keys, storing only the secret hash', async () => {
    const store = new PgKeyStore(db.pool, 3000);
    // The user row arrives later, as the persistence worker would write it: creation waits for it.
    setTimeout(() => {
      void db.pool.query(
        sql.unsafe`INSERT INTO users (id, engine_id, name, email, created_at, seq)
                   VALUES (${toUuid('user', 7)}::uuid, 7, 'alice', null, now(), 1)`,
      );
    }, 300);
    const k = await store.create(7, [], 'bot');
    const found = await store.get(k.record.apiKey);
    expect(found).toMatchObject({
      apiKey: k.record.apiKey,
      userId: 7,
      label: 'bot',
      accountIds: [],
      revokedAt: null,
    });
    expect(found!.secretHash).toBe(hashSecret(k.secret));
    const stored = await db.pool.any(sql.unsafe`SELECT secret_hash FROM api_keys`);
    expect(JSON.stringify(stored)).not.toContain(k.secret);
    expect((await store.list(7)).map((r) => r.apiKey)).toEqual([k.record.apiKey]);
    expect(await store.revoke(k.record.apiKey)).toBe(true);
    expect(await store.revoke(k.record.apiKey)).toBe(false);
    expect((await store.get(k.record.apiKey))!.revokedAt).toBeInstanceOf(Date);
    expect(await store.get('ak_missing000000')).toBeUndefined();
    // A key narrowed to some of the user's accounts keeps them (it was refused with a 500 before 0006).
    const narrow = await store.create(7, [3, 5], 'one-bot');
    expect((await store.get(narrow.record.apiKey))!.accountIds).toEqual([3, 5]);
    expect((await store.list(7)).map((r) => r.accountIds)).toEqual([[], [3, 5]]);
  });
});
