/**
 * Entry point of `npm start` (node dist/src/main.js): the whole product on one machine.
 *
 *   1. configuration (flags over env over defaults, validated: a bad value stops here with its name);
 *   2. PostgreSQL: schema migrations, the API key store; Redis: checked by the output batcher;
 *   3. persistence worker processes (WORKERS, default 1) beside the server;
 *   4. recovery (src/recovery): drain the queue, load the newest snapshot, replay the journal to the
 *      watermark, check state hashes; /health says "recovering" meanwhile;
 *   5. trading opens; a replica engine on its own thread follows the persisted journal and takes the
 *      checkpoints and snapshots (src/recovery/replica.ts), so order flow never pauses for them;
 *   6. SIGINT/SIGTERM: stop accepting, flush the last batch, wait for the workers to persist it, take a final
 *      snapshot (the next start replays nothing), stop the workers.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DatabasePool } from 'slonik';
import { createDatabasePool } from '../persistence/db.js';
import { migrate } from '../persistence/migrate.js';
import { ConfigError, configHelp, loadConfig, redactedConfig, redactUrl } from './config.js';
import type { KeyStore } from './gateway/keys.js';
import { MemoryKeyStore } from './gateway/keys.js';
import { type OrderArchive, PgOrderArchive } from './gateway/order-archive.js';
import { PgKeyStore } from './gateway/pg-keys.js';
import { createLogger, type Logger } from './log.js';
import { pollWatermark, type WatermarkPoller } from './pipeline/watermark-poller.js';
import { type Checkpoints, startCheckpoints } from './recovery/checkpoints.js';
import { recover } from './recovery/recover.js';
import { type ReplicaHost, startReplica } from './recovery/replica-host.js';
import { finishShutdown } from './recovery/shutdown.js';
import { Snapshotter } from './recovery/snapshotter.js';
import { WORKER_NODE_FLAGS } from './runtime.js';
import { ExchangeServer } from './server.js';

function startWorkers(n: number, env: NodeJS.ProcessEnv, log: Logger): ChildProcess[] {
  const script = fileURLToPath(new URL('../persistence/main.js', import.meta.url));
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    // The server has just migrated: the workers need not.
    const child = fork(script, [], {
      env: { ...env, MIGRATE: '0' },
      execArgv: [...process.execArgv, ...WORKER_NODE_FLAGS],
      stdio: 'inherit',
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) log.error({ worker: i, code }, 'persistence worker exited');
    });
    children.push(child);
  }
  return children;
}

function unreachable(what: 'PostgreSQL' | 'Redis', url: string, err: unknown): string {
  const how =
    what === 'PostgreSQL'
      ? 'start it (pg_ctlcluster <version> main start), or `docker compose up -d postgres`'
      : 'start it (redis-server), or `docker compose up -d redis`';
  return `${what} is not reachable at ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}. ${how}, or set ${what === 'PostgreSQL' ? 'DATABASE_URL' : 'REDIS_URL'}.`;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  log.info({ config: redactedConfig(config) }, 'starting');
  const durable = config.batcher === 'bullmq';

  let pool: DatabasePool | null = null;
  let keys: KeyStore = new MemoryKeyStore();
  if (durable || config.keyStore === 'postgres') {
    try {
      if (config.migrate)
        await migrate({ databaseUrl: config.databaseUrl, log: (m) => log.info(`migrate: ${m}`) });
      pool = await createDatabasePool(config.databaseUrl, {
        maximumPoolSize: 4,
        applicationName: 'exchange-server',
      });
      await pool.query((await import('slonik')).sql.unsafe`SELECT 1`);
    } catch (err) {
      log.fatal(unreachable('PostgreSQL', config.databaseUrl, err));
      process.exit(1);
    }
    if (config.keyStore === 'postgres') keys = new PgKeyStore(pool);
  }
  // order_status on orders the gateway no longer remembers: the orders the workers persisted.
  const orderArchive: OrderArchive | undefined =
    durable && pool !== null ? new PgOrderArchive(pool) : undefined;
  // The workers read their settings from the environment: hand them the server's resolved ones, so a flag
  // (--database-url, --queue-name...) reaches them as it reached the server, over any env or default.
  const workerEnv = {
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    QUEUE_NAME: config.queueName,
    LOG_LEVEL: config.logLevel,
  };
  const workers = durable ? startWorkers(config.workers, workerEnv, log) : [];
  const server = new ExchangeServer({
    config,
    log,
    keys,
    orderArchive,
    recover:
      durable && pool !== null
        ? async (engine, progress) => {
            const r = await recover({
              pool: pool!,
              engine,
              risk: config.risk,
              queue: { connection: { url: config.redisUrl }, queueName: config.queueName },
              onProgress: (p) => progress({ ...p }),
            });
            log.info(
              { seq: r.seq, snapshotSeq: r.snapshotSeq, replayed: r.replayed, ms: r.ms },
              'recovery done',
            );
            return r.seq;
          }
        : undefined,
  });

  let checkpoints: Checkpoints | null = null;
  let snapshotter: Snapshotter | null = null;
  let replica: ReplicaHost | null = null;
  let watermark: WatermarkPoller | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    let code = 0;
    try {
      checkpoints?.stop();
      await snapshotter?.stop();
      await replica?.stop();
      watermark?.stop();
      await server.stop();
      // Workers this process forked, or (WORKERS=0) ones run elsewhere on the same queue: either way the
      // watermark tells when everything is in the database, and only then is the final snapshot taken.
      if (pool !== null && durable) {
        const r = await finishShutdown({
          engine: server.engine as never,
          pool,
          timeoutMs: config.shutdownTimeoutMs,
        });
        const fields = {
          seq: r.seq,
          watermark: r.watermark,
          persisted: r.persisted,
          snapshot: r.snapshot !== null,
        };
        if (r.persisted) log.info(fields, 'persisted');
        else {
          // Nothing is lost (the batches wait in Redis for the workers), but the stop was not clean: the next
          // start drains the queue and replays, and an orchestrator should hear it (exit 1).
          log.error(
            fields,
            `the workers did not persist up to seq ${r.seq} in ${config.shutdownTimeoutMs} ms`,
          );
          code = 1;
        }
      }
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      code = 1;
    }
    for (const w of workers) w.kill('SIGTERM');
    await pool?.end().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await server.start();
    if (durable && pool !== null) {
      // The workers' progress: load shedding when they fall behind (--max-persist-lag), and /metrics.
      watermark = pollWatermark(
        pool,
        (seq) => {
          server.sequencer.persistedSeq = seq;
        },
        { onError: (err) => log.warn({ err: String(err) }, 'reading the persisted watermark failed') },
      );
      // State hashes for recovery to check itself against, and snapshots so a restart replays little.
      if (config.snapshotSource === 'replica') {
        replica = startReplica({
          databaseUrl: config.databaseUrl,
          risk: config.risk,
          onMessage: (m) => {
            if (m.type === 'error') log.error({ replica: m }, 'replica failed; restarting it in 10 s');
            else if (m.type === 'snapshot') log.info({ replica: m }, 'snapshot taken (replica)');
            else if (m.type === 'ready') log.info({ replica: m }, 'replica following the journal');
            else log.debug({ replica: m }, `replica ${m.type}`);
          },
        });
        const st = replica.status;
        const m = server.metrics;
        m.gauge('exchange_replica_seq', 'Seq the replica engine has applied (last report)', () => st.seq);
        m.gauge(
          'exchange_replica_last_checkpoint_seq',
          'Seq of the last state hash the replica recorded',
          () => st.lastCheckpointSeq,
        );
        m.gauge(
          'exchange_replica_last_snapshot_seq',
          'Seq of the last snapshot the replica stored',
          () => st.lastSnapshotSeq,
        );
        m.gauge(
          'exchange_replica_last_snapshot_seconds',
          'Duration of the last replica snapshot, all phases, off the engine thread',
          () => st.lastSnapshotMs / 1000,
        );
        m.counterOf(
          'exchange_replica_failures_total',
          'Replica failures (each restarts it)',
          () => st.failures,
        );
      } else {
        checkpoints = startCheckpoints({
          submit: () => {
            if (server.sequencer.accepting) server.sequencer.submit({ type: 'checkpoint' });
          },
          lastSeq: () => server.engine.lastSeq,
          onError: (err) => log.error({ err }, 'checkpoint failed'),
        });
        snapshotter = new Snapshotter({
          engine: server.engine as never,
          pool,
          // Snapshot right after a checkpoint: the snapshot must restore to that hash before it is stored,
          // so a restart can load it without hashing it again (seconds on a deep book).
          checkpoint: () => {
            const e = server.sequencer
              .submitAndRead({ type: 'checkpoint' })
              .events.find((x) => x.type === 'state_hash');
            return e?.type === 'state_hash' ? e.hash : null;
          },
          onSnapshot: (stats) => log.info(stats, 'snapshot taken'),
          onError: (err) => log.error({ err }, 'snapshot failed'),
        });
        snapshotter.start();
      }
    }
  } catch (err) {
    const msg = String(err);
    if (/ECONNREFUSED|Redis|redis/.test(msg)) log.fatal(unreachable('Redis', config.redisUrl, err));
    else log.fatal({ err: msg }, 'cannot start');
    for (const w of workers) w.kill('SIGTERM');
    process.exit(1);
  }
}

void main();
