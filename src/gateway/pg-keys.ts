/**
 * API keys in PostgreSQL (table api_keys, created by sql/migrations): key id, the user's UUID, the secret's
 * SHA-256 and a label. The secret is never stored.
 *
 * A key may be narrowed to some of its user's accounts (`account_ids`, empty: all of them). The user row is written by the persistence workers, shortly after the create_user batch
 * is released, so creating a key for a brand-new user retries briefly on the foreign key.
 */
import { type DatabasePool, sql } from 'slonik';
import { fromUuid, toUuid } from '../../persistence/ids.js';
import { type ApiKeyRecord, generateKey, type KeyStore, type NewApiKey } from './keys.js';

interface Row {
  key_id: string;
  user_id: string;
  secret_hash: string;
  label: string | null;
  account_ids: string[];
  created_at: string;
  revoked_at: string | null;
}

function toRecord(r: Row): ApiKeyRecord {
  return {
    apiKey: r.key_id,
    userId: fromUuid(r.user_id).id,
    secretHash: r.secret_hash,
    accountIds: r.account_ids.map(Number),
    label: r.label ?? '',
    createdAt: new Date(r.created_at),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
  };
}

export class PgKeyStore implements KeyStore {
  constructor(
    private readonly pool: DatabasePool,
    /** How long to wait for the user row to be persisted before giving up on a new key. */
    private readonly userWaitMs = 10_000,
  ) {}

  async get(apiKey: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.pool.maybeOne(
      sql.unsafe`SELECT key_id, user_id::text, secret_hash, label, account_ids::text[], created_at::text, revoked_at::text
                    FROM api_keys WHERE key_id = ${apiKey}`,
    );
    return r === null ? undefined : toRecord(r as Row);
  }

  async create(userId: number, accountIds: number[], label: string): Promise<NewApiKey> {
    const k = generateKey(userId, accountIds, label);
    const deadline = Date.now() + this.userWaitMs;
    for (;;) {
      try {
        await this.pool.query(
          sql.unsafe`INSERT INTO api_keys (key_id, user_id, secret_hash, label, account_ids)
                     VALUES (${k.record.apiKey}, ${toUuid('user', userId)}::uuid, ${k.record.secretHash}, ${label},
                             ${sql.array(accountIds, 'int8')})`,
        );
        return k;
      } catch (e) {
        // 23503: the users row is not persisted yet (its batch is in the queue): wait for the workers.
        const code =
          (e as { cause?: { code?: string }; code?: string }).cause?.code ?? (e as { code?: string }).code;
        if (code !== '23503' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async revoke(apiKey: string): Promise<boolean> {
    const r = await this.pool.query(
      sql.unsafe`UPDATE api_keys SET revoked_at = now() WHERE key_id = ${apiKey} AND revoked_at IS NULL`,
    );
    return r.rowCount > 0;
  }

  async list(userId: number): Promise<ApiKeyRecord[]> {
    const rows = await this.pool.any(
      sql.unsafe`SELECT key_id, user_id::text, secret_hash, label, account_ids::text[], created_at::text, revoked_at::text
                    FROM api_keys WHERE user_id = ${toUuid('user', userId)}::uuid ORDER BY created_at`,
    );
    return (rows as readonly Row[]).map(toRecord);
  }
}
