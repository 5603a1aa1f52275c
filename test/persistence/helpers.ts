/**
 * Shared set-up for the persistence integration tests: each test file makes its own databases and queue
 * names, so files running in parallel (and repeated runs) never see each other's rows or jobs.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabasePool } from 'slonik';
import { createDatabasePool } from '../../persistence/db.js';
import { migrate } from '../../persistence/migrate.js';

export const PG_SERVER = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: DatabasePool;
  drop(): Promise<void>;
}

/** A fresh, migrated database with a pool on it; drop() closes the pool and removes the database. */
export async function createTestDatabase(prefix = 'exch_test', server = PG_SERVER): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  const url = `${server}/${name}`;
  await migrate({ databaseUrl: url });
  const pool = await createDatabasePool(url, { maximumPoolSize: 6 });
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(server, name);
    },
  };
}

export async function dropDatabase(server: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${server}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
