/**
 * Crash tests: the real pipeline in child processes (engine-child.ts: recovery, sequencer, BullMQ output
 * batcher, checkpoints, snapshots and a seeded order flow; worker-child.ts: persistence workers), on the
 * shared PostgreSQL (own database) and an own Redis with AOF on (own port and folder, so it can be
 * restarted).
 *
 * The gateway is not in the loop: the flow is generated inside the engine process and an "ack" is a batch
 * the output batcher released (exactly what the gateway would answer from). The engine process reports
 * each released batch on stdout; this process records them, so it holds the acks even after a SIGKILL.
 *
 * After each crash, with the engine down and the queue drained, it checks: every acked command is at or
 * below the watermark; every acked order is in the database in the acked state or a later one; the tables
 * equal a from-scratch replay of the journal row for row (so no trade or ledger row is duplicated or
 * missing), ledger chains hold, every persisted state hash matches; and the restarted engine's state hash
 * equals that from-scratch replay's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readWatermark } from '../../persistence/watermark.js';
import { checkDatabase } from '../../src/recovery/compare.js';
import { waitForQueueDrained } from '../../src/recovery/queue-drain.js';
import { createTestDatabase, type TestDatabase, uniqueName } from '../persistence/helpers.js';
import { Prng } from '../support/gen.js';

const JITI = join(process.cwd(), 'node_modules/jiti/lib/jiti-cli.mjs');
const SEED = Number(process.env.CRASH_SEED ?? '20261125');
/** The long run: `npm run bench -- crash` (20 kills), or CRASH_KILLS=20 npx vitest run test/recovery/crash.test.ts. */
const KILLS = Number(process.env.CRASH_KILLS ?? '3');
/** Where the engine-kill test writes one record per kill (JSON), for bench/crash.ts. */
const REPORT = process.env.CRASH_REPORT;
const rng = new Prng(SEED);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// biome-ignore lint/suspicious/noExplicitAny: child process messages, checked field by field
type Msg = any;

/** A child process speaking JSON lines on stdout. */
class Child {
  readonly proc: ChildProcess;
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  readonly exited: Promise<number | string | null>;
  stderr = '';

  constructor(script: string, env: NodeJS.ProcessEnv, onMessage?: (m: Msg) => void) {
    this.proc = spawn(process.execPath, [JITI, join(import.meta.dirname, script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
        let m: Msg;
        try {
          m = line === 'ready' ? { type: 'ready' } : JSON.parse(line);
        } catch {
          continue; // a line cut by SIGKILL: never received, so never acked
        }
        onMessage?.(m);
        this.messages.push(m);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(m)) return true;
          w.resolve(m);
          return false;
        });
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  waitFor(type: string, timeoutMs = 90_000): Promise<Msg> {
    const found = this.messages.find((m) => m.type === type || m.type === 'error' || m.type === 'fatal');
    if (found?.type === type) return Promise.resolve(found);
    if (found) return Promise.reject(new Error(`child: ${JSON.stringify(found)}; stderr: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no "${type}" from child within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      void this.exited.then((code) =>
        setTimeout(() => {
          clearTimeout(t);
          reject(
            new Error(
              `child exited (${code}) before "${type}"; last: ${JSON.stringify(this.messages.slice(-3)).slice(0, 600)}; stderr: ${this.stderr}`,
            ),
          );
        }, 200),
      );
      this.waiters.push({
        pred: (m) => m.type === type || m.type === 'error' || m.type === 'fatal',
        resolve: (m) => {
          clearTimeout(t);
          if (m.type !== type) reject(new Error(`child: ${JSON.stringify(m)}; stderr: ${this.stderr}`));
          else resolve(m);
        },
      });
    });
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }
}

/** An own redis-server with AOF on, restartable on the same port and folder. */
class OwnRedis {
  readonly port = 20_000 + Math.floor(Math.random() * 20_000);
  readonly dir = mkdtempSync(join(tmpdir(), 'exch-redis-'));
  private proc: ChildProcess | null = null;
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    this.proc.once('exit', () => {
      this.proc = null;
    });
    for (let i = 0; i < 100; i++) {
      const r = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
      if (r.stdout.trim() === 'PONG') return;
      await sleep(50);
    }
    throw new Error('own redis-server did not start');
  }
  /** Graceful: SHUTDOWN fsyncs the append-only file. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p === null) return;
    const exited = new Promise((r) => p.once('exit', r));
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown']);
    await exited;
  }
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('crash tests: kill -9 the engine, a worker; restart Redis', () => {
  let db: TestDatabase;
  const redis = new OwnRedis();
  const queueName = uniqueName('exch-crash-q');
  let connection: Redis;
  const workers: Child[] = [];
  let engine: Child | null = null;
  /** Last acked state per order: [seq, status, filled, remaining]. */
  const acked = new Map<number, [number, string, string, string]>();
  let maxAcked = 0;
  let acks = 0;

  const env = () => ({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_NAME: queueName,
    SEED: String(SEED),
  });
  const startWorker = async () => {
    const w = new Child('worker-child.ts', env());
    workers.push(w);
    await w.waitFor('ready');
    return w;
  };
  const startEngine = async () => {
    const e = new Child('engine-child.ts', env(), (m) => {
      if (m.type !== 'ack') return;
      acks++;
      maxAcked = Math.max(maxAcked, m.toSeq);
      for (const [id, seq, status, filled, remaining] of m.orders) {
        const prev = acked.get(id);
        if (prev === undefined || prev[0] <= seq) acked.set(id, [seq, status, filled, remaining]);
      }
    });
    engine = e;
    const recovered = await e.waitFor('recovered');
    await e.waitFor('running'); // its SIGTERM handler is in place
    return { child: e, recovered };
  };
  /** Lets the flow run until at least `n` more batches were acked and `ms` passed. */
  const run = async (ms: number, n = 5) => {
    const target = acks + n;
    const deadline = Date.now() + 60_000;
    await sleep(ms);
    while (acks < target && Date.now() < deadline) await sleep(50);
    expect(acks).toBeGreaterThanOrEqual(target);
  };

  /** With the engine down: drain, then every check; returns the watermark and the replay's hash. */
  const quiesceAndCheck = async (): Promise<{ watermark: number; hash: string }> => {
    await waitForQueueDrained({ connection, queueName, timeoutMs: 60_000 });
    const watermark = await readWatermark(db.pool);
    // output commit: nothing a client saw is lost
    expect(maxAcked).toBeLessThanOrEqual(watermark);
    const check = await checkDatabase({ pool: db.pool });
    expect(check.differences).toEqual([]);
    expect(check.watermark).toBe(watermark);
    expect(check.hashesChecked).toBeGreaterThan(0);
    const rows = await db.pool.any(sql.unsafe`
      SELECT engine_id, seq, status, filled_quantity, remaining_quantity FROM orders
      WHERE engine_id = ANY(${sql.array([...acked.keys()], 'int8')})`);
    const byId = new Map(rows.map((r) => [Number(r.engine_id), r]));
    const canon = (v: unknown) =>
      String(v)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '');
    for (const [id, [seq, status, filled, remaining]] of acked) {
      const row = byId.get(id);
      expect(row, `acked order ${id}`).toBeDefined();
      expect(Number(row!.seq), `order ${id}: persisted state is older than the ack`).toBeGreaterThanOrEqual(
        seq,
      );
      if (Number(row!.seq) === seq) {
        expect([row!.status, canon(row!.filled_quantity), canon(row!.remaining_quantity)]).toEqual([
          status,
          filled,
          remaining,
        ]);
      }
    }
    return { watermark, hash: check.engine.stateHash() };
  };

  beforeAll(async () => {
    db = await createTestDatabase('exch_crash');
    await redis.start();
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => {}); // reconnects by itself after the Redis restart
    await startWorker();
    await startWorker();
  });

  afterAll(async () => {
    await engine?.kill('SIGKILL');
    await Promise.allSettled(workers.map((w) => w.kill('SIGKILL')));
    connection?.disconnect();
    await redis.dispose();
    await db?.drop();
  });

  test(
    `the engine is killed -9 at random moments ${KILLS} times; nothing acked is lost`,
    async () => {
      let { child } = await startEngine();
      const kills: object[] = [];
      for (let k = 0; k < KILLS; k++) {
        await run(rng.int(800, 2500));
        await child.kill('SIGKILL');
        const { watermark, hash } = await quiesceAndCheck();
        const next = await startEngine();
        child = next.child;
        expect(next.recovered.seq).toBe(watermark);
        expect(next.recovered.hash).toBe(hash);
        const { recoverMs, replayed, snapshotSeq } = next.recovered;
        kills.push({ kill: k + 1, watermark, snapshotSeq, replayed, recoverMs, ackedOrders: acked.size });
      }
      expect(acked.size).toBeGreaterThan(100);
      if (REPORT) writeFileSync(REPORT, JSON.stringify({ seed: SEED, kills }));
    },
    60_000 + KILLS * 60_000,
  );

  test('a worker is killed -9 while the engine keeps running', async () => {
    expect(engine).not.toBeNull();
    await run(rng.int(500, 1500));
    const victim = workers.find((w) => w.proc.exitCode === null && w.proc.signalCode === null)!;
    await victim.kill('SIGKILL');
    await run(1000);
    await startWorker();
    await run(1000);
    await engine!.kill('SIGKILL');
    const { watermark, hash } = await quiesceAndCheck();
    const next = await startEngine();
    expect(next.recovered).toMatchObject({ seq: watermark, hash });
  }, 240_000);

  test('Redis restarts (AOF on) while the engine keeps running; a graceful stop leaves nothing to replay', async () => {
    if (engine === null || engine.proc.exitCode !== null || engine.proc.signalCode !== null)
      await startEngine();
    await run(rng.int(500, 1500));
    const before = acks;
    await redis.stop();
    await sleep(1000);
    await redis.start();
    // the batcher retried through the outage: releases resume
    await run(1000, 5);
    expect(acks).toBeGreaterThan(before);
    const stopping = engine!.waitFor('stopped');
    await engine!.kill('SIGTERM');
    const stopped = await stopping;
    expect(stopped.persisted).toBe(true);
    expect(stopped.snapshotSeq).toBe(stopped.seq);
    const { watermark, hash } = await quiesceAndCheck();
    expect(watermark).toBe(stopped.seq);
    const next = await startEngine();
    expect(next.recovered).toMatchObject({ seq: watermark, hash, snapshotSeq: watermark, replayed: 0 });
    const last = next.child.waitFor('stopped');
    await next.child.kill('SIGTERM');
    await last;
  }, 240_000);
});
