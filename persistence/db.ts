/**
 * The slonik pool every persistence module uses.
 *
 * slonik's default type parsers turn NUMERIC into a JavaScript number (999999999999.99999999 comes back as
 * 1000000000000) and timestamps into milliseconds: both lose digits. Here NUMERIC and timestamps stay the
 * strings PostgreSQL sent, and int8 becomes a bigint, so no value read back ever went through a double.
 */
import { createPgDriverFactory } from '@slonik/pg-driver';
import { createPool, type DatabasePool, type DriverTypeParser, type Interceptor } from 'slonik';

export const typeParsers: readonly DriverTypeParser[] = [
  { name: 'numeric', parse: (value: string) => value },
  { name: 'int8', parse: (value: string) => BigInt(value) },
  { name: 'timestamptz', parse: (value: string) => value },
  { name: 'timestamp', parse: (value: string) => value },
];

export interface PoolOptions {
  /** Connections in the pool; a worker needs one per concurrently processed job, plus one. */
  maximumPoolSize?: number;
  /** ms a statement may run before PostgreSQL cancels it. */
  statementTimeout?: number;
  applicationName?: string;
  /** slonik interceptors (logging, and the tests' fault injection). */
  interceptors?: readonly Interceptor[];
}

export async function createDatabasePool(
  databaseUrl: string,
  options: PoolOptions = {},
): Promise<DatabasePool> {
  const url = new URL(databaseUrl);
  if (options.applicationName) url.searchParams.set('application_name', options.applicationName);
  return createPool(url.toString(), {
    driverFactory: createPgDriverFactory(),
    typeParsers,
    maximumPoolSize: options.maximumPoolSize ?? 4,
    statementTimeout: options.statementTimeout ?? 60_000,
    // A batch transaction is short; a connection idle in one longer than this belongs to a stuck process.
    idleInTransactionSessionTimeout: 30_000,
    connectionTimeout: 5_000,
    // Retries happen one level up (BullMQ with backoff), where they are visible and bounded.
    connectionRetryLimit: 1,
    captureStackTrace: false,
    // slonik 47.3.2 with pg 8: when PostgreSQL terminates a backend in the middle of a query, that query's
    // promise may never settle, and the connection's destroy waits for it this long before freeing its
    // slot (the default, 5 s, keeps the pool full of dying connections during an outage). Even so the pool
    // can wedge for good (reproduced with pg_terminate_backend in a loop): persistence/worker.ts detects
    // that and replaces the pool.
    gracefulTerminationTimeout: 100,
    // The default reset (DISCARD ALL on every release) can hang on a connection the server just killed.
    // These connections set no session state that would need discarding.
    resetConnection: async () => {},
    interceptors: options.interceptors ?? [],
  });
}
