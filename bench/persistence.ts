/**
 * bench persistence: fills persisted per second, sustained, through the real pipeline
 * (engine -> durable output batcher -> BullMQ -> persistence worker processes -> PostgreSQL), the lag from
 * engine to database over time, and beside it, in the same run, a raw bulk insert of the same rows into
 * the same tables (plain INSERT ... SELECT FROM unnest, no conflict handling, one connection).
 *
 *   npm run bench -- persistence [--seconds 60] [--rate 25000] [--workers 1] [--concurrency 16] [--writers 2]
 *   node dist/bench/persistence.js [same flags]
 *
 * The load is offered at a fixed rate of fills (open loop): if persistence keeps up, the lag stays bounded;
 * if not, it grows, and the time series shows it. Each "round" rests `--makers` orders from different
 * accounts at one price and sweeps them with one taker order of another account, so one command makes many
 * fills; sides alternate so positions open, grow, shrink and close (realized PnL rows), and prices wander.
 *
 * Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL as for the server); it creates its own database and
 * queue and removes both at the end. Last line of stdout (when run directly): one JSON object.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type DatabasePool, sql } from 'slonik';
import { bulkInsert, type ColumnSet } from '../persistence/columns.js';
import { createDatabasePool } from '../persistence/db.js';
import { migrate } from '../persistence/migrate.js';
import { type BatchRows, batchRows } from '../persistence/rows.js';
import { readWatermark } from '../persistence/watermark.js';
import { createBullOutputBatcher } from '../src/pipeline/batcher.js';
import type { Batch } from '../src/pipeline/types.js';
import { WORKER_NODE_FLAGS } from '../src/runtime.js';
import { Flags } from './lib/args.js';
import { dropDatabase, Load, sibling } from './lib/fill-rounds.js';
import type { Plot } from './lib/plot.js';
import { status } from './lib/progress.js';
import { resultsDir } from './lib/results.js';

interface Options {
  seconds: number;
  rate: number;
  workers: number;
  concurrency: number;
  writers: number;
  accounts: number;
  makers: number;
  rawFills: number;
  databaseUrl: string;
  redisUrl: string;
  keep: boolean;
}

function parse(args: string[]): Options {
  const f = new Flags(args);
  // The suite runs the same minute as a single run (the issue asks for a sustained minute), offering more
  // than this machine persists, so the figure is the pipeline's ceiling, not the offered rate; only the raw
  // insert's sample is smaller inside the suite, to stay in its time budget.
  const suite = process.env.BENCH_SUITE === '1';
  const o: Options = {
    seconds: f.int('seconds', 60, 1),
    rate: f.int('rate', 25_000, 1),
    workers: f.int('workers', 1, 1),
    concurrency: f.int('concurrency', 16, 1),
    writers: f.int('writers', 2, 1),
    accounts: f.int('accounts', 2_000, 4),
    makers: f.int('makers', 8, 1),
    rawFills: f.int('raw-fills', suite ? 30_000 : 100_000, 1000),
    databaseUrl: f.str(
      'database-url',
      process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange',
    ),
    redisUrl: f.str('redis-url', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    keep: f.bool('keep'),
  };
  f.done();
  return o;
}

/** Monotone (seq -> wall time, fills) marks taken as the load runs, to turn a watermark into lag and fills. */
class Marks {
  private readonly seqs: number[] = [];
  private readonly times: number[] = [];
  private readonly fills: number[] = [];
  add(seq: number, time: number, fills: number): void {
    this.seqs.push(seq);
    this.times.push(time);
    this.fills.push(fills);
  }
  /** Index of the last mark with seq <= s, or -1. */
  private floor(s: number): number {
    let lo = 0;
    let hi = this.seqs.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! <= s) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }
  fillsUpTo(seq: number): number {
    const i = this.floor(seq);
    return i < 0 ? 0 : this.fills[i]!;
  }
  /** When the first command after `seq` was applied (the oldest one not yet persisted). */
  appliedAfter(seq: number): number | undefined {
    const i = this.floor(seq) + 1;
    return i < this.times.length ? this.times[i] : undefined;
  }
}

async function rawInsert(
  pool: DatabasePool,
  rows: BatchRows,
  chunk: number,
): Promise<{ rows: number; seconds: number }> {
  const tables: [string, ColumnSet][] = [
    ['users', rows.users],
    ['instruments', rows.instruments],
    ['accounts', rows.accounts],
    ['orders', rows.orders],
    ['positions', rows.positions],
    ['trades', rows.trades],
    ['account_ledger', rows.ledger],
    ['command_journal', rows.journal],
    ['state_hashes', rows.stateHashes],
  ];
  let total = 0;
  const t0 = performance.now();
  for (const [table, set] of tables) {
    for (let i = 0; i < set.size; i += chunk) {
      const part = set.slice(i, i + chunk);
      await pool.query(sql.unsafe`${bulkInsert(table, part, { kind: 'none' })}`);
      total += part.size;
    }
  }
  return { rows: total, seconds: (performance.now() - t0) / 1000 };
}

/**
 * PostgreSQL's own ceiling for these rows: the raw database's rows copied, table by table, into empty
 * twins with the same columns, constraints and indexes (`LIKE ... INCLUDING ALL`) by one
 * `INSERT ... SELECT` each: no client, no parameters, no parsing, plain inserts where the pipeline upserts.
 * No writer can beat it on this machine, so it bounds what any persistence design could reach here.
 */
async function serverSideInsert(pool: DatabasePool): Promise<{ rows: number; seconds: number }> {
  const tables = ['accounts', 'orders', 'positions', 'trades', 'account_ledger', 'command_journal'];
  for (const t of tables) {
    await pool.query(
      sql.unsafe`CREATE TABLE ${sql.identifier([`${t}_twin`])} (LIKE ${sql.identifier([t])} INCLUDING ALL)`,
    );
  }
  await pool.query(sql.unsafe`CHECKPOINT`);
  let rows = 0;
  const t0 = performance.now();
  for (const t of tables) {
    const r = await pool.query(
      sql.unsafe`INSERT INTO ${sql.identifier([`${t}_twin`])} SELECT * FROM ${sql.identifier([t])}`,
    );
    rows += r.rowCount;
  }
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

function startWorkers(o: Options, databaseUrl: string, queueName: string) {
  const main = fileURLToPath(new URL('../persistence/main.js', import.meta.url));
  const children = [];
  for (let i = 0; i < o.workers; i++) {
    // The workers run as `npm start` and `npm run worker` run them: with the workers' V8 flags.
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, main], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: o.redisUrl,
        QUEUE_NAME: queueName,
        WORKER_CONCURRENCY: String(o.concurrency),
        WORKER_WRITERS: String(o.writers),
        MIGRATE: '0',
        LOG_LEVEL: 'warn',
      },
      // The workers' logs (warnings and errors only) go to stderr; stdout belongs to the dispatcher.
      stdio: ['ignore', 2, 2],
    });
    children.push(child);
  }
  return children;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const o = parse(args);
  if (!import.meta.url.includes('/dist/')) {
    throw new Error(
      'run the built bench (npm run bench -- persistence): the workers run dist/persistence/main.js',
    );
  }
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `exch_bench_${tag}`;
  const rawName = `exch_bench_raw_${tag}`;
  const dbUrl = sibling(o.databaseUrl, dbName);
  const rawUrl = sibling(o.databaseUrl, rawName);
  const queueName = `exch-bench-${tag}`;
  status(`persistence: databases ${dbName} and ${rawName}, queue ${queueName}`);
  await migrate({ databaseUrl: dbUrl });
  await migrate({ databaseUrl: rawUrl });
  const pool = await createDatabasePool(dbUrl, { maximumPoolSize: 2 });
  const { batcher, close } = await createBullOutputBatcher({
    mode: 'durable',
    redisUrl: o.redisUrl,
    queueName,
    maxDelayMs: 1,
    maxEvents: 5000,
  });
  const workers = startWorkers(o, dbUrl, queueName);
  const sample: Batch[] = [];
  let sampleFills = 0;
  batcher.onRelease((b) => {
    if (sampleFills < o.rawFills) {
      sample.push(b);
      for (const e of b.events) if (e.type === 'trade') sampleFills++;
    }
  });
  const marks = new Marks();
  const load = new Load(o.accounts, o.makers, batcher);
  const series = {
    t: [] as number[],
    lagMs: [] as number[],
    persistedFills: [] as number[],
    offeredFills: [] as number[],
  };
  try {
    status(`persistence: set-up (${o.accounts} accounts)`);
    const clock = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
    load.setup(clock());
    await batcher.flush();
    marks.add(load.seq, performance.now(), load.fills);
    const setupSeq = load.seq;
    const setupDeadline = Date.now() + 120_000;
    while ((await readWatermark(pool)) < setupSeq) {
      if (Date.now() > setupDeadline) throw new Error('the workers did not persist the set-up in 2 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }

    status(`persistence: offering ${o.rate} fills/s for ${o.seconds} s`);
    const t0 = performance.now();
    const fills0 = load.fills;
    let stopSampler = false;
    let sampledAt = 0;
    const sampler = (async () => {
      while (!stopSampler) {
        await new Promise((r) => setTimeout(r, 250));
        const w = await readWatermark(pool);
        const now = performance.now();
        const oldest = marks.appliedAfter(w);
        series.t.push((now - t0) / 1000);
        series.lagMs.push(oldest === undefined || w >= load.seq ? 0 : Math.max(0, now - oldest));
        series.persistedFills.push(marks.fillsUpTo(w) - fills0);
        series.offeredFills.push(load.fills - fills0);
        sampledAt = now;
      }
    })();
    // Open loop: every few ms, make the fills that are due by now (capped, so the loop still yields).
    const end = t0 + o.seconds * 1000;
    while (performance.now() < end) {
      const due = ((performance.now() - t0) / 1000) * o.rate;
      let budget = 200;
      while (load.fills - fills0 < due && budget-- > 0) load.step(clock());
      marks.add(load.seq, performance.now(), load.fills);
      await new Promise((r) => setTimeout(r, 2));
    }
    const offered = load.fills - fills0;
    await batcher.flush();
    marks.add(load.seq, performance.now(), load.fills);
    const atEnd = await readWatermark(pool);
    const persistedInWindow = marks.fillsUpTo(atEnd) - fills0;
    status('persistence: draining');
    const drainStart = performance.now();
    while ((await readWatermark(pool)) < load.seq) {
      if (performance.now() - drainStart > 300_000) throw new Error('drain took over 5 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    // While draining the engine is idle: the backlog shows what persistence alone sustains on this machine.
    const drainFills = load.fills - fills0 - (marks.fillsUpTo(atEnd) - fills0);
    stopSampler = true;
    await sampler;
    void sampledAt;

    status(`persistence: raw bulk insert of the first ${sampleFills} fills' rows`);
    const merged: Batch = {
      fromSeq: sample[0]!.fromSeq,
      toSeq: sample[sample.length - 1]!.toSeq,
      commands: sample.flatMap((b) => b.commands),
      events: sample.flatMap((b) => b.events),
    };
    const instrumentIds = new Map(load.engine.instruments().map((i) => [i.symbol, i.instrumentId]));
    const rows = batchRows(merged, (s) => instrumentIds.get(s) ?? null);
    const rawPool = await createDatabasePool(rawUrl, { maximumPoolSize: 1 });
    const raw = await rawInsert(rawPool, rows, 10_000);
    const server = await serverSideInsert(rawPool);
    await rawPool.end();
    const rowsPerFill = raw.rows / sampleFills;
    const rawRowsPerSec = raw.rows / raw.seconds;
    const fillsPerSec = persistedInWindow / o.seconds;
    const maxLagMs = Math.max(0, ...series.lagMs);
    const result = {
      workload: `${o.seconds} s offered at ${o.rate} fills/s (rounds of ${o.makers} resting orders swept by one taker, ${o.accounts} funded accounts, risk core on), durable batcher (1 ms / 5000 events), ${o.workers} worker process(es), ${o.concurrency} jobs in flight and ${o.writers} writers each`,
      fillsPerSec: Math.round(fillsPerSec),
      offeredFillsPerSec: Math.round(offered / o.seconds),
      rowsPerFill: Number(rowsPerFill.toFixed(2)),
      pipelineRowsPerSec: Math.round(fillsPerSec * rowsPerFill),
      rawRowsPerSec: Math.round(rawRowsPerSec),
      ratioToRaw: Number(((fillsPerSec * rowsPerFill) / rawRowsPerSec).toFixed(3)),
      maxLagMs: Math.round(maxLagMs),
      finalLagMs: Math.round(series.lagMs[series.lagMs.length - 1] ?? 0),
      drainSeconds: Number(drainSeconds.toFixed(2)),
      drainFillsPerSec: drainSeconds > 1 ? Math.round(drainFills / drainSeconds) : null,
      // The fair comparison on a machine where the engine and PostgreSQL share the cores: the raw insert
      // runs alone, and so does persistence while it drains.
      drainRatioToRaw:
        drainSeconds > 1
          ? Number((((drainFills / drainSeconds) * rowsPerFill) / rawRowsPerSec).toFixed(3))
          : null,
      rawSample: { fills: sampleFills, rows: raw.rows, seconds: Number(raw.seconds.toFixed(3)) },
      // PostgreSQL alone (see serverSideInsert): what no writer can exceed here, in rows and in fills.
      serverSideRowsPerSec: Math.round(server.rows / server.seconds),
      serverSideFillsPerSec: Math.round(server.rows / server.seconds / rowsPerFill),
      targets: {
        fillsPerSec: `20,000: ${fillsPerSec >= 20_000 ? 'met' : 'NOT met'}`,
        ratioToRaw: `0.5: ${(fillsPerSec * rowsPerFill) / rawRowsPerSec >= 0.5 ? 'met' : 'NOT met'}`,
      },
      plots: plots(series, o),
    };
    writeSeries(series);
    return result;
  } finally {
    await close().catch(() => {});
    for (const w of workers) w.kill('SIGTERM');
    await pool.end().catch(() => {});
    const q = new Queue(queueName, { connection: new Redis(o.redisUrl, { maxRetriesPerRequest: null }) });
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
    if (!o.keep) {
      await new Promise((r) => setTimeout(r, 500));
      await dropDatabase(o.databaseUrl, dbName).catch(() => {});
      await dropDatabase(o.databaseUrl, rawName).catch(() => {});
    }
  }
}

type Series = { t: number[]; lagMs: number[]; persistedFills: number[]; offeredFills: number[] };

function plots(s: Series, o: Options): Plot[] {
  const rate = (xs: number[]) =>
    xs.map((v, i): [number, number] => [
      s.t[i]!,
      i === 0 ? v / s.t[0]! : (v - xs[i - 1]!) / (s.t[i]! - s.t[i - 1]!),
    ]);
  return [
    {
      id: 'throughput',
      title: 'Fills per second: offered by the engine and persisted (watermark)',
      xLabel: 'seconds',
      yLabel: 'fills/s',
      series: [
        { name: 'offered', points: rate(s.offeredFills) },
        { name: 'persisted', points: rate(s.persistedFills) },
      ],
      note: `${o.rate} fills/s offered, ${o.workers} worker(s), ${o.writers} writers each`,
    },
    {
      id: 'lag',
      title: 'Lag from engine to database (age of the oldest unpersisted command)',
      xLabel: 'seconds',
      yLabel: 'ms',
      series: [{ name: 'lag', points: s.lagMs.map((v, i): [number, number] => [s.t[i]!, v]) }],
    },
  ];
}

function writeSeries(s: Series): void {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const lines = ['t_seconds,lag_ms,offered_fills,persisted_fills'];
  for (let i = 0; i < s.t.length; i++) {
    lines.push(`${s.t[i]!.toFixed(3)},${s.lagMs[i]!.toFixed(1)},${s.offeredFills[i]},${s.persistedFills[i]}`);
  }
  writeFileSync(path.join(dir, 'persistence-timeseries.csv'), `${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then(
    (result) => {
      const { plots: _p, ...numbers } = result;
      process.stdout.write(`${JSON.stringify(numbers)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(
        `bench persistence failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.stdout.write(
        `${JSON.stringify({ part: 'persistence', status: 'failed', error: String(error) })}\n`,
      );
      process.exit(1);
    },
  );
}
