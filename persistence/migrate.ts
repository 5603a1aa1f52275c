/**
 * Brings a database to the current schema (sql/migrations, run by node-pg-migrate), creating the database
 * first if it does not exist. Safe to run twice and from several processes at once: node-pg-migrate records
 * what ran and holds an advisory lock while it runs.
 *
 *   node dist/persistence/migrate.js            (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/exchange)
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

/** sql/migrations, found from this file whether it runs as persistence/*.ts or dist/persistence/*.js. */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'sql', 'migrations');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('sql/migrations not found above persistence/');
}

/** Creates the database named in the URL when it is missing (connecting to the server's `postgres` db). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`no database name in ${databaseUrl}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    } catch (error) {
      // Another process created it between the check and here.
      if ((error as { code?: string }).code !== '42P04') throw error;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export interface MigrateOptions {
  databaseUrl: string;
  /** Where progress goes; silent by default (tests migrate many databases). */
  log?: (message: string) => void;
}

export async function migrate(options: MigrateOptions): Promise<string[]> {
  const log = options.log ?? (() => {});
  if (await ensureDatabase(options.databaseUrl)) log('created the database');
  const ran = await runner({
    databaseUrl: options.databaseUrl,
    dir: migrationsDir(),
    direction: 'up',
    migrationsTable: 'pgmigrations',
    singleTransaction: true,
    checkOrder: true,
    // Two processes starting together: the second waits for the first instead of failing.
    advisoryLockMode: 'wait',
    logger: { debug: () => {}, info: log, warn: log, error: log },
  });
  return ran.map((m) => m.name);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange';
  migrate({ databaseUrl, log: (m) => console.log(`migrate: ${m}`) }).then(
    (names) => console.log(`migrate: ${names.length ? `applied ${names.join(', ')}` : 'already up to date'}`),
    (error: unknown) => {
      console.error('migrate: failed:', error);
      process.exitCode = 1;
    },
  );
}
