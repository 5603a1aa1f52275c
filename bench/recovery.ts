/**
 * Recovery benchmark: how long a restart takes.
 *
 * 1. Replay rate of the core: the seeded mixed flow (bench/flow.ts: limit/cancel/market, risk on) replayed
 *    into a fresh engine exactly as recovery does (one reused event array), for each --sizes entry.
 * 2. Journal replay: the same commands persisted in command_journal of a fresh database, then recover()
 *    timed end to end (page reads with json_agg, JSON.parse, replay, hash checks), without a snapshot, for
 *    journals up to --journal-max commands (writing a 5M journal takes longer than the replay itself).
 * 3. Restart with resting orders: an engine holding N resting orders (--resting), snapshotted the way the
 *    server does (serialize on the engine thread = the pause; hash and gzip off-thread), then recover()
 *    timed with the snapshot (load, gunzip, restore, verify the snapshot hash, replay a tail of --tail
 *    commands) and without it (replaying the N orders from the journal). Then the server's default: a
 *    replica thread (src/recovery/replica.ts) opens on that database and takes a snapshot, while this
 *    thread measures its own longest stall (the pause order flow would see: the headline
 *    snapshotPauseMsWith1MRestingOrders; the live engine's serialization is ...FromLiveEngine).
 * 4. Whether parsing journal pages on worker threads could pay: the cost to parse a page against the cost
 *    to hand the parsed page to another thread (structured clone), which a worker would have to pay.
 *
 *   npm run bench -- recovery [--sizes 100000,1000000,5000000] [--journal-max 1000000]
 *                             [--resting 100000,1000000] [--tail 10000] [--quick]
 *   node dist/bench/recovery.js [same flags]     (last stdout line: the JSON result)
 *
 * --quick: sizes 100k, journal 100k, resting 100k (a minute or so).
 */
import { pathToFileURL } from 'node:url';
import { type DatabasePool, sql } from 'slonik';
import type { Command } from '../engine/commands.js';
import type { Engine } from '../engine/engine.js';
import { Engine as EngineClass } from '../engine/engine.js';
import { EventLog } from '../engine/event-log.js';
import type { EngineEvent } from '../engine/events.js';
import { snapshotEngine } from '../engine/snapshot.js';
import { createDatabasePool } from '../persistence/db.js';
import { migrate } from '../persistence/migrate.js';
import { recover } from '../src/recovery/recover.js';
import { startReplica } from '../src/recovery/replica-host.js';
import type { ReplicaMessage } from '../src/recovery/replica-thread.js';
import { takeSnapshot } from '../src/recovery/snapshotter.js';
import {
  BENCH_EPOCH_MICROS,
  BENCH_INSTRUMENT,
  BENCH_SYMBOL,
  generateFlow,
  toEngineCommands,
} from './flow.js';
import { Flags } from './lib/args.js';
import { dryRun, type Session } from './lib/engine-session.js';
import { type Plot, recoveryPlot } from './lib/plot.js';
import { status } from './lib/progress.js';

const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

const ints = (s: string): number[] =>
  s
    .split(',')
    .filter((x) => x.length > 0)
    .map((x) => Number(x.replaceAll('_', '')));

/** Setup (instrument, 1,000 funded accounts) recorded as commands, and the session the flow runs in. */
function setup(): { commands: Command[]; session: Session } {
  const engine = new EngineClass({ risk: true });
  const commands: Command[] = [];
  const out: EngineEvent[] = [];
  const apply = (body: Record<string, unknown>) => {
    const seq = engine.lastSeq + 1;
    const cmd = { ...body, seq, ts: BENCH_EPOCH_MICROS - 1_000_000 + seq } as unknown as Command;
    out.length = 0;
    engine.apply(cmd, out);
    commands.push(cmd);
    return out;
  };
  apply({ ...BENCH_INSTRUMENT });
  const accountIds: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const user = apply({ type: 'create_user', name: `bench-${i + 1}`, email: null }).find(
      (e) => e.type === 'user_created',
    );
    const opened = apply({
      type: 'open_account',
      userId: (user as { userId: number }).userId,
      currency: 'USD',
      maxLeverage: '10',
      marginEnabled: true,
      autoLiquidation: true,
    }).find((e) => e.type === 'account');
    const accountId = (opened as { accountId: number }).accountId;
    // 10 million: below 2^53 units (about 90 million), where amounts are plain numbers, as almost every real
    // account's are; 100 million (until 2026-11-25) replayed every amount on the exact bigint path.
    apply({ type: 'deposit', accountId, amount: '10000000' });
    accountIds.push(accountId);
  }
  return {
    commands,
    session: { engine, accountIds, firstSeq: engine.lastSeq + 1, out, log: new EventLog() },
  };
}

/** The setup commands, then the seeded mixed flow with cancels aimed at the ids the engine assigns. */
function mixedFlow(ops: number): { setup: Command[]; flow: Command[] } {
  const { commands, session } = setup();
  const flow = generateFlow({ ops, seed: 42 });
  const cmds = toEngineCommands(flow, { accountIds: session.accountIds, firstSeq: session.firstSeq });
  dryRun(session, cmds, flow); // re-targets cancels in place, and checks the final book
  return { setup: commands, flow: cmds };
}

function replay(commands: readonly Command[], engine: Engine = new EngineClass({ risk: true })): Engine {
  for (let i = 0; i < commands.length; i++) engine.replay(commands[i]);
  return engine;
}

/** A fresh database holding `commands` as the journal, persisted up to the last one. */
async function journalDb(
  name: string,
  commands: readonly Command[],
): Promise<{ pool: DatabasePool; url: string }> {
  const url = `${PG}/${name}`;
  await migrate({ databaseUrl: url });
  const pool = await createDatabasePool(url, { maximumPoolSize: 3, statementTimeout: 600_000 });
  const chunk = 20_000;
  for (let i = 0; i < commands.length; i += chunk) {
    const part = commands.slice(i, i + chunk);
    await pool.query(sql.unsafe`
      INSERT INTO command_journal (seq, command_type, command, ts)
      SELECT s, t, c::json, exch_us_to_ts(u)
      FROM unnest(${sql.array(
        part.map((c) => c.seq),
        'int8',
      )}, ${sql.array(
        part.map((c) => c.type),
        'text',
      )}, ${sql.array(
        part.map((c) => JSON.stringify(c)),
        'text',
      )}, ${sql.array(
        part.map((c) => c.ts),
        'int8',
      )}) AS x(s, t, c, u)`);
  }
  const last = commands.length === 0 ? 0 : commands[commands.length - 1].seq;
  if (last > 0) {
    await pool.query(
      sql.unsafe`INSERT INTO persisted_batches (from_seq, to_seq, events) VALUES (1, ${last}, 0)`,
    );
  }
  return { pool, url };
}

async function dropDb(pool: DatabasePool, name: string): Promise<void> {
  await pool.end();
  const admin = await createDatabasePool(`${PG}/postgres`, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
  await admin.end();
}

/** Commands that leave `n` resting orders: passive limits on both sides, spread over 2,000 ticks each way. */
function restingOrders(firstSeq: number, n: number): Command[] {
  const out: Command[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const buy = i % 2 === 0;
    const tick = buy ? 9000 - (i % 2000) : 11000 + (i % 2000);
    const seq = firstSeq + i;
    out[i] = {
      type: 'place_order',
      accountId: 1 + (i % 1000),
      symbol: BENCH_SYMBOL,
      side: buy ? 'BUY' : 'SELL',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      quantity: String(1 + (i % 5)),
      price: `${Math.floor(tick / 100)}.${String(tick % 100).padStart(2, '0')}`,
      ...(i % 4 === 0 ? { clientOrderId: `r${i}` } : {}),
      seq,
      ts: BENCH_EPOCH_MICROS + seq,
    } as Command;
  }
  return out;
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
const r1 = (x: number) => Math.round(x * 10) / 10;
/** ms to seconds with three decimals. */
const secs = (ms: number) => Math.round(ms) / 1000;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const flags = new Flags(args);
  const quick = flags.bool('quick');
  const sizes = ints(flags.str('sizes', quick ? '100000' : '100000,1000000,5000000'));
  const journalMax = flags.int('journal-max', quick ? 100_000 : 1_000_000, 0);
  const resting = ints(flags.str('resting', quick ? '100000' : '100000,1000000'));
  const tail = flags.int('tail', 10_000, 0);
  flags.done();

  // 1 + 2: replay rate in memory, and through the journal
  const largest = Math.max(...sizes);
  status(`recovery: generating the mixed flow (${largest.toLocaleString('en-US')} commands)`);
  const { setup, flow } = mixedFlow(largest);
  const replayRows: Record<string, unknown>[] = [];
  for (const n of sizes) {
    const commands = setup.concat(flow.slice(0, n));
    replay(commands); // warm-up
    const t0 = performance.now();
    const engine = replay(commands);
    const memMs = performance.now() - t0;
    const row: Record<string, unknown> = {
      commands: commands.length,
      inMemoryMs: r1(memMs),
      inMemoryCommandsPerSec: rate(commands.length, memMs),
    };
    if (n <= journalMax) {
      status(`recovery: journal of ${commands.length.toLocaleString('en-US')} commands into PostgreSQL`);
      const name = `exch_bench_recovery_${n}_${Date.now().toString(36)}`;
      const { pool } = await journalDb(name, commands);
      try {
        const r = await recover({ pool, snapshot: 'none' });
        if (r.engine.stateHash() !== engine.stateHash())
          throw new Error('journal replay differs from memory');
        row.journalMs = r1(r.ms.total);
        row.journalCommandsPerSec = rate(commands.length, r.ms.total);
      } finally {
        await dropDb(pool, name);
      }
    }
    replayRows.push(row);
    status(`recovery: ${JSON.stringify(row)}`);
  }

  // 4: would worker threads pay for parsing pages?
  const page = JSON.stringify(flow.slice(0, 50_000));
  let t = performance.now();
  const parsed = JSON.parse(page);
  const parseMs = performance.now() - t;
  t = performance.now();
  structuredClone(parsed);
  const cloneMs = performance.now() - t;

  // 3: restart with resting orders, with and without a snapshot
  const restartRows: Record<string, unknown>[] = [];
  for (const n of resting) {
    status(`recovery: restart with ${n.toLocaleString('en-US')} resting orders`);
    const orders = restingOrders(setup.length + 1, n);
    const tailCmds = flow.slice(0, tail).map((c, i) => ({ ...c, seq: setup.length + n + 1 + i }) as Command);
    // the tail's cancels name ids from the flow's own numbering: on this book they are refusals, still replayed
    const all = setup.concat(orders, tailCmds);
    const name = `exch_bench_restart_${n}_${Date.now().toString(36)}`;
    const { pool, url } = await journalDb(name, all);
    try {
      const live = replay(setup.concat(orders));
      if (live.orders.size !== n) throw new Error(`expected ${n} resting orders, have ${live.orders.size}`);
      let t = performance.now();
      snapshotEngine(live);
      const serializeMs = performance.now() - t;
      t = performance.now();
      live.stateHash();
      const liveHashMs = performance.now() - t;
      // as at a checkpoint: the live hash recorded at the snapshot's seq proves the snapshot
      const snap = await takeSnapshot(live, pool, { offThread: true, proveWithLiveHash: true });
      replay(tailCmds, live);
      // CPU time too: on a shared machine wall time mostly measures the neighbours
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const withSnap = await recover({ pool });
      const withMs = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const withCpuMs = (c1.user + c1.system) / 1000;
      if (withSnap.engine.stateHash() !== live.stateHash()) throw new Error('restart from snapshot differs');
      t = performance.now();
      await recover({ pool, verifySnapshotHash: true });
      const verifiedMs = performance.now() - t;
      const t1 = performance.now();
      const without = await recover({ pool, snapshot: 'none' });
      const withoutMs = performance.now() - t1;
      if (without.engine.stateHash() !== live.stateHash()) throw new Error('restart from journal differs');
      const replica = await replicaSnapshot(url);
      restartRows.push({
        restingOrders: n,
        tailCommands: tail,
        withSnapshotSeconds: secs(withMs),
        withSnapshotPhasesMs: {
          snapshotLoadRestoreVerify: r1(withSnap.ms.snapshot),
          replayTail: r1(withSnap.ms.replay),
        },
        withSnapshotCpuSeconds: secs(withCpuMs),
        withSnapshotRehashedSeconds: secs(verifiedMs),
        withoutSnapshotSeconds: secs(withoutMs),
        snapshot: {
          serializePauseMs: r1(serializeMs),
          liveHashMs: r1(liveHashMs),
          proven: snap.proven,
          hashMsOffThread: r1(snap.hashMs),
          compressMsOffThread: r1(snap.compressMs),
          bytes: snap.bytes,
          storedBytes: snap.storedBytes,
        },
        replica,
      });
      status(`recovery: ${JSON.stringify(restartRows.at(-1))}`);
    } finally {
      await dropDb(pool, name);
    }
  }

  const million = restartRows.find((r) => r.restingOrders === 1_000_000);
  // Headlines from the longest journal measured each way: replay from PostgreSQL is the real restart path
  // (journals above --journal-max are replayed in memory only).
  const longest = (rows: typeof replayRows) =>
    rows.reduce<(typeof replayRows)[number] | undefined>(
      (a, b) => (a === undefined || (b.commands as number) > (a.commands as number) ? b : a),
      undefined,
    );
  const fromJournal = longest(replayRows.filter((r) => r.journalCommandsPerSec !== undefined));
  const inMemory = longest(replayRows);
  return {
    workload:
      `mixed flow (60% limit, 30% cancel, 10% market; risk on; 1,000 accounts) replayed in memory and from ` +
      `the PostgreSQL journal; restarts with ${resting.join(', ')} resting orders, snapshot + ${tail}-command tail`,
    replayCommandsPerSec: fromJournal?.journalCommandsPerSec ?? null,
    replayCommandsFromJournal: fromJournal?.commands ?? null,
    replayInMemoryCommandsPerSec: inMemory?.inMemoryCommandsPerSec,
    replayInMemoryCommands: inMemory?.commands ?? null,
    restartSecondsWith1MRestingOrders: million?.withSnapshotSeconds ?? null,
    restartCpuSecondsWith1MRestingOrders: million?.withSnapshotCpuSeconds ?? null,
    restartSecondsWith1MRestingOrdersWithoutSnapshot: million?.withoutSnapshotSeconds ?? null,
    snapshotPauseMsWith1MRestingOrders:
      (million?.replica as { engineThreadMaxStallMs?: number } | undefined)?.engineThreadMaxStallMs ?? null,
    snapshotPauseMsWith1MRestingOrdersFromLiveEngine:
      (million?.snapshot as { serializePauseMs?: number } | undefined)?.serializePauseMs ?? null,
    pageParse: { commands: 50_000, parseMs: r1(parseMs), structuredCloneMs: r1(cloneMs) },
    replay: replayRows,
    restart: restartRows,
    plots: recoveryPlots(replayRows, restartRows),
  };
}

/**
 * The server's default (src/recovery/replica.ts): a replica on its own thread recovers from the database,
 * then takes a snapshot on request. Meanwhile this thread stands in for the engine's: a timer every
 * millisecond records how late it fires, so the longest stall is what order flow would have seen.
 */
async function replicaSnapshot(databaseUrl: string): Promise<Record<string, unknown>> {
  const messages: ReplicaMessage[] = [];
  let maxStall = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    maxStall = Math.max(maxStall, now - last - 1);
    last = now;
  }, 1);
  const t0 = performance.now();
  const host = startReplica({ databaseUrl, risk: true, onMessage: (m) => messages.push(m) });
  const waitFor = async (type: ReplicaMessage['type']) => {
    while (!messages.some((m) => m.type === type || m.type === 'error')) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const err = messages.find((m) => m.type === 'error');
    if (err !== undefined) throw new Error(`replica: ${(err as { message: string }).message}`);
    return messages.find((m) => m.type === type)!;
  };
  try {
    const ready = (await waitFor('ready')) as Extract<ReplicaMessage, { type: 'ready' }>;
    const t1 = performance.now();
    host.snapshotNow();
    const snap = (await waitFor('snapshot')) as Extract<ReplicaMessage, { type: 'snapshot' }>;
    const t2 = performance.now();
    return {
      engineThreadMaxStallMs: r1(Math.max(0, maxStall)),
      replicaOpenMs: r1(ready.ms),
      replicaOpenWallMs: r1(t1 - t0),
      replicaSnapshotWallMs: r1(t2 - t1),
      replicaSnapshotPhasesMs: {
        serialize: r1(snap.serializeMs),
        restoreAndHash: r1(snap.proveMs),
        compress: r1(snap.compressMs),
        write: r1(snap.writeMs),
      },
    };
  } finally {
    clearInterval(ticker);
    await host.stop();
  }
}

/** Recovery time against journal length (replay), and restart time against resting orders. */
function recoveryPlots(
  replayRows: Record<string, unknown>[],
  restartRows: Record<string, unknown>[],
): Plot[] {
  const points = (
    rows: Record<string, unknown>[],
    x: string,
    y: string,
    scale: number,
  ): Array<[number, number]> =>
    rows.filter((r) => typeof r[y] === 'number').map((r) => [r[x] as number, (r[y] as number) * scale]);
  return [
    recoveryPlot(
      [
        {
          name: 'replay from the PostgreSQL journal',
          points: points(replayRows, 'commands', 'journalMs', 1e-3),
        },
        { name: 'replay in memory', points: points(replayRows, 'commands', 'inMemoryMs', 1e-3) },
      ],
      'mixed flow, risk on, no snapshot',
    ),
    {
      id: 'restart-vs-resting',
      title: 'Restart time vs resting orders',
      xLabel: 'resting orders',
      yLabel: 'restart time (s)',
      note: 'snapshot plus a 10,000-command tail, or the whole journal without a snapshot',
      series: [
        { name: 'with a snapshot', points: points(restartRows, 'restingOrders', 'withSnapshotSeconds', 1) },
        {
          name: 'without a snapshot',
          points: points(restartRows, 'restingOrders', 'withoutSnapshotSeconds', 1),
        },
      ],
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`recovery bench: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
