/**
 * The persistence benchmarks' load: an engine with the risk core, funded accounts, then rounds of resting
 * makers swept by one taker, so one command makes many fills; sides alternate so positions open, grow,
 * shrink and close (realized PnL rows), and the price wanders. Also the bench's own scratch databases.
 * Used by bench/persistence (the pipeline) and bench/statements (PostgreSQL alone).
 */
import pg from 'pg';
import type { Command, CommandBody } from '../../engine/commands.js';
import { type EventLog, K_TRADE } from '../../engine/event-log.js';
import { Engine } from '../../engine/index.js';
import { benchPerpetual } from './perpetual.js';

export const SYMBOL = 'PBENCH-PERP';
/** benchPerpetual's tick, for the prices of the rounds. */
const TICK = 0.5;

/** A database of the bench's own on the configured server. */
export function sibling(databaseUrl: string, name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(databaseUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: sibling(databaseUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Where the load's commands go, as the sequencer hands them to an output batcher (src/pipeline/types.ts). */
export interface LoadTarget {
  /** The log the next command's events are appended to. */
  readonly log: EventLog;
  push(cmd: Command): void;
}

/** Drives the engine: set-up commands, then rounds of resting makers swept by one taker. */
export class Load {
  readonly engine = new Engine();
  seq = 0;
  fills = 0;
  private round = 0;
  private mid = 100_000; // ticks of 0.5: 50,000

  constructor(
    private readonly accounts: number,
    private readonly makers: number,
    private readonly target: LoadTarget,
  ) {}

  private apply(body: CommandBody, ts: number): void {
    this.seq++;
    const cmd = { ...body, seq: this.seq, ts } as Command;
    const log = this.target.log;
    const from = log.n;
    this.engine.applyInto(cmd, log);
    for (let o = from; o < log.n; o = log.next(o)) if (log.kind(o) === K_TRADE) this.fills++;
    this.target.push(cmd);
  }

  setup(ts: number): void {
    this.apply(benchPerpetual(SYMBOL, 'PB'), ts);
    for (let i = 1; i <= this.accounts; i++) {
      this.apply({ type: 'create_user', name: `bench-${i}`, email: null }, ts);
      this.apply(
        {
          type: 'open_account',
          userId: i,
          currency: 'USD',
          maxLeverage: '20',
          marginEnabled: true,
          autoLiquidation: true,
        },
        ts,
      );
      this.apply({ type: 'deposit', accountId: i, amount: '10000000' }, ts);
    }
    this.apply({ type: 'mark_price', symbol: SYMBOL, price: String(this.mid * TICK) }, ts);
  }

  /** One round: `makers` resting orders at one price, swept by one taker: `makers` fills. */
  step(ts: number): void {
    const r = this.round++;
    const makerSide = r % 2 === 0 ? 'SELL' : 'BUY';
    const takerSide = makerSide === 'SELL' ? 'BUY' : 'SELL';
    // A slow random walk of the price, so positions realize profits and losses.
    this.mid += ((r * 7919) % 5) - 2;
    const price = String((this.mid + (makerSide === 'SELL' ? 1 : -1)) * TICK);
    const base = (r * (this.makers + 1)) % this.accounts;
    let total = 0;
    for (let m = 0; m < this.makers; m++) {
      const lots = 1 + ((r + m) % 5);
      total += lots;
      this.apply(
        {
          type: 'place_order',
          accountId: 1 + ((base + m) % this.accounts),
          symbol: SYMBOL,
          side: makerSide,
          orderType: 'LIMIT',
          timeInForce: 'GTC',
          quantity: (lots / 1000).toFixed(3),
          price,
        },
        ts,
      );
    }
    this.apply(
      {
        type: 'place_order',
        accountId: 1 + ((base + this.makers) % this.accounts),
        symbol: SYMBOL,
        side: takerSide,
        orderType: 'LIMIT',
        timeInForce: 'IOC',
        quantity: (total / 1000).toFixed(3),
        price,
      },
      ts,
    );
    if (r % 500 === 0) this.apply({ type: 'mark_price', symbol: SYMBOL, price: String(this.mid * TICK) }, ts);
  }
}
