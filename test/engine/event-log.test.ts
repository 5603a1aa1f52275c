/**
 * The event log (engine/event-log.ts): records read back as events.ts describes them, whatever the log's
 * size, amounts past 2^53 units and strings included, and a record copied to another log (as a batch job
 * is built) reads the same there.
 */
import { describe, expect, test } from 'vitest';
import type { Command, CommandBody } from '../../engine/commands.js';
import { EventLog, K_LEDGER, L_AMOUNT } from '../../engine/event-log.js';
import type { EngineEvent } from '../../engine/events.js';
import { Engine } from '../../engine/index.js';
import { BTC } from './harness.js';

/** A flow with fills, client order ids and an amount past 2^53 units, into `log` or through apply(). */
function drive(log: EventLog | null): EngineEvent[] {
  const engine = new Engine();
  const events: EngineEvent[] = [];
  const run = (body: CommandBody) => {
    const cmd = { ...body, seq: engine.lastSeq + 1, ts: 1_764_000_000_000_000 + engine.lastSeq } as Command;
    if (log === null) engine.apply(cmd, events);
    else engine.applyInto(cmd, log);
  };
  run(BTC);
  run({ type: 'create_user', name: 'a', email: null });
  run({ type: 'create_user', name: 'b', email: 'b@example.com' });
  for (const userId of [1, 2])
    run({
      type: 'open_account',
      userId,
      currency: 'USD',
      maxLeverage: '20',
      marginEnabled: true,
      autoLiquidation: true,
    });
  run({ type: 'deposit', accountId: 1, amount: '999999999999.99999999' }); // past 2^53 units
  run({ type: 'deposit', accountId: 2, amount: '1000000' });
  const order = { type: 'place_order', symbol: 'BTC-PERP', orderType: 'LIMIT', timeInForce: 'GTC' } as const;
  for (let i = 0; i < 300; i++) {
    const price = String(50000 + (i % 7));
    run({ ...order, accountId: 1, side: 'SELL', price, quantity: '0.5', clientOrderId: `s${i}` });
    run({ ...order, accountId: 2, side: 'BUY', price: String(50000 + (i % 5)), quantity: '0.25' });
  }
  return log === null ? events : log.toEvents();
}

describe('event log', () => {
  test('records read back as the object path gives them, past the first capacity of the log and 2^53', () => {
    const small = new EventLog(16); // grows many times
    const fromRecords = drive(small);
    expect(fromRecords).toEqual(drive(null));
    expect(small.count).toBe(fromRecords.length);
    expect(small.bigs.length).toBeGreaterThan(0);
    const ledger = fromRecords.filter((e) => e.type === 'ledger');
    expect(ledger[0]).toMatchObject({
      amount: '999999999999.99999999',
      balanceAfter: '999999999999.99999999',
    });
    expect(fromRecords.some((e) => e.type === 'order' && e.clientOrderId === 's299')).toBe(true);
  });

  test('a record appended to another log reads the same there, with its own refs and big amounts', () => {
    const log = new EventLog();
    drive(log);
    const copy = new EventLog(8);
    copy.instruments = log.instruments;
    const expected: EngineEvent[] = [];
    // Every third record, so refs and big amounts must be re-pointed.
    let i = 0;
    for (let o = 0; o < log.n; o = log.next(o), i++) {
      if (i % 3 !== 0 && log.kind(o) !== K_LEDGER) continue;
      copy.append(log, o);
      expected.push(log.event(o));
    }
    expect(copy.toEvents()).toEqual(expected);
    expect(copy.refs.length).toBeLessThan(log.refs.length);
    const firstLedger = copy.toEvents().findIndex((e) => e.type === 'ledger');
    expect(firstLedger).toBeGreaterThanOrEqual(0);
    // The big deposit's amount word points into the copy's own bigs.
    let o = 0;
    for (let k = 0; k < firstLedger; k++) o = copy.next(o);
    expect(copy.units(o + L_AMOUNT)).toBe(99999999999999999999n);
  });

  test('a record naming an instrument the reader does not know is refused with a clear error', () => {
    const log = new EventLog();
    drive(log);
    const blind = EventLog.of(log.f.slice(0, log.n), log.refs, log.bigs, []);
    expect(() => blind.toEvents()).toThrow(/no instrument 1/);
  });
});
