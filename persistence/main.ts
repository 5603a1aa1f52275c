/**
 * A persistence worker process: `node dist/persistence/main.js`. Run as many as the database keeps up with.
 *
 * Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/exchange), REDIS_URL (default
 * redis://127.0.0.1:6379), QUEUE_NAME (default exchange-batches), WORKER_CONCURRENCY (jobs taken at once,
 * default 16), WORKER_WRITERS (write statements at once, each a database connection, default 2),
 * MIGRATE (default 1: bring the schema up to date first), REDIS_FIX_EVICTION (default 0), LOG_LEVEL.
 *
 * Exits 1 when a batch cannot be persisted after all its retries (the queue is paused for every worker;
 * see worker.ts), 0 after SIGTERM/SIGINT once the jobs in hand are committed.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { ensureNoEviction } from '../src/pipeline/redis-check.js';
import { missingNodeFlags, WORKER_NODE_FLAGS } from '../src/runtime.js';
import { migrate } from './migrate.js';
import { PersistenceWorker } from './worker.js';

const env = process.env;
const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const queueName = env.QUEUE_NAME ?? 'exchange-batches';
const concurrency = Number(env.WORKER_CONCURRENCY ?? '16');
const writers = Number(env.WORKER_WRITERS ?? '2');
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const level = env.LOG_LEVEL ?? 'info';
if (!LEVELS.includes(level)) {
  process.stderr.write(`LOG_LEVEL: one of ${LEVELS.join(', ')}, got "${level}"\n`);
  process.exit(2);
}
const log = pino({ name: 'persistence', level });

async function main(): Promise<void> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('WORKER_CONCURRENCY: a positive integer');
  if (!Number.isInteger(writers) || writers < 1) throw new Error('WORKER_WRITERS: a positive integer');
  if ((env.MIGRATE ?? '1') !== '0') await migrate({ databaseUrl, log: (m) => log.info(m) });

  // BullMQ's worker connections block (BZPOPMIN) and must retry forever rather than fail a command.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  await ensureNoEviction(redis, { fix: env.REDIS_FIX_EVICTION === '1', log: (m) => log.warn(m) });

  const worker = new PersistenceWorker({
    databaseUrl,
    poolOptions: { applicationName: 'exchange-persistence' },
    connection: redis,
    queueName,
    concurrency,
    writers,
    log,
  });
  worker.on('written', (stats) => log.debug(stats, 'batch persisted'));

  let exiting = false;
  const shutdown = async (code: number) => {
    if (exiting) return;
    exiting = true;
    await worker.close().catch(() => {});
    redis.disconnect();
    process.exit(code);
  };
  worker.on('fatal', (error) => {
    log.fatal({ error: error.message }, 'persistence worker stopped: a batch cannot be persisted');
    void shutdown(1);
  });
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
  const missing = missingNodeFlags();
  if (missing.length > 0)
    log.warn(
      { missing, expected: WORKER_NODE_FLAGS },
      'worker runs without its V8 flags (src/runtime.ts): expect less throughput; npm start and npm run worker pass them',
    );
  log.info({ queueName, concurrency, writers }, 'persistence worker running');
}

main().catch((error: unknown) => {
  log.fatal(
    { error: error instanceof Error ? error.message : String(error) },
    'persistence worker failed to start',
  );
  process.exit(1);
});
