/**
 * The engine process of the crash tests: recovery, then the real sequencer, BullMQ output batcher, periodic
 * checkpoints and snapshots, and a seeded order flow. Every released batch (output commit: what a client
 * may see) is reported on stdout as an `ack` line, so the parent holds the acks even after a SIGKILL here.
 * SIGTERM: graceful stop (flush, wait for the workers, final snapshot).
 *
 * stdout lines (JSON): recovered {seq, hash, snapshotSeq, replayed}; ack {toSeq, orders: [[id, seq,
 * status, filled, remaining]]}; stopped {seq, snapshotSeq}.
 */
import { Redis } from 'ioredis';
import type { EngineEvent } from '../../engine/events.js';
import { createDatabasePool } from '../../persistence/db.js';
import { createBullOutputBatcher } from '../../src/pipeline/batcher.js';
import { startCheckpoints } from '../../src/recovery/checkpoints.js';
import { recover } from '../../src/recovery/recover.js';
import { finishShutdown } from '../../src/recovery/shutdown.js';
import { Snapshotter } from '../../src/recovery/snapshotter.js';
import { Sequencer } from '../../src/sequencer.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';
import { exitWithParent } from '../support/orphan.js';

exitWithParent();

const env = process.env;
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  const pool = await createDatabasePool(env.DATABASE_URL!, { maximumPoolSize: 3 });
  const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
  const queueName = env.QUEUE_NAME!;

  const r = await recover({ pool, queue: { connection: redis, queueName, timeoutMs: 60_000 } });
  const engine = r.engine;
  say({
    type: 'recovered',
    seq: r.seq,
    hash: engine.stateHash(),
    snapshotSeq: r.snapshotSeq,
    replayed: r.replayed,
    recoverMs: Math.round(r.ms.total),
  });

  const { batcher, close } = await createBullOutputBatcher({
    mode: 'durable',
    redisUrl: env.REDIS_URL!,
    queueName,
    // ride out a Redis restart: about 25 s of retries before the batcher gives up
    enqueueAttempts: 10,
    enqueueBackoffMs: 50,
    jobOptions: { attempts: 20, backoff: { type: 'fixed', delay: 200 } },
  });
  batcher.setReleasedSeq(r.seq);
  batcher.onFatal((e) => {
    say({ type: 'fatal', error: e.message });
    process.exit(3);
  });
  batcher.onRelease((batch) => {
    const orders = new Map<number, EngineEvent & { type: 'order' }>();
    for (const e of batch.events) if (e.type === 'order') orders.set(e.orderId, e);
    say({
      type: 'ack',
      toSeq: batch.toSeq,
      orders: [...orders.values()].map((o) => [
        o.orderId,
        o.seq,
        o.status,
        o.filledQuantity,
        o.remainingQuantity,
      ]),
    });
  });
  const sequencer = new Sequencer(engine, batcher);
  if (engine.lastSeq === 0) for (const body of setupCommands()) sequencer.submit(body);

  const checkpoints = startCheckpoints({
    submit: () => sequencer.submit({ type: 'checkpoint' }),
    lastSeq: () => engine.lastSeq,
    everyCommands: 400,
    everyMs: 500,
    checkMs: 100,
  });
  const snapshotter = new Snapshotter({
    engine,
    pool,
    everyCommands: 3000,
    everyMs: 2000,
    checkMs: 250,
    keep: 2,
    // Inline unless asked: a snapshot worker thread loads the TypeScript sources through jiti, which takes
    // seconds on a busy machine, longer than the engine lives between kills, so no snapshot would ever land
    // and the crash runs would replay the whole journal every time instead of a snapshot and its tail.
    offThread: env.SNAPSHOT_OFF_THREAD === '1',
    checkpoint: () => {
      const e = sequencer.submitAndRead({ type: 'checkpoint' }).events.find((x) => x.type === 'state_hash');
      return e?.type === 'state_hash' ? e.hash : null;
    },
    onError: (e) => process.stderr.write(`snapshot failed: ${e.message}\n`),
  });
  snapshotter.start();

  // The flow: a few hundred commands per tick, paused while too much is unreleased (Redis down).
  const gen = new FlowGenerator(Number(env.SEED ?? '1') * 1000 + r.seq, engine);
  const perTick = Number(env.PER_TICK ?? '40');
  let stopping = false;
  const timer = setInterval(() => {
    if (stopping || engine.lastSeq - batcher.releasedSeq > 4000) return;
    for (let i = 0; i < perTick; i++) sequencer.submit(gen.next());
  }, 5);

  process.once('SIGTERM', async () => {
    say({ type: 'stopping', seq: engine.lastSeq, releasedSeq: batcher.releasedSeq });
    stopping = true;
    clearInterval(timer);
    checkpoints.tick(true);
    checkpoints.stop();
    sequencer.close('shutting down');
    await batcher.flush();
    say({ type: 'flushed', releasedSeq: batcher.releasedSeq });
    await snapshotter.stop();
    const done = await finishShutdown({ engine, pool, timeoutMs: 30_000, offThread: false });
    say({
      type: 'stopped',
      seq: done.seq,
      persisted: done.persisted,
      snapshotSeq: done.snapshot?.seq ?? null,
    });
    await close();
    redis.disconnect();
    await pool.end();
    process.exit(0);
  });
  say({ type: 'running' });
}

main().catch((e: unknown) => {
  say({ type: 'error', error: String(e) });
  process.exit(2);
});
