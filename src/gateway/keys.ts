/**
 * API keys. A key belongs to a user and may be narrowed to some of the user's accounts. The secret is shown
 * once, at creation; the store keeps only SHA-256(secret), which is also the HMAC key (protocol/sign.ts).
 *
 * The store is an interface because the keys live in PostgreSQL (table api_keys) in the product and in
 * memory in tests; the gateway only ever calls `get`, once per login.
 */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../protocol/sign.js';

export interface ApiKeyRecord {
  apiKey: string;
  secretHash: string;
  userId: number;
  /** Empty: every account of the user. */
  accountIds: number[];
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewApiKey {
  record: ApiKeyRecord;
  /** The only time the secret exists outside the client. */
  secret: string;
}

export interface KeyStore {
  get(apiKey: string): Promise<ApiKeyRecord | undefined>;
  create(userId: number, accountIds: number[], label: string): Promise<NewApiKey>;
  revoke(apiKey: string): Promise<boolean>;
  list(userId: number): Promise<ApiKeyRecord[]>;
}

export function generateKey(userId: number, accountIds: number[], label: string): NewApiKey {
  const apiKey = `ak_${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  return {
    secret,
    record: {
      apiKey,
      secretHash: hashSecret(secret),
      userId,
      accountIds: [...accountIds],
      label,
      createdAt: new Date(),
      revokedAt: null,
    },
  };
}

export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();

  async get(apiKey: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.get(apiKey);
  }

  async create(userId: number, accountIds: number[], label: string): Promise<NewApiKey> {
    const k = generateKey(userId, accountIds, label);
    this.keys.set(k.record.apiKey, k.record);
    return k;
  }

  async revoke(apiKey: string): Promise<boolean> {
    const r = this.keys.get(apiKey);
    if (r === undefined || r.revokedAt !== null) return false;
    r.revokedAt = new Date();
    return true;
  }

  async list(userId: number): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].filter((r) => r.userId === userId);
  }
}
