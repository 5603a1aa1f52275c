/**
 * The big one: a seeded random flow of 12,000 commands over many accounts runs through the real engine,
 * the durable output batcher, BullMQ and two workers; then the database must agree exactly with the engine:
 * every account, position, order and trade, and every ledger chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandBody } from '../../engine/commands.js';
import type { EngineEvent } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import { createBullOutputBatcher } from '../../src/pipeline/batcher.js';
import { FlowGenerator, setupCommands } from '../support/gen.js';
import { expectReconciled } from './expect-reconciled.js';
import { createTestDatabase, REDIS_URL, type TestDatabase } from './helpers.js';
import { TEST_JOB_OPTIONS, TestQueue, waitForWatermark } from './queue-helpers.js';
import { canon, foldEvents, readAccounts, readOrders, readPositions } from './reconcile.js';

const TRADERS = 60;
const COMMANDS = 12_000;
const SEED = 20261125;

let db: TestDatabase;
let q: TestQueue;
beforeAll(async () => {
  db = await createTestDatabase('exch_engine_flow');
  q = new TestQueue();
});
afterAll(async () => {
  await q?.dispose();
  await db?.drop();
});

/** The engine's own view, with decimals in the database's canonical form for comparison. */
const canonical = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, canon(v)])) as T;

describe('engine -> batcher -> BullMQ -> workers -> PostgreSQL', () => {
  it(`${COMMANDS} seeded commands reconcile exactly with the engine`, async () => {
    const engine = new Engine();
    const { batcher, close } = await createBullOutputBatcher({
      mode: 'durable',
      redisUrl: REDIS_URL,
      queueName: q.name,
      maxDelayMs: 1,
      maxEvents: 2000,
      jobOptions: TEST_JOB_OPTIONS,
    });
    q.worker(db.url);
    q.worker(db.url);
    const all: EngineEvent[] = [];
    let seq = 0;
    let ts = 1_764_000_000_000_000;
    const apply = (body: CommandBody) => {
      seq++;
      ts += 137;
      const cmd = { ...body, seq, ts } as Parameters<Engine['apply']>[0];
      const log = batcher.log;
      const from = log.n;
      engine.applyInto(cmd, log);
      log.toEvents(all, from);
      batcher.push(cmd);
    };
    for (const body of setupCommands(TRADERS)) apply(body);
    const gen = new FlowGenerator(SEED, engine, TRADERS + 2);
    while (seq < COMMANDS) {
      apply(gen.next());
      if (seq % 200 === 0) await new Promise((r) => setImmediate(r)); // let the batcher's timers run
    }
    await batcher.flush();
    await close();
    expect(batcher.releasedSeq).toBe(COMMANDS);
    await waitForWatermark(db.pool, COMMANDS, 30_000);

    const expected = foldEvents(all);
    // The flow must exercise what is being reconciled, or the test proves little.
    expect(expected.trades.length).toBeGreaterThan(500);
    expect(expected.ledger.length).toBeGreaterThan(500);
    expect(expected.positions.size).toBeGreaterThan(TRADERS / 2);
    await expectReconciled(db.pool, expected);

    // And the database against the engine's state itself, not only its events.
    const accounts = await readAccounts(db.pool);
    for (const a of accounts) expect(a).toEqual(canonical(engine.account(a.accountId)!));
    const positions = await readPositions(db.pool);
    const open = positions.filter((p) => p.status === 'OPEN');
    const engineOpen = accounts
      .flatMap((a) => engine.positions(a.accountId))
      .filter((p) => p.status === 'OPEN');
    // Every field, liquidation price included: the engine re-emits an account's open positions whenever the
    // account changes, since a cross-margin liquidation price moves with the balance.
    expect(open).toEqual(engineOpen.map(canonical).sort((x, y) => x.positionId - y.positionId));
    const live = (await readOrders(db.pool)).filter((o) =>
      ['NEW', 'PARTIALLY_FILLED', 'PENDING_TRIGGER'].includes(o.status),
    );
    const engineLive = accounts.flatMap((a) => engine.openOrders(a.accountId));
    expect(live).toEqual(engineLive.map(canonical).sort((x, y) => x.orderId - y.orderId));
  }, 180_000);
});
