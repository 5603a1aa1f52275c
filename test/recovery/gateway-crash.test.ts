/**
 * The crash test with the whole product in the loop: the real server process (src/main.ts: migrations,
 * recovery, the uWebSockets.js gateway, admin HTTP, and the WORKERS persistence worker processes it forks)
 * on its own database, queue name and ports; set up through the admin interface; traded by ExchangeClient
 * traders (seeded) that record every ack and every private-stream update they receive. The server is
 * killed with SIGKILL at random moments, GATEWAY_CRASH_KILLS times (default 3), and restarted.
 *
 * The server runs from its TypeScript sources (`npm test` does not build): `node --import
 * ./ts-register.mjs src/main.ts` (jiti, plus a hook so main.ts's fork of `../persistence/main.js` finds the
 * `.ts`). It is spawned as a process-group leader, so its forked workers are found by group.
 *
 * The workers survive the engine's SIGKILL (they are separate processes, as a worker service on its own
 * would be): they keep persisting what is in the queue, which is the drain. Once the queue is drained and
 * the checks are done, the test stops them with SIGTERM (graceful: they exit once the jobs in hand are
 * committed), and the restarted server forks fresh ones.
 *
 * After each kill, with the server down and the queue drained:
 * - every ack and every private-stream update a client received is at or below the watermark;
 * - every order a client saw (ack or stream) is in `orders` with row seq >= the seq it was seen at, and
 *   exactly as seen (every field) when the row seq is that seq; every fill and ledger entry seen is persisted;
 * - checkDatabase (the offline check: a from-scratch replay compared with every table, ledger chains, every
 *   persisted state hash) finds no difference, and some state hashes were checked.
 * Then the server restarts and:
 * - the recovered engine's state hash equals the from-scratch replay's: the server exposes no hash, so the
 *   test sends the operator a `checkpoint` (POST /v1/checkpoints) before any trader command; its answer
 *   carries the engine's state hash at watermark + 1, which must equal the replay engine's after the same
 *   checkpoint command (and the next kill's checkDatabase checks that persisted hash again);
 * - the same client objects reconnect by themselves (their backoff) and, the restart being a new epoch, get
 *   a private snapshot: its open orders equal the database's open orders for the account (every field),
 *   its balance and open positions equal the database's rows.
 * Sometimes (seeded) the restarted server is also killed during start-up/recovery before the real restart.
 * At the end: the clients' incrementally maintained views equal open_orders and the engine's (admin) open
 * orders, and a graceful stop leaves a database that passes every check.
 *
 * GATEWAY_CRASH_SEED varies the moments and the order flow; GATEWAY_CRASH_KILLS the number of kills.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Command } from '../../engine/commands.js';
import type { OrderState } from '../../engine/events.js';
import { canonDecimal, ORDER_STATE_COLUMNS, orderStateFromRow } from '../../persistence/read-back.js';
import { readWatermark } from '../../persistence/watermark.js';
import {
  ExchangeClient,
  ExchangeError,
  type OrderAck,
  type PlaceParams,
  type PrivateSnapshot,
  type PrivateUpdate,
} from '../../src/client/index.js';
import { checkDatabase } from '../../src/recovery/compare.js';
import { waitForQueueDrained } from '../../src/recovery/queue-drain.js';
import { BTC_PERP } from '../fixtures.js';
import { freePort } from '../free-port.js';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../persistence/helpers.js';
import { Prng } from '../support/gen.js';

const ROOT = join(import.meta.dirname, '../..');
const REGISTER = join(import.meta.dirname, 'ts-register.mjs');
const SEED = Number(process.env.GATEWAY_CRASH_SEED ?? '20261201');
const KILLS = Number(process.env.GATEWAY_CRASH_KILLS ?? '3');
const TRADERS = 6;
const LOOPS_PER_TRADER = 2;
const WORKERS = 2;
const SYMBOL = BTC_PERP.symbol;
const ADMIN_TOKEN = `gateway-crash-${randomBytes(8).toString('hex')}`;
const rng = new Prng(SEED);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pids of the live (not zombie) processes in process group `pgid`. */
function groupPids(pgid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const line of out.split('\n')) {
    const [pid, group, stat] = line.trim().split(/\s+/);
    if (Number(group) === pgid && stat !== undefined && !stat.startsWith('Z')) pids.push(Number(pid));
  }
  return pids;
}

async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((p) => {
      try {
        const stat = execFileSync('ps', ['-o', 'stat=', '-p', String(p)], { encoding: 'utf8' }).trim();
        return stat !== '' && !stat.startsWith('Z');
      } catch {
        return false; // ps exits 1: no such process
      }
    });
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${alive}`);
    await sleep(50);
  }
}

/** One run of the product process (a new one per restart). */
class Server {
  readonly proc: ChildProcess;
  readonly pid: number;
  output = '';
  readonly exited: Promise<number | string | null>;

  constructor(env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, ['--import', REGISTER, 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: main.ts and the workers it forks
    });
    this.pid = this.proc.pid!;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    this.proc.stdout!.on('data', keep);
    this.proc.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves once /health says ready; returns ms since `since`. */
  async ready(port: number, since: number, timeoutMs = 90_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`server exited (${this.proc.exitCode}):\n${this.output}`);
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        if (r.ok && ((await r.json()) as { status?: string }).status === 'ready') return Date.now() - since;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`server not ready in ${timeoutMs} ms:\n${this.output}`);
  }

  /** Its "recovery done" log line (seq, snapshotSeq, replayed, ms); the log may reach us after /health. */
  async recovery(): Promise<{ seq: number; replayed: number; ms: { total: number } } | undefined> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const line = this.output
        .split('\n')
        .reverse()
        .find((l) => l.includes('"msg":"recovery done"'));
      if (line !== undefined) return JSON.parse(line);
      if (Date.now() > deadline) return undefined;
      await sleep(20);
    }
  }

  /** kill -9 the server process only; returns the pids of its (surviving) worker processes. */
  async kill9(): Promise<number[]> {
    if (this.alive) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    return groupPids(this.pid);
  }
}

/** What a client saw of an order: its state at engine seq `seq`. */
interface Seen {
  seq: number;
  order: OrderState;
  via: string;
}

interface Trader {
  name: string;
  apiKey: string;
  secret: string;
  client: ExchangeClient;
  accountId: number;
  rng: Prng;
  coid: number;
  /** Live orders as the private stream tells them: the snapshot, then each update applied. */
  view: Map<number, OrderState>;
  epoch: string | undefined;
  streamSeq: number;
  snapshot: PrivateSnapshot | null;
  /** When the last snapshot arrived (Date.now()). */
  snapshotAt: number;
  snapshots: number;
  updates: number;
  reconnects: number;
  inflight: number;
}

const live = (o: OrderState) =>
  o.status === 'NEW' || o.status === 'PARTIALLY_FILLED' || o.status === 'PENDING_TRIGGER';
const byId = (a: OrderState, b: OrderState) => a.orderId - b.orderId;
const canonJson = (o: object) => JSON.stringify(o, Object.keys(o).sort());
/**
 * The order's fields alone: private-stream updates and cancel_all answers carry the engine's `order` events,
 * which add type/seq/ts to the OrderState that acks, snapshots and open_orders carry (docs/protocol.md
 * documents OrderState for all of them).
 */
const orderOnly = (o: OrderState): OrderState => {
  const {
    type: _t,
    seq: _s,
    ts: _ts,
    ...order
  } = o as OrderState & { type?: string; seq?: number; ts?: number };
  return order;
};
/** A decimal string of `units` / 10^decimals. */
const fmt = (units: number, decimals: number): string =>
  canonDecimal((units / 10 ** decimals).toFixed(decimals));
/** BTC-PERP prices in ticks of 0.5 (100,000 ticks: 50000). */
const price = (ticks: number): string => fmt(ticks * 5, 1);

describe('gateway crash test: kill -9 the product process under client load', () => {
  let db: TestDatabase;
  let redis: Redis;
  const queueName = uniqueName('exch-gw-crash-q');
  let port = 0;
  let adminPort = 0;
  const servers: Server[] = [];
  let server: Server | null = null;
  const traders: Trader[] = [];

  const seen = new Map<number, Seen>();
  const seenTrades = new Set<number>();
  const seenLedger = new Set<number>();
  /** An ack and a stream update for the same order at the same seq that disagree (must stay empty). */
  const inconsistencies: string[] = [];
  const streamProblems: string[] = [];
  const unexpectedErrors: string[] = [];
  let maxSeenSeq = 0;
  const counts = { acks: 0, refused: 0, unknownOutcome: 0, checkpoints: 0, marks: 0, gaps: 0 };
  const refusals = new Map<string, number>();

  let trading = false;
  /** What the test is doing, for the record of connection closes and odd refusals. */
  let phase = 'setup';
  const events: string[] = [];
  let finished = false;
  const loops: Promise<void>[] = [];
  let lastCheckpointHashOk = 0;
  let lastReadyMs = 1500;

  /** What /health says right now ("down" when nothing answers). */
  const healthStatus = async (): Promise<string> => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(300) });
      return ((await r.json()) as { status: string }).status;
    } catch {
      return 'down';
    }
  };

  const env = (overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_NAME: queueName,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_HOST: '127.0.0.1',
    ADMIN_PORT: String(adminPort),
    ADMIN_TOKEN,
    WORKERS: String(WORKERS),
    LOG_LEVEL: 'info',
    ...overrides,
  });

  const startServer = async (): Promise<{ srv: Server; readyMs: number; started: number }> => {
    const started = Date.now();
    const srv = new Server(env());
    servers.push(srv);
    server = srv;
    const readyMs = await srv.ready(port, started);
    return { srv, readyMs, started };
  };

  // biome-ignore lint/suspicious/noExplicitAny: admin JSON, checked field by field
  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  const see = (o: OrderState, seq: number, via: string) => {
    maxSeenSeq = Math.max(maxSeenSeq, seq);
    const prev = seen.get(o.orderId);
    if (prev !== undefined && prev.seq === seq && canonJson(prev.order) !== canonJson(o)) {
      inconsistencies.push(
        `order ${o.orderId} at seq ${seq}: ${prev.via} ${JSON.stringify(prev.order)} vs ${via} ${JSON.stringify(o)}`,
      );
    }
    if (prev === undefined || prev.seq <= seq) seen.set(o.orderId, { seq, order: o, via });
  };

  const onAck = (ack: OrderAck, via: string) => {
    counts.acks++;
    see(ack.order, ack.seq, via);
    for (const f of ack.fills) seenTrades.add(f.tradeId);
  };

  const onPrivate = (t: Trader, msg: PrivateUpdate | PrivateSnapshot) => {
    if (msg.type === 'snapshot') {
      t.snapshots++;
      t.snapshot = msg;
      t.snapshotAt = Date.now();
      t.epoch = msg.epoch;
      t.streamSeq = msg.seq;
      t.view.clear();
      for (const o of msg.openOrders) t.view.set(o.orderId, o);
      maxSeenSeq = Math.max(maxSeenSeq, msg.engineSeq);
      return;
    }
    t.updates++;
    if (msg.epoch !== t.epoch || msg.seq !== t.streamSeq + 1) {
      streamProblems.push(`${t.name}: update ${msg.epoch}/${msg.seq} after ${t.epoch}/${t.streamSeq}`);
    }
    t.streamSeq = msg.seq;
    // The last state of each order in this command's update is its state at engineSeq.
    const last = new Map<number, OrderState>();
    for (const o of msg.orders) last.set(o.orderId, orderOnly(o));
    for (const o of last.values()) {
      see(o, msg.engineSeq, 'stream');
      if (live(o)) t.view.set(o.orderId, o);
      else t.view.delete(o.orderId);
    }
    for (const f of msg.fills) seenTrades.add(f.tradeId);
    for (const l of msg.ledger) seenLedger.add(l.entryId);
    maxSeenSeq = Math.max(maxSeenSeq, msg.engineSeq);
  };

  /** One trader action: place (resting or crossing), cancel, amend, or cancel all. */
  const act = async (t: Trader): Promise<void> => {
    const r = t.rng;
    const roll = r.int(0, 99);
    const ids = [...t.view.keys()];
    try {
      if (roll < 22 && ids.length > 0) {
        const o = t.view.get(r.pick(ids));
        if (o === undefined) return;
        const ack =
          o.clientOrderId !== null && r.chance(0.4)
            ? await t.client.cancel({ clientOrderId: o.clientOrderId })
            : await t.client.cancel({ orderId: o.orderId });
        onAck(ack, 'cancel');
      } else if (roll < 34 && ids.length > 0) {
        const o = t.view.get(r.pick(ids));
        if (o === undefined || o.price === null) return;
        const params: { orderId: number; price?: string; quantity?: string } = { orderId: o.orderId };
        if (r.chance(0.6)) params.price = price(Math.max(2, Math.round(Number(o.price) * 2) + r.int(-6, 6)));
        if (params.price === undefined || r.chance(0.4))
          params.quantity = fmt(Math.max(1, Math.round(Number(o.quantity) * 1000) + r.int(-3, 3)), 3);
        onAck(await t.client.amend(params), 'amend');
      } else if (roll < 35) {
        const res = await t.client.cancelAll({ symbol: SYMBOL });
        counts.acks++;
        for (const o of res.cancelled) see(orderOnly(o), res.seq, 'cancel_all');
      } else {
        const side = r.chance(0.5) ? 'BUY' : 'SELL';
        const kind = r.int(0, 99);
        const orderType = kind < 80 ? 'LIMIT' : kind < 90 ? 'MARKET' : kind < 96 ? 'STOP_LIMIT' : 'STOP';
        // ticks of 0.5 around 50000: buys mostly below, sells above; the negative offsets cross
        const offset = r.int(-8, 50);
        const ticks = 100_000 + (side === 'BUY' ? -offset : offset);
        const params: PlaceParams = {
          symbol: SYMBOL,
          side,
          orderType,
          quantity: fmt(r.int(1, 40), 3),
          timeInForce:
            orderType === 'MARKET' ? 'IOC' : r.chance(0.8) ? 'GTC' : r.pick(['IOC', 'FOK', 'DAY'] as const),
        };
        if (orderType === 'LIMIT' || orderType === 'STOP_LIMIT') params.price = price(ticks);
        if (orderType === 'STOP' || orderType === 'STOP_LIMIT') {
          const st = 100_000 + (side === 'BUY' ? r.int(2, 30) : -r.int(2, 30));
          params.stopPrice = price(st);
        }
        if (orderType === 'LIMIT' && r.chance(0.1)) params.postOnly = true;
        if (r.chance(0.5)) params.clientOrderId = `${t.name}-${++t.coid}`;
        onAck(await t.client.place(params), 'place');
      }
    } catch (e) {
      if (!(e instanceof ExchangeError)) {
        unexpectedErrors.push(`${t.name}: ${String(e)}`);
        return;
      }
      if (e.code === 'DISCONNECTED' || e.code === 'NOT_CONNECTED' || e.code === 'TIMEOUT') {
        counts.unknownOutcome++; // the order may or may not exist: only acked ones must
      } else {
        counts.refused++;
        refusals.set(e.code, (refusals.get(e.code) ?? 0) + 1);
        if (e.code === 'UNAUTHENTICATED' || e.code === 'UNAVAILABLE')
          events.push(`${t.name} ${e.code} in ${phase}: ${e.message}`);
      }
    }
  };

  const loop = async (t: Trader): Promise<void> => {
    while (!finished) {
      if (!trading || !t.client.connected) {
        await sleep(10);
        continue;
      }
      t.inflight++;
      try {
        await act(t);
      } finally {
        t.inflight--;
      }
    }
  };

  /** The operator during the load: checkpoints (state hashes to check) and mark price moves. */
  const operatorLoop = async (): Promise<void> => {
    const r = new Prng(SEED ^ 0x5eed);
    while (!finished) {
      await sleep(r.int(150, 400));
      if (!trading) continue;
      try {
        if (r.chance(0.6)) {
          await admin('POST', '/v1/checkpoints', {});
          counts.checkpoints++;
        } else {
          await admin('POST', '/v1/mark-prices', { symbol: SYMBOL, price: price(100_000 + r.int(-20, 20)) });
          counts.marks++;
        }
      } catch {
        // the server was killed under it
      }
    }
  };

  /** Lets the load run `ms`, and at least until `acks` more acks and a checkpoint came. */
  const run = async (ms: number, acks = 50) => {
    const target = counts.acks + acks;
    const cps = counts.checkpoints + 1;
    const deadline = Date.now() + 60_000;
    trading = true;
    phase = 'trading';
    await sleep(ms);
    while ((counts.acks < target || counts.checkpoints < cps) && Date.now() < deadline) await sleep(20);
    expect(counts.acks).toBeGreaterThanOrEqual(target);
  };

  /** With the server down and the queue drained: every check on the database; returns the replay. */
  const quiesceAndCheck = async () => {
    await waitForQueueDrained({ connection: redis, queueName, timeoutMs: 60_000 });
    const watermark = await readWatermark(db.pool);
    expect(maxSeenSeq, 'something a client saw is above the watermark').toBeLessThanOrEqual(watermark);

    const check = await checkDatabase({ pool: db.pool });
    expect(
      check.differences.slice(0, 30),
      `${check.differenceCount} difference(s) at watermark ${watermark}`,
    ).toEqual([]);
    expect(check.watermark).toBe(watermark);
    expect(check.hashesChecked).toBeGreaterThan(0);

    const rows = await db.pool.any(
      sql.unsafe`SELECT ${ORDER_STATE_COLUMNS} FROM orders WHERE engine_id = ANY(${sql.array([...seen.keys()], 'int8')})`,
    );
    const persisted = new Map(rows.map((row) => [Number(row.orderId), orderStateFromRow(row)]));
    const missing: number[] = [];
    for (const [id, s] of seen) {
      const p = persisted.get(id);
      if (p === undefined) {
        missing.push(id);
        continue;
      }
      expect(p.seq, `order ${id} (${s.via}): persisted state older than seen`).toBeGreaterThanOrEqual(s.seq);
      if (p.seq === s.seq) expect(p.order, `order ${id} as seen (${s.via}) at seq ${s.seq}`).toEqual(s.order);
    }
    expect(missing, 'orders a client saw that are not persisted').toEqual([]);
    const trades = await db.pool.oneFirst(
      sql.unsafe`SELECT count(DISTINCT trade_id) FROM trades WHERE trade_id = ANY(${sql.array([...seenTrades], 'int8')})`,
    );
    expect(Number(trades), 'trades a client saw').toBe(seenTrades.size);
    const ledger = await db.pool.oneFirst(
      sql.unsafe`SELECT count(*) FROM account_ledger WHERE engine_id = ANY(${sql.array([...seenLedger], 'int8')})`,
    );
    expect(Number(ledger), 'ledger entries a client saw').toBe(seenLedger.size);
    expect(inconsistencies).toEqual([]);
    return { watermark, check };
  };

  /** The engine's hash after recovery, through an operator checkpoint, against the replay's. */
  const checkRecoveredHash = async (watermark: number, replay: Awaited<ReturnType<typeof checkDatabase>>) => {
    const r = await admin('POST', '/v1/checkpoints', {});
    expect(r.seq, 'the first command after recovery').toBe(watermark + 1);
    const event = r.events.find((e: { type: string }) => e.type === 'state_hash');
    expect(event).toBeDefined();
    const engine = replay.engine;
    expect(engine.lastSeq).toBe(watermark);
    engine.replay({ type: 'checkpoint', seq: r.seq, ts: r.ts } as Command);
    expect(event.hash, `state hash at seq ${r.seq}: recovered engine vs from-scratch replay`).toBe(
      engine.stateHash(),
    );
    lastCheckpointHashOk = r.seq;
  };

  /** Every client reconnected by itself and got a snapshot of the new epoch; it matches the database. */
  const checkResync = async (
    oldEpochs: Map<string, string | undefined>,
    watermark: number,
    since: number,
  ) => {
    // A snapshot that arrived after this server was spawned comes from it (earlier runs are dead by then).
    const deadline = Date.now() + 60_000;
    while (traders.some((t) => !t.client.connected || t.snapshotAt <= since) && Date.now() < deadline)
      await sleep(20);
    for (const t of traders) {
      expect(t.client.connected, `${t.name} reconnected`).toBe(true);
      expect(t.snapshotAt, `${t.name}: a snapshot from the restarted server`).toBeGreaterThan(since);
      expect(t.epoch, `${t.name}: a new epoch`).not.toBe(oldEpochs.get(t.name));
    }
    const dbOrders = await db.pool.any(sql.unsafe`
      SELECT ${ORDER_STATE_COLUMNS} FROM orders
      WHERE status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_TRIGGER') ORDER BY engine_id`);
    const open = dbOrders.map((row) => orderStateFromRow(row).order);
    const accounts = await db.pool.any(
      sql.unsafe`SELECT engine_id AS "accountId", balance FROM accounts ORDER BY engine_id`,
    );
    const positions = await db.pool.any(sql.unsafe`
      SELECT exch_uuid_id(account_id) AS "accountId", symbol, side, quantity, entry_price AS "entryPrice"
      FROM positions WHERE quantity > 0 ORDER BY engine_id`);
    for (const t of traders) {
      const snap = t.snapshot!;
      expect(snap.engineSeq).toBeGreaterThanOrEqual(watermark);
      expect([...t.view.values()].sort(byId), `${t.name}: open orders after resync`).toEqual(
        open.filter((o) => o.accountId === t.accountId),
      );
      const acc = accounts.find((a) => Number(a.accountId) === t.accountId)!;
      expect(snap.account?.balance, `${t.name}: balance`).toBe(canonDecimal(String(acc.balance)));
      const mine = positions
        .filter((p) => Number(p.accountId) === t.accountId)
        .map((p) => ({
          symbol: p.symbol,
          side: p.side,
          quantity: canonDecimal(String(p.quantity)),
          entryPrice: p.entryPrice === null ? null : canonDecimal(String(p.entryPrice)),
        }));
      expect(
        snap.positions
          .filter((p) => p.quantity !== '0')
          .map((p) => ({ symbol: p.symbol, side: p.side, quantity: p.quantity, entryPrice: p.entryPrice })),
        `${t.name}: open positions`,
      ).toEqual(mine);
    }
  };

  /** Stops the surviving workers of a killed server gracefully. */
  const stopWorkers = async (pids: number[]) => {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    await waitGone(pids, 30_000);
  };

  beforeAll(async () => {
    db = await createTestDatabase('exch_gw_crash');
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    port = await freePort();
    adminPort = await freePort();
    lastReadyMs = (await startServer()).readyMs;

    await admin('POST', '/v1/instruments', BTC_PERP);
    await admin('POST', '/v1/mark-prices', { symbol: SYMBOL, price: '50000' });
    for (let i = 0; i < TRADERS; i++) {
      const name = `t${i + 1}`;
      const user = await admin('POST', '/v1/users', { name, email: `${name}@example.com` });
      const userId = user.events.find((e: { type: string }) => e.type === 'user_created').userId;
      const account = await admin('POST', '/v1/accounts', {
        userId,
        currency: 'USD',
        maxLeverage: '10',
        marginEnabled: true,
        autoLiquidation: true,
      });
      const accountId = account.events.find((e: { type: string }) => e.type === 'account').accountId;
      await admin('POST', '/v1/deposits', { accountId, amount: '100000000' });
      const key = await admin('POST', '/v1/api-keys', { userId, label: name });
      const client = new ExchangeClient({
        url: `ws://127.0.0.1:${port}/ws`,
        apiKey: key.apiKey,
        secret: key.secret,
        backoffInitialMs: 100,
        backoffMaxMs: 1000,
      });
      const t: Trader = {
        name,
        apiKey: key.apiKey,
        secret: key.secret,
        client,
        accountId,
        rng: new Prng(SEED * 31 + i),
        coid: 0,
        view: new Map(),
        epoch: undefined,
        streamSeq: 0,
        snapshot: null,
        snapshotAt: 0,
        snapshots: 0,
        updates: 0,
        reconnects: 0,
        inflight: 0,
      };
      client.on('reconnected', () => t.reconnects++);
      client.on('close', (c) => events.push(`${name} close ${JSON.stringify(c)} in ${phase}`));
      client.on('gap', () => counts.gaps++);
      await client.connect();
      expect(client.accountIds).toEqual([accountId]);
      await client.subscribePrivate((m) => onPrivate(t, m));
      traders.push(t);
    }
    for (const t of traders) for (let k = 0; k < LOOPS_PER_TRADER; k++) loops.push(loop(t));
    loops.push(operatorLoop());
  }, 120_000);

  afterAll(async () => {
    finished = true;
    trading = false;
    for (const t of traders) t.client.close();
    await Promise.race([Promise.allSettled(loops), sleep(5000)]);
    // every process group this test started: the server runs and the workers they forked
    for (const s of servers) {
      try {
        process.kill(-s.pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    await Promise.allSettled(servers.map((s) => waitGone([s.pid, ...groupPids(s.pid)], 10_000)));
    redis?.disconnect();
    await db?.drop();
  }, 60_000);

  test(
    `the server is killed -9 at random moments ${KILLS} times under client load; nothing acked is lost`,
    async () => {
      const report: object[] = [];
      for (let k = 1; k <= KILLS; k++) {
        await run(rng.int(700, 2500));
        phase = `kill ${k}`;
        const workerPids = await server!.kill9();
        trading = false;
        phase = `down ${k}`;
        const killedAt = Date.now();
        expect(workerPids.length, 'the workers outlive the engine').toBe(WORKERS);
        const oldEpochs = new Map(traders.map((t) => [t.name, t.epoch]));
        const { watermark, check } = await quiesceAndCheck();
        await stopWorkers(workerPids);

        // Now and then the restart itself is killed, during start-up or recovery.
        const earlyKills: string[] = [];
        while (rng.chance(0.3)) {
          phase = `early restart ${k}`;
          const early = new Server(env());
          servers.push(early);
          server = early;
          // anywhere from start-up (migrations, forking the workers) through recovery to just after ready
          await sleep(rng.int(100, lastReadyMs + 300));
          earlyKills.push(await healthStatus());
          phase = `early kill ${k}`;
          await stopWorkers(await early.kill9());
          await waitForQueueDrained({ connection: redis, queueName, timeoutMs: 60_000 });
          expect(await readWatermark(db.pool)).toBe(watermark);
        }

        phase = `restart ${k}`;
        const { srv, readyMs, started } = await startServer();
        phase = `restarted ${k}`;
        lastReadyMs = readyMs;
        const rec = await srv.recovery();
        expect(rec?.seq).toBe(watermark);
        await checkRecoveredHash(watermark, check);
        await checkResync(oldEpochs, watermark, started);
        report.push({
          kill: k,
          watermark,
          hashesChecked: check.hashesChecked,
          earlyKills,
          replayed: rec?.replayed,
          recoverMs: Math.round(rec?.ms.total ?? 0),
          downMs: Date.now() - killedAt,
          readyMs,
          acks: counts.acks,
          ordersSeen: seen.size,
        });
      }
      expect(lastCheckpointHashOk).toBeGreaterThan(0);

      // The clients' views, kept from the resync snapshot by the updates since, against the gateway's
      // open_orders and the engine's (admin) once the load stops.
      await run(rng.int(500, 1500));
      trading = false;
      phase = 'final';
      while (traders.some((t) => t.inflight > 0)) await sleep(10);
      await sleep(300);
      for (const t of traders) {
        const viewed = [...t.view.values()].sort(byId);
        const answered = await t.client.openOrders({ symbol: SYMBOL });
        expect(viewed, `${t.name}: view vs open_orders`).toEqual(answered.orders.map(orderOnly).sort(byId));
        const engineOrders = (await admin('GET', `/v1/accounts/${t.accountId}/orders`)) as OrderState[];
        expect(viewed, `${t.name}: view vs engine`).toEqual(engineOrders.map(orderOnly).sort(byId));
      }

      // A graceful stop persists everything and stops the workers.
      const last = server!;
      process.kill(last.pid, 'SIGTERM');
      expect(await last.exited).toBe(0);
      await waitGone(groupPids(last.pid), 30_000);
      await quiesceAndCheck();

      expect(streamProblems.slice(0, 10), `${streamProblems.length} private-stream problem(s)`).toEqual([]);
      expect(unexpectedErrors.slice(0, 10), `${unexpectedErrors.length} unexpected error(s)`).toEqual([]);
      expect(seen.size).toBeGreaterThan(200);
      const summary = {
        seed: SEED,
        kills: report,
        counts,
        refusals: Object.fromEntries(refusals),
        events: events.filter((e) => !/close .* in (kill|down|early kill) \d+$/.test(e)).slice(0, 40),
        traders: traders.map((t) => ({
          name: t.name,
          snapshots: t.snapshots,
          updates: t.updates,
          reconnects: t.reconnects,
          open: t.view.size,
        })),
      };
      process.stdout.write(`gateway crash: ${JSON.stringify(summary)}\n`);
    },
    120_000 + KILLS * 45_000,
  );
  /**
   * Found by this test (fixed in src/gateway/requests.ts): the WebSocket port opens before recovery ends
   * (for /health), and a login then read the half-recovered engine: before the accounts were replayed it got
   * `accountIds: []` and stayed unusable; during the replay its account view was seeded from a partial
   * state, wrong until the next restart. Now every request but time/ping is refused UNAVAILABLE until the
   * server is open. This pins it deterministically: recovery waits in 'draining' for a batch nobody
   * persists yet (WORKERS=0). (The crash loop above lets clients reconnect during recovery too.)
   */
  test('a login while the server recovers is refused (UNAVAILABLE), then works on the recovered engine', async () => {
    const t = traders[0];
    // A run without workers: the batch it releases stays in the queue.
    const a = new Server(env({ WORKERS: '0' }));
    servers.push(a);
    server = a;
    await a.ready(port, Date.now());
    await admin('POST', '/v1/deposits', { accountId: t.accountId, amount: '1' });
    await a.kill9();
    // The next run's recovery waits for that batch to be persisted.
    const b = new Server(env({ WORKERS: '0' }));
    servers.push(b);
    server = b;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const h = await fetch(`http://127.0.0.1:${port}/health`)
        .then(
          (r) =>
            r.json() as Promise<{ status: string; progress?: { phase?: string; pendingBatches?: number } }>,
        )
        .catch(() => null);
      if (
        h?.status === 'recovering' &&
        h.progress?.phase === 'draining' &&
        (h.progress.pendingBatches ?? 0) > 0
      )
        break;
      if (Date.now() > deadline || !b.alive)
        throw new Error(`recovery never waited for the queue:\n${b.output}`);
      await sleep(20);
    }
    const url = `ws://127.0.0.1:${port}/ws`;
    let c = new ExchangeClient({ url, apiKey: t.apiKey, secret: t.secret, reconnect: false });
    let refused: ExchangeError | undefined;
    try {
      await c.connect();
    } catch (e) {
      if (!(e instanceof ExchangeError)) throw e;
      refused = e;
    }
    try {
      await waitForQueueDrained({ connection: redis, queueName, selfDrain: { databaseUrl: db.url } });
      await b.ready(port, Date.now());
      if (refused === undefined) {
        expect(c.accountIds, 'the accounts a login during recovery is given').toEqual([t.accountId]);
      } else {
        expect(refused.code).toBe('UNAVAILABLE');
        c = new ExchangeClient({ url, apiKey: t.apiKey, secret: t.secret, reconnect: false });
        await c.connect();
      }
      const rows = await db.pool.any(sql.unsafe`
        SELECT ${ORDER_STATE_COLUMNS} FROM orders
        WHERE status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_TRIGGER') ORDER BY engine_id`);
      const open = rows.map((row) => orderStateFromRow(row).order).filter((o) => o.accountId === t.accountId);
      const answered = await c.openOrders({ symbol: SYMBOL });
      expect(answered.orders.map(orderOnly).sort(byId)).toEqual(open);
    } finally {
      c.close();
      await b.kill9();
    }
  }, 120_000);
});
