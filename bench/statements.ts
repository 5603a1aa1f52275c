/**
 * `npm run bench -- statements`: PostgreSQL alone on the persistence pipeline's own statements. The
 * bench/persistence load (rounds of resting makers swept by one taker) is run through the engine first,
 * cut into batches of about `--fills-per-statement` fills (what the workers' group commit writes at
 * saturation), and turned into the workers' statements (persistence/writer.ts) before timing. Then they run
 * one after another on one connection: no engine, no Redis, no worker JavaScript beyond sending them. The
 * last statement runs under EXPLAIN ANALYZE, for PostgreSQL's own time per table (one statement: a
 * pointer to where the time goes, not a distribution).
 *
 * It answers what bench/persistence cannot separate: how much of a fill's cost is PostgreSQL's. Compare
 * `wallMicrosPerFill` here with bench/persistence's `serverSideFillsPerSec` (a plain INSERT ... SELECT of the
 * same rows): the difference is what the statement's shape costs.
 *
 *   npm run bench -- statements [--rounds 6000] [--fills-per-statement 400] [--repeats 3]
 */
import { randomBytes } from 'node:crypto';
import { type DatabasePool, type QuerySqlToken, sql } from 'slonik';
import type { Command } from '../engine/commands.js';
import { EventLog } from '../engine/event-log.js';
import { createDatabasePool } from '../persistence/db.js';
import { migrate } from '../persistence/migrate.js';
import { batchRows } from '../persistence/rows.js';
import { batchStatement } from '../persistence/writer.js';
import { decodeBatch, encodeBatch } from '../src/pipeline/codec.js';
import { Sealed } from '../src/pipeline/sealed.js';
import type { Batch } from '../src/pipeline/types.js';
import { Flags } from './lib/args.js';
import { dropDatabase, Load, sibling } from './lib/fill-rounds.js';
import { status } from './lib/progress.js';
import { round, roundSpread, summarize } from './lib/stats.js';

interface Statement {
  query: QuerySqlToken;
  fills: number;
}

/** The load, batched as the durable batcher would (its jobs, as a worker decodes them), cut by fills. */
function buildStatements(rounds: number, fillsPerStatement: number): Statement[] {
  const batches: { batch: Batch; fills: number }[] = [];
  let commands: Command[] = [];
  let log = new EventLog();
  let fillsBefore = 0;
  const cut = () => {
    if (commands.length === 0) return;
    const sealed = new Sealed(commands[0]!.seq, commands.at(-1)!.seq, commands, log);
    batches.push({ batch: decodeBatch(encodeBatch(sealed)), fills: load.fills - fillsBefore });
    commands = [];
    log = new EventLog();
    fillsBefore = load.fills;
  };
  const load = new Load(2_000, 8, {
    get log() {
      return log;
    },
    push: (cmd) => commands.push(cmd),
  });
  const ts = Date.now() * 1000;
  load.setup(ts);
  cut(); // the set-up (instrument, users, accounts, deposits) is a statement of its own, not timed
  for (let r = 0; r < rounds; r++) {
    load.step(ts + r);
    if (load.fills - fillsBefore >= fillsPerStatement) cut();
  }
  cut();
  const ids = new Map(load.engine.instruments().map((i) => [i.symbol, i.instrumentId]));
  return batches.map(({ batch, fills }) => ({
    query: batchStatement(
      [batch],
      batchRows(batch, (symbol) => ids.get(symbol) ?? null),
    ),
    fills,
  }));
}

interface PlanNode {
  'Node Type': string;
  'Subplan Name'?: string;
  'Actual Total Time'?: number;
  Plans?: PlanNode[];
}

/** PostgreSQL's own milliseconds per table (the statement's CTEs are named w_<table>). */
function perTable(plan: PlanNode): Record<string, number> {
  const out: Record<string, number> = { persisted_batches: round(plan['Actual Total Time'] ?? 0) };
  for (const p of plan.Plans ?? []) {
    const name = p['Subplan Name']?.replace(/^CTE w_/, '');
    if (name !== undefined) out[name] = round(p['Actual Total Time'] ?? 0);
  }
  return out;
}

async function explain(pool: DatabasePool, s: Statement) {
  const rows = await pool.any(sql.unsafe`EXPLAIN (ANALYZE, FORMAT JSON) ${s.query}`);
  const [result] = Object.values(rows[0]!)[0] as [
    { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number },
  ];
  return {
    fills: s.fills,
    planningMs: round(result['Planning Time']),
    executionMs: round(result['Execution Time']),
    executionMicrosPerFill: round((result['Execution Time'] * 1000) / s.fills),
    msByTable: perTable(result.Plan),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const flags = new Flags(args);
  const rounds = flags.int('rounds', 6_000, 10);
  const fillsPerStatement = flags.int('fills-per-statement', 400, 1);
  const repeats = flags.int('repeats', 3, 1);
  const databaseUrl = flags.str(
    'database-url',
    process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/exchange',
  );
  flags.done();

  status(`statements: building the statements of ${rounds.toLocaleString('en-US')} rounds`);
  const all = buildStatements(rounds, fillsPerStatement);
  const [setup, ...timed] = all;
  const probe = timed.pop()!;
  const dbName = `exch_bench_stmt_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbUrl = sibling(databaseUrl, dbName);
  status(`statements: database ${dbName}, ${timed.length} timed statements in ${repeats} runs`);
  await migrate({ databaseUrl: dbUrl });
  const pool = await createDatabasePool(dbUrl, { maximumPoolSize: 1 });
  try {
    await pool.query(setup!.query);
    // Consecutive slices, in seq order as the workers would mostly write them.
    const per = Math.ceil(timed.length / repeats);
    const rates: number[] = [];
    const clientMicros: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const slice = timed.slice(r * per, (r + 1) * per);
      const fills = slice.reduce((n, s) => n + s.fills, 0);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (const s of slice) await pool.query(s.query);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      rates.push(fills / seconds);
      clientMicros.push((cpu.user + cpu.system) / fills);
      status(`statements: run ${r + 1}: ${Math.round(fills / seconds).toLocaleString('en-US')} fills/s`);
    }
    // The probe, the load's last statement, runs after all the others: tables at their steady state.
    const explained = await explain(pool, probe);
    const rate = summarize(rates);
    return {
      workload: `the persistence pipeline's statements (persistence/writer.ts) for ${rounds.toLocaleString('en-US')} rounds of 8 resting orders swept by one taker (2,000 accounts, risk core on), about ${fillsPerStatement} fills a statement, run back to back on one connection`,
      fillsPerSec: Math.round(rate.median),
      // Wall time per fill on one connection: PostgreSQL plus the client sending (clientCpuMicrosPerFill).
      wallMicrosPerFill: round(1e6 / rate.median),
      clientCpuMicrosPerFill: round(summarize(clientMicros).median),
      statements: timed.length,
      fillsPerSecSpread: roundSpread(rate),
      explain: explained,
    };
  } finally {
    await pool.end();
    await dropDatabase(databaseUrl, dbName).catch(() => {});
  }
}
